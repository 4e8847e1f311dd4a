/**
 * Group members in one Node process, each with its own identity, in-memory store and
 * Groups (src/core/messenger/groups.ts), with real crypto, joined by a network double:
 * every device has one mailbox where pairwise group frames (as its Double Ratchet
 * session would carry them: the sending account and device are known) and `send.multi`
 * deposits arrive in order. A device that is offline keeps its mailbox filling up and
 * reads it when it comes back. The double records every multi deposit, so a test can
 * hand a removed member a ciphertext it was not sent.
 */
import { toHex } from '../../src/core/bytes.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { CryptoRuntime, generateIdentity, type Identity } from '../../src/core/crypto/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { secureRandom } from '../../src/core/random.ts';
import { createMemoryStore, type PetrelStore } from '../../src/core/store/index.ts';
import { Groups } from '../../src/core/messenger/groups.ts';
import { KeyChangeUnacknowledgedError, NoSessionError } from '../../src/core/messenger/errors.ts';
import { SINGLE_DEVICE, type MemberDevice } from '../../src/core/messenger/group-ports.ts';

type Item = { readonly kind: 'pairwise'; readonly from: MemberDevice; readonly frame: Uint8Array } | { readonly kind: 'multi'; readonly id: Uint8Array; readonly body: Uint8Array };

export interface Member {
  readonly name: string;
  readonly identity: Identity;
  readonly id: string;
  readonly store: PetrelStore;
  readonly metrics: InMemoryMetrics;
  readonly groups: Groups;
  readonly contacts: Map<string, string>;
  online: boolean;
  /** Accounts whose key change waits for acknowledgement (what the contact rows say in the core), and since when. */
  readonly keyChanges: Map<string, number>;
  /** Drop pairwise frames to this member (to test a missing key). */
  losePairwise: boolean;
  /** Accounts whose key change this member has not acknowledged: pairwise frames to them are refused, as group-wiring.ts does. */
  readonly refuseFor: Set<string>;
  /** Accounts with no session yet (one being started): `sendOverSession` to them rejects at once; `sendPairwise` still queues (delivered here). */
  readonly noSession: Set<string>;
  readonly inbox: Item[];
}

export class GroupWorld {
  readonly clock = new FakeClock();
  readonly members = new Map<string, Member>();
  /** Every multi deposit made (id hex → body and who it went to). */
  readonly deposits: { id: string; body: Uint8Array; to: string[] }[] = [];
  private readonly crypto = new CryptoRuntime(secureRandom);

  add(name: string): Member {
    const identity = generateIdentity(secureRandom);
    const id = toHex(identity.publicKey);
    const metrics = new InMemoryMetrics();
    const store = createMemoryStore({ now: () => this.clock.now() });
    const contacts = new Map<string, string>();
    const pairwise = async (to: MemberDevice, frame: Uint8Array): Promise<void> => {
      if (member.refuseFor.has(to.account)) throw new KeyChangeUnacknowledgedError('the member device waits for its key change to be acknowledged');
      const target = this.members.get(to.account);
      if (!target || target.losePairwise) return;
      target.inbox.push({ kind: 'pairwise', from: { account: id, device: SINGLE_DEVICE }, frame: frame.slice() });
    };
    const member: Member = {
      name,
      identity,
      id,
      store,
      metrics,
      contacts,
      keyChanges: new Map(),
      online: true,
      losePairwise: false,
      refuseFor: new Set(),
      noSession: new Set(),
      inbox: [],
      groups: new Groups({
        store: store.groups,
        identity,
        crypto: this.crypto,
        random: secureRandom,
        clock: this.clock,
        metrics,
        log: silentLogger,
        ports: {
          thisDevice: SINGLE_DEVICE,
          devicesOf: async (account) => (this.members.has(account) ? [SINGLE_DEVICE] : []),
          sendPairwise: (to, frame) => pairwise(to, frame),
          sendOverSession: async (to, frame) => {
            if (member.noSession.has(to.account)) throw new NoSessionError('no session with the member device yet (one is being started)');
            await pairwise(to, frame);
          },
          sendMulti: async (envId, to, body) => {
            this.deposits.push({ id: toHex(envId), body: body.slice(), to: to.map((t) => t.account) });
            for (const t of to) this.members.get(t.account)?.inbox.push({ kind: 'multi', id: envId.slice(), body: body.slice() });
          },
          contactName: (account) => contacts.get(account),
          profileName: (account) => contacts.get(account),
          isContact: (account) => contacts.has(account),
          ownName: () => name,
          keyChanges: () => member.keyChanges,
        },
      }),
    };
    this.members.set(id, member);
    return member;
  }

  /** Each knows the others as contacts. */
  befriend(...ms: Member[]): void {
    for (const a of ms) for (const b of ms) if (a !== b) a.contacts.set(b.id, b.name);
  }

  /** Delivers every mailbox of every online member until nothing moves. */
  async settle(): Promise<void> {
    for (let round = 0; round < 1_000; round++) {
      let moved = false;
      for (const m of this.members.values()) {
        if (!m.online) continue;
        while (m.inbox.length) {
          const item = m.inbox.shift()!;
          moved = true;
          if (item.kind === 'pairwise') await m.groups.receiveControl(item.from, item.frame);
          else await m.groups.receiveEnvelope(item.id, item.body);
        }
      }
      if (!moved) return;
    }
    throw new Error('the network never settled');
  }

  /** The texts a member's chat with the group shows (system lines marked). */
  static async texts(m: Member, groupId: string): Promise<string[]> {
    return (await m.groups.messages(groupId)).map((v) => (v.system ? `* ${v.text}` : v.direction === 'out' ? `me: ${v.text}` : `${v.senderName}: ${v.text}`));
  }

  /** Only the messages (no system lines), as "sender: text". */
  static async said(m: Member, groupId: string): Promise<string[]> {
    return (await GroupWorld.texts(m, groupId)).filter((t) => !t.startsWith('* '));
  }
}
