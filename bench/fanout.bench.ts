/**
 * Fan-out cost (issue 16 goal): one message from a sender with 3 devices to a contact with
 * 3 devices is 5 copies (the contact's 3 devices and the sender's 2 others), each its own
 * ratchet encryption and sealed box, committed together (`commitFanOut`). Measured through
 * the messenger's compose path (`enqueueOutgoing`) on the in-memory store, against the
 * same path to a single-device contact (one copy, `commitOutgoing`). Goal: ≤ 6× the
 * single-device send. The relay side is one deposit per copy (a relay `send` each).
 */
import { toHex } from '../src/core/bytes.ts';
import { buildPublishedBundle, createPreKeyPool, generateIdentity, initiateSession, verifyFetchedBundle, type Identity } from '../src/core/crypto/index.ts';
import type { FanOutTarget } from '../src/core/devices/fan-out.ts';
import { generateDeviceId } from '../src/core/devices/device-id.ts';
import { enqueueOutgoing, type ComposeDeps } from '../src/core/messenger/compose.ts';
import { outgoingContent } from '../src/core/messenger/message-content.ts';
import { SerialLane } from '../src/core/messenger/serial-lane.ts';
import { encodeSessionSet, sessionSetOf } from '../src/core/messenger/session-set.ts';
import { secureRandom } from '../src/core/random.ts';
import { createMemoryStore, type PetrelStore } from '../src/core/store/index.ts';
import { sessionKey } from '../src/core/store/session-key.ts';
import { deviceMailboxAddress, mailboxAddress } from '../src/core/wire/index.ts';
import { benchRuntime } from './crypto/petrel.ts';
import { median, rounds, row } from './stats.ts';
import type { BenchResult, Benchmark } from './types.ts';

const FULL = { sends: 200, warmup: 1, rounds: 5 };
const QUICK = { sends: 5, warmup: 0, rounds: 1 };

async function sessionWith(store: PetrelStore, me: Identity, them: Identity, key: string): Promise<void> {
  const pub = buildPublishedBundle(them, createPreKeyPool(them, secureRandom, 1));
  const fetched = { ik: pub.ik, spk: pub.spk, pq: { ...pub.pqopks[0]!, lastResort: false }, opk: pub.opks[0]! };
  const { state } = await initiateSession(me, await verifyFetchedBundle(fetched), benchRuntime());
  await store.commitSession({ contactId: key, expectedVersion: null, state: encodeSessionSet(sessionSetOf(state)) });
}

/** A sender and a contact; `devices` = 1: single-device both, else that many devices each. */
async function world(devices: number) {
  const me = generateIdentity(secureRandom);
  const contact = generateIdentity(secureRandom);
  const store = createMemoryStore({ now: () => Date.now() });
  const contactId = toHex(contact.publicKey);
  const targets: FanOutTarget[] = [];
  if (devices === 1) {
    await sessionWith(store, me, contact, contactId);
  } else {
    for (let i = 0; i < devices; i++) {
      const id = generateDeviceId(secureRandom);
      await sessionWith(store, me, contact, sessionKey(contactId, toHex(id)));
      targets.push({ account: contact.publicKey, deviceId: id, mailbox: deviceMailboxAddress(contact.publicKey, id), own: false });
    }
    for (let i = 1; i < devices; i++) {
      const id = generateDeviceId(secureRandom);
      await sessionWith(store, me, me, sessionKey(toHex(me.publicKey), toHex(id)));
      targets.push({ account: me.publicKey, deviceId: id, mailbox: deviceMailboxAddress(me.publicKey, id), own: true });
    }
  }
  const deps: ComposeDeps = {
    store,
    lane: new SerialLane(),
    identity: me,
    crypto: benchRuntime(),
    random: secureRandom,
    ...(devices === 1 ? {} : { devices: { sealDevice: generateDeviceId(secureRandom), targets: async () => targets, listVersion: async () => 1, names: async () => true, wasListed: async () => false, refetch: () => {}, fetchList: async () => true, list: async () => undefined } }),
  };
  return { deps, contactId, contactKey: contact.publicKey };
}

/** Sends per second through the compose path (encrypt every copy, commit them together). */
async function sendRate(devices: number, sends: number): Promise<number> {
  const { deps, contactId, contactKey } = await world(devices);
  const start = performance.now();
  for (let i = 0; i < sends; i++) {
    const id = toHex(secureRandom.bytes(16));
    const sentAt = Date.now();
    await enqueueOutgoing(deps, { contactId, contactKey, mailbox: mailboxAddress(contactKey), id, body: 'fan-out bench', sentAt, content: outgoingContent({ id, sentAt, body: 'fan-out bench' }) });
  }
  return sends / ((performance.now() - start) / 1000);
}

const benchmark: Benchmark = {
  name: 'fanout',
  title: 'Fan-out: a send to a 3-device contact from a 3-device sender vs a single-device send',
  async run(opts): Promise<BenchResult> {
    const sizes = opts.quick ? QUICK : FULL;
    const single = await rounds(sizes, () => sendRate(1, sizes.sends));
    const fanned = await rounds(sizes, () => sendRate(3, sizes.sends));
    const ratio = median(single) / median(fanned);
    return {
      name: 'fanout',
      title: this.title,
      rows: [row('single-device → single-device (1 copy)', `compose ${sizes.sends} sends`, 'sends/s', single), row('3 devices → 3 devices (5 copies)', `compose ${sizes.sends} sends`, 'sends/s', fanned)],
      goals: [{ description: '3 devices → 3 devices costs ≤ 6× a single-device send', met: ratio <= 6, measured: `${ratio.toFixed(2)}× (${median(fanned).toFixed(0)} vs ${median(single).toFixed(0)} sends/s)` }],
      notes: [
        'Compose path of the messenger (src/core/messenger/compose.ts, fan-out-compose.ts) on the in-memory store, sessions established beforehand: each copy is one Double Ratchet encryption and one sealed box; all copies, the row and the advanced sessions are one transaction.',
        'Relay cost: one `send` deposit per copy (one upload per device), each an ordinary envelope: 5 deposits for 3 → 3 against 1.',
      ],
    };
  },
};

export default benchmark;
