/**
 * When to ask the direct (WebRTC) path for a channel: to every contact we share a session
 * with when the relay comes online or a session starts (`connectAll`), and to a contact
 * whose new message just committed, since it is online now (`noticeActiveContacts`; only
 * messages newer than the last one seen count, so history does not look like a sign of
 * life). Signaling needs the relay, so nothing is asked while it is not online.
 */
import type { PetrelStore } from '../store/index.ts';
import { mailboxAddress } from '../wire/index.ts';
import type { ContactDirectory } from './contact-directory.ts';
import type { DirectPath } from './direct-path.ts';

export interface DirectPolicyDeps {
  readonly store: PetrelStore;
  readonly contacts: ContactDirectory;
  readonly relay: { isOnline(): boolean };
  readonly direct: DirectPath;
}

export class DirectPathPolicy {
  /** The newest incoming message id per contact, as last seen by `noticeActiveContacts`. */
  private readonly lastHeardFrom = new Map<string, string>();
  private stopped = false;

  constructor(private readonly deps: DirectPolicyDeps) {}

  /** Remembers who wrote to us last, so only new messages count as a sign of life. */
  async seed(): Promise<void> {
    for (const c of await this.deps.store.listConversations().catch(() => [])) {
      if (c.lastMessage?.direction === 'in') this.lastHeardFrom.set(c.contactId, c.lastMessage.messageId);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Asks the direct path for channels to every contact we share a session with. */
  connectAll(): void {
    const { store, contacts, relay, direct } = this.deps;
    if (this.stopped || !relay.isOnline()) return;
    void (async () => {
      for (const c of contacts.all()) {
        if (this.stopped) return;
        if (await store.getSession(c.id).catch(() => undefined)) direct.connect(c.id, mailboxAddress(c.identityKey));
      }
    })();
  }

  /** Contacts whose new messages just committed are online now: tell the direct path. */
  async noticeActiveContacts(): Promise<void> {
    const { store, contacts, relay, direct } = this.deps;
    if (this.stopped || !relay.isOnline()) return;
    const conversations = await store.listConversations().catch(() => []);
    const open = new Set(direct.openChannels());
    for (const c of conversations) {
      const last = c.lastMessage;
      if (!last || last.direction !== 'in' || this.lastHeardFrom.get(c.contactId) === last.messageId) continue;
      this.lastHeardFrom.set(c.contactId, last.messageId);
      const contact = contacts.byId(c.contactId);
      if (contact && !open.has(contact.id)) direct.contactActive(contact.id, mailboxAddress(contact.identityKey));
    }
  }
}
