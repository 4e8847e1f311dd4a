/**
 * Everything below the app header: the status bar (connection, Diagnostics), the view
 * for the messenger's phase, dialogs, and the live region announcing incoming
 * messages. Give it the messenger (`<Shell messenger={m} />`) or put it under a
 * `<MessengerProvider>`. By default it lays itself out below an existing header; pass
 * `frame` to put its slots into the page's own frame instead.
 */
import { useEffect, useState } from 'react';
import type { MessengerApi, MessengerState } from '../core/messenger/messenger-api.ts';
import { readInviteUrl } from '../core/messenger/invite.ts';
import { ConnectionStatus } from './components/ConnectionStatus.tsx';
import { OwnShellFrame, type ShellFrame } from './components/ShellFrame.tsx';
import { useChatRoute } from './hooks/useChatRoute.ts';
import { useIncomingAnnouncement } from './hooks/useIncomingAnnouncement.ts';
import { useHiddenTabNotifications } from './hooks/useHiddenTabNotifications.ts';
import { usePushSync } from './hooks/usePush.ts';
import { SettingsDialog } from './views/settings/SettingsDialog.tsx';
import { LinkedDevicesDialog } from './views/devices/LinkedDevicesDialog.tsx';
import { BackupDialog } from './views/backup/BackupDialog.tsx';
import { deviceLinkFromInput, deviceLinkFromUrl } from './views/devices/device-link-url.ts';
import { ScanInviteDialog } from './views/scan/ScanInviteDialog.tsx';
import { DeleteForEveryoneDialog } from './views/chat/DeleteForEveryoneDialog.tsx';
import { MessengerProvider, useMessenger, useMessengerState } from './messenger-context.tsx';
import { UiStoreContext, createUiStore, useUi, useUiStore, type DraftPersistence } from './ui-store.ts';
import { ChatPane, ConversationsSidebar, useConversationsLayout } from './views/Conversations.tsx';
import { DiagnosticsDialog } from './views/diagnostics/DiagnosticsDialog.tsx';
import { Onboarding } from './views/Onboarding.tsx';
import { FollowerNotice } from './views/status/FollowerNotice.tsx';
import { PersistenceNotice } from './views/status/PersistenceNotice.tsx';
import { BackupReminder } from './views/status/BackupReminder.tsx';
import { StorageBanner } from './views/status/StorageBanner.tsx';
import { StorageFailed } from './views/status/StorageFailed.tsx';
import { SafetyNumberDialog } from './views/verify/SafetyNumberDialog.tsx';
import { DeleteConversationDialog } from './views/contact/DeleteConversationDialog.tsx';
import { RenameContactDialog } from './views/contact/RenameContactDialog.tsx';
import { NewGroupDialog } from './views/groups/NewGroupDialog.tsx';
import { GroupInfoDialog } from './views/groups/GroupInfoDialog.tsx';
import { MessageDetailsDialog } from './views/groups/MessageDetailsDialog.tsx';
import { INVITE_LINK_DAMAGED } from './views/invite/invite-text.ts';
import { adoptLinkedTheme } from './theme.ts';
import './components/view-tokens.css';
import './components/visually-hidden.css';
import './views/status/phase.css';
import './Shell.css';
import { openConversation } from './hooks/open-conversation.ts';

export type { ShellFrame, ShellFrameProps } from './components/ShellFrame.tsx';

const selectPhase = (s: MessengerState) => s.phase;
const selectMe = (s: MessengerState) => s.me;
const selectStorageState = (s: MessengerState) => s.storage.state;
const selectLinking = (s: MessengerState) => s.linking;
const selectUnlinked = (s: MessengerState) => s.unlinked === true;

