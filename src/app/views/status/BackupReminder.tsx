import { useState } from 'react';
import type { MessengerState } from '../../../core/messenger/messenger-api.ts';
import { useMessengerState } from '../../messenger-context.tsx';
import { useUiStore } from '../../ui-store.ts';

const selectRemind = (s: MessengerState) => s.backup?.remind === true;

/**
 * The reminder of issue 17: after seven days on this device with no backup and no second
 * device (the core's `backup.remind`, backup-reminder.ts), says what is at stake and offers
 * the backup view. Hidden for the rest of the page once dismissed.
 */
export function BackupReminder() {
  const remind = useMessengerState(selectRemind);
  const ui = useUiStore();
  const [dismissed, setDismissed] = useState(false);
  if (!remind || dismissed) return null;
  return (
    <div className="storage-banner backup-reminder" role="status">
      <p>You have no backup and no other device. If this browser loses its data, your messages and contacts are gone.</p>
      <button type="button" onClick={() => ui.getState().openDialog({ kind: 'backup' })}>
        Back up now
      </button>
      <button type="button" onClick={() => setDismissed(true)}>
        Not now
      </button>
    </div>
  );
}
