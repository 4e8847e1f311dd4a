/** What a conversation view (1:1 or group) reads of the messenger's state. */
import type { ChatWindow, MessengerState } from '../../../core/messenger/messenger-api.ts';

export const selectChat = (s: MessengerState): ChatWindow | undefined => s.chat;
/** Another tab hosts the core: this one mirrors it. */
export const selectFollower = (s: MessengerState) => s.phase === 'follower';
/** Another device removed this one from the account: it neither sends nor receives. */
export const selectUnlinked = (s: MessengerState) => s.unlinked === true;
/** The storage connection is gone (closed, or taken by a newer version): nothing can be queued. */
export const selectStorageGone = (s: MessengerState) => s.storage.state === 'closed' || s.storage.state === 'version_changed';