/** A device link in the address bar (`#link=…`, on load or when the fragment changes), then removed from it (it carries a secret). */
function useDeviceLinkFromLocation(): string | undefined {
  const [link, setLink] = useState(() => deviceLinkFromUrl(window.location.href));
  useEffect(() => {
    const take = () => {
      const found = deviceLinkFromUrl(window.location.href);
      if (!found) return;
      setLink(found);
      window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
    };
    take();
    window.addEventListener('hashchange', take);
    return () => window.removeEventListener('hashchange', take);
  }, []);
  return link;
}

export interface ShellProps {
  /** The messenger; omit it when a `<MessengerProvider>` above already provides one. */
  readonly messenger?: MessengerApi;
  /** Lays out the status bar, sidebar and main pane; defaults to the Shell's own frame. */
  readonly frame?: ShellFrame;
  /** Keeps drafts beyond the page (the app passes Web Storage); memory only without it. */
  readonly drafts?: DraftPersistence;
}

export function Shell({ messenger, frame = OwnShellFrame, drafts }: ShellProps) {
  const [ui] = useState(() => createUiStore(drafts));
  const body = (
    <UiStoreContext.Provider value={ui}>
      <ShellBody Frame={frame} />
    </UiStoreContext.Provider>
  );
  return messenger ? <MessengerProvider messenger={messenger}>{body}</MessengerProvider> : body;
}

/** Takes an invite from the address bar (on load and when the fragment changes), then removes it. */
function useInviteFromLocation(): void {
  const messenger = useMessenger();
  const ui = useUiStore();
  useEffect(() => {
    const take = () => {
      const invite = messenger.parseInvite(window.location.href);
      // A `#invite=` that is not a valid invite (damaged, cut short, garbage) is said so, not ignored.
      if (invite) ui.getState().reviewInvite(invite);
      else if (readInviteUrl(window.location.href).kind === 'invalid') ui.getState().showInviteProblem(INVITE_LINK_DAMAGED);
      else return;
      ui.getState().showPane('chat');
      // The fragment names who invited us: keep it out of history and bookmarks.
      window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
    };
    take();
    window.addEventListener('hashchange', take);
    return () => window.removeEventListener('hashchange', take);
  }, [messenger, ui]);
}

function StatusBar() {
  const ui = useUiStore();
  const phase = useMessengerState(selectPhase);
  const me = useMessengerState(selectMe);
  const storageState = useMessengerState(selectStorageState);
  return (
    <>
      <ConnectionStatus />
      {phase === 'ready' && me && (
        <button type="button" className="shell-diagnostics" onClick={() => ui.getState().openDialog({ kind: 'devices' })}>
          Linked devices
        </button>
      )}
      {phase === 'ready' && me && (
        <button type="button" className="shell-diagnostics" onClick={() => ui.getState().openDialog({ kind: 'backup' })}>
          Back up
        </button>
      )}
      <button type="button" className="shell-diagnostics" onClick={() => ui.getState().openDialog({ kind: 'settings' })}>
        Settings
      </button>
      <button type="button" className="shell-diagnostics" onClick={() => ui.getState().openDialog({ kind: 'diagnostics' })}>
        Diagnostics
      </button>
      {/* Phase `failed` explains the storage problem on its own screen. */}
      {phase !== 'failed' && <StorageBanner state={storageState} />}
      {(phase === 'ready' || phase === 'follower') && <PersistenceNotice />}
      {phase === 'ready' && me && <BackupReminder />}
    </>
  );
}

