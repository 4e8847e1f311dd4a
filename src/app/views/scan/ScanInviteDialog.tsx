import { Dialog } from '../../components/Dialog.tsx';
import { useMessenger } from '../../messenger-context.tsx';
import { useUiStore } from '../../ui-store.ts';
import { QrScanner } from './QrScanner.tsx';

/** Scan QR code: adds a contact from their invite QR code (the same review as opening their link). */
export function ScanInviteDialog({ onClose }: { readonly onClose: () => void }) {
  const messenger = useMessenger();
  const ui = useUiStore();
  const onText = async (text: string) => {
    const invite = messenger.parseInvite(text.trim());
    if (!invite) return 'That code is not a Petrel invite. Ask them for the QR code under “Your invite”.';
    onClose();
    ui.getState().reviewInvite(invite);
    ui.getState().showPane('chat');
    return undefined;
  };
  return (
    <Dialog title="Scan an invite QR code" onClose={onClose}>
      <QrScanner target="their invite QR code (under “Your invite” in their Petrel)" onText={onText} />
    </Dialog>
  );
}
