/**
 * When to ask the direct (WebRTC) path for channels: to every device of every contact we
 * share a session with when the relay comes online or a session starts (`connectAll`), and
 * to the devices of a contact whose new message just committed, since it is online now
 * (`noticeActiveContacts`; only messages newer than the last one seen count, so history
 * does not look like a sign of life). A channel is per device (direct-path.ts): a contact
 * with linked devices gets one per device we have a session with. Signaling needs the
 * relay, so nothing is asked while it is not online.
 */
import type { PetrelStore } from '../store/index.ts';
import { sessionKey } from '../store/session-key.ts';
import { mailboxAddress } from '../wire/index.ts';
import type { ContactDirectory } from './contact-directory.ts';
import type { DirectPath, DirectPeer } from './direct-path.ts';

/** One device of a contact as the fan-out addresses it: its id (hex; absent for a single-device contact) and mailbox. */
export interface DirectTarget {
  readonly device?: string;
  readonly mailbox: Uint8Array;
}

export interface DirectPolicyDeps {
  readonly store: PetrelStore;
  readonly contacts: ContactDirectory;
  readonly relay: { isOnline(): boolean };
  readonly direct: DirectPath;
  /** The contact's devices (its verified list), or its account mailbox alone (default) for a single-device contact. */
  readonly devicesOf?: (identityKey: Uint8Array) => Promise<readonly DirectTarget[]>;
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

  /** Asks the direct path for channels to every device of every contact we share a session with. */
  connectAll(): void {
    const { contacts, relay, direct } = this.deps;
    if (this.stopped || !relay.isOnline()) return;
    void (async () => {
      for (const c of contacts.all()) {
        for (const t of await this.withSessions(c.id, c.identityKey)) {
          if (this.stopped) return;
          direct.connect(t.peer, t.mailbox);
        }
      }
    })();
  }

  /** Contacts whose new messages just committed are online now: tell the direct path, for each of their devices without an open channel. */
  async noticeActiveContacts(): Promise<void> {
    const { store, contacts, relay, direct } = this.deps;
    if (this.stopped || !relay.isOnline()) return;
    const conversations = await store.listConversations().catch(() => []);
    const open = new Set(direct.openChannels().map(peerKey));
    for (const c of conversations) {
      const last = c.lastMessage;
      if (!last || last.direction !== 'in' || this.lastHeardFrom.get(c.contactId) === last.messageId) continue;
      this.lastHeardFrom.set(c.contactId, last.messageId);
      const contact = contacts.byId(c.contactId);
      if (!contact) continue;
      for (const t of await this.withSessions(contact.id, contact.identityKey)) if (!open.has(peerKey(t.peer))) direct.contactActive(t.peer, t.mailbox);
    }
  }

  /** The contact's devices we share a session with (signaling is encrypted with it). */
  private async withSessions(contactId: string, identityKey: Uint8Array): Promise<{ peer: DirectPeer; mailbox: Uint8Array }[]> {
    const { store, devicesOf } = this.deps;
    const targets = (await devicesOf?.(identityKey).catch(() => undefined)) ?? [{ mailbox: mailboxAddress(identityKey) }];
    const out: { peer: DirectPeer; mailbox: Uint8Array }[] = [];
    for (const t of targets) {
      if (!(await store.getSession(sessionKey(contactId, t.device)).catch(() => undefined))) continue;
      out.push({ peer: { contactId, ...(t.device !== undefined ? { device: t.device } : {}) }, mailbox: t.mailbox });
    }
    return out;
  }
}

function peerKey(p: DirectPeer): string {
  return p.device === undefined ? p.contactId : `${p.contactId}/${p.device}`;
}