function ShellBody({ Frame }: { readonly Frame: ShellFrame }) {
  const messenger = useMessenger();
  const ui = useUiStore();
  const phase = useMessengerState(selectPhase);
  const me = useMessengerState(selectMe);
  const storageState = useMessengerState(selectStorageState);
  const dialog = useUi((s) => s.dialog);
  const pendingInvite = useUi((s) => s.pendingInvite);
  const layout = useConversationsLayout();
  const linking = useMessengerState(selectLinking);
  const unlinked = useMessengerState(selectUnlinked);
  const linkFromUrl = useDeviceLinkFromLocation();
  const announcement = useIncomingAnnouncement();
  useHiddenTabNotifications();
  usePushSync();
  useInviteFromLocation();
  useChatRoute();
  const closeDialog = () => ui.getState().closeDialog();
  // The deleted conversation's chat closes; the list shows (on a phone too) and takes focus.
  const conversationDeleted = () => {
    closeDialog();
    ui.getState().showPane('list');
    ui.getState().requestFocus({ kind: 'list' });
    openConversation(messenger, ui, undefined);
  };

  const conversations = (phase === 'ready' || phase === 'follower') && me !== undefined;
  const follower = phase === 'follower' && <FollowerNotice />;
  let main;
  if (phase === 'loading') main = <p className="loading-notice">Opening Petrel…</p>;
  else if (phase === 'failed') main = <StorageFailed state={storageState} />;
  // Another tab leads but has no identity yet (or has not told us): onboarding happens there.
  else if (phase === 'follower' && me === undefined) main = follower;
  else if (!conversations)
    main = (
      <Onboarding
        onCreate={(name) => messenger.createIdentity(name).then(() => ui.getState().requestFocus({ kind: 'identity-created' }))}
        invitedBy={pendingInvite?.displayName}
        onLink={(text) => messenger.linkThisDevice(deviceLinkFromInput(text)).then(() => adoptLinkedTheme())}
        initialLink={linkFromUrl}
        linking={linking}
        onRestore={(backup, secret) => messenger.restoreFromBackup(backup, secret)}
        onRestoreFromRelay={(key) => messenger.restoreFromRelay(key)}
      />
    );
  else
    main = (
      <>
        {unlinked && (
          <p role="alert" className="shell-unlinked">
            This device was unlinked from your account. It no longer sends or receives messages; what it holds stays readable here.
          </p>
        )}
        {layout.pane === 'chat' && follower}
        <ChatPane layout={layout} />
      </>
    );
  const sidebar = conversations ? (
    <>
      {layout.pane === 'list' && follower}
      <ConversationsSidebar me={me} />
    </>
  ) : undefined;

  return (
    <>
      <div className="shell-scope" inert={dialog.kind !== 'none'}>
        <Frame statusBar={<StatusBar />} sidebar={sidebar} pane={layout.pane}>
          {main}
        </Frame>
      </div>
      <div className="visually-hidden" aria-live="polite" aria-atomic="true">
        {announcement.seq > 0 && <p key={announcement.seq}>{announcement.text}</p>}
      </div>
      {dialog.kind === 'diagnostics' && <DiagnosticsDialog onClose={closeDialog} />}
      {dialog.kind === 'settings' && <SettingsDialog onClose={closeDialog} />}
      {dialog.kind === 'devices' && <LinkedDevicesDialog onClose={closeDialog} />}
      {dialog.kind === 'scan-invite' && <ScanInviteDialog onClose={closeDialog} />}
      {dialog.kind === 'delete-for-everyone' && <DeleteForEveryoneDialog messageId={dialog.messageId} onClose={closeDialog} />}
      {dialog.kind === 'backup' && <BackupDialog onClose={closeDialog} />}
      {dialog.kind === 'safety-number' && <SafetyNumberDialog contactId={dialog.contactId} onClose={closeDialog} />}
      {dialog.kind === 'rename-contact' && <RenameContactDialog contactId={dialog.contactId} onClose={closeDialog} />}
      {dialog.kind === 'delete-conversation' && <DeleteConversationDialog contactId={dialog.contactId} onClose={closeDialog} onDeleted={conversationDeleted} />}
      {dialog.kind === 'new-group' && <NewGroupDialog onClose={closeDialog} />}
      {dialog.kind === 'group-info' && <GroupInfoDialog groupId={dialog.groupId} onClose={closeDialog} />}
      {dialog.kind === 'message-details' && <MessageDetailsDialog messageId={dialog.messageId} onClose={closeDialog} />}
    </>
  );
}
