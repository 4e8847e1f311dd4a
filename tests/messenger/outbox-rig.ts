/**
 * The production send path without a network or real time: the durable outbox (in-memory
 * store), the `OutboxWorker` and the `Router` over scriptable fake transports, all on one
 * `FakeClock`. Entries are queued the way `Messenger.send` queues them (`commitOutgoing`
 * with an opaque session state), so the worker sees exactly what it sees in production.
 */
import { FakeClock } from '../../src/core/clock.ts';
import { CryptoRuntime, createPreKeyPool, identityFromSeed } from '../../src/core/crypto/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { ContactDirectory } from '../../src/core/messenger/contact-directory.ts';
import type { MessengerContext } from '../../src/core/messenger/context.ts';
import { OutboxWorker } from '../../src/core/messenger/outbox-worker.ts';
import { SerialLane } from '../../src/core/messenger/serial-lane.ts';
import { seededRandom } from '../../src/core/random.ts';
import { createMemoryStore, type ContactRecord, type MessageRecord, type OutboxRecord, type PetrelStore } from '../../src/core/store/index.ts';
import type { DeviceRouting } from '../../src/core/messenger/device-routing.ts';
import type { SignedDeviceList } from '../../src/core/wire/index.ts';
import { Router, type RouterConfig, type Transport } from '../../src/core/transport/index.ts';
import { flush } from '../transport/fakes.ts';

export const START = 1_700_000_000_000;

export interface OutboxRig {
  readonly clock: FakeClock;
  readonly store: PetrelStore;
  readonly metrics: InMemoryMetrics;
  readonly ctx: MessengerContext;
  readonly router: Router;
  readonly worker: OutboxWorker;
  /** Queues one message to contact `n` (1..255) as `Messenger.send` does (kick the worker to send); returns its ids. */
  queue(n: number, body?: string): Promise<{ readonly messageId: string; readonly envelopeId: string; readonly head?: OutboxRecord }>;
  /** Advances the clock `ms` in `step`s, letting every promise settle between steps. */
  run(ms: number, step?: number): Promise<void>;
  message(id: string): Promise<MessageRecord>;
  stop(): void;
}

export const contactIdOf = (n: number): string => 'c'.repeat(62) + n.toString(16).padStart(2, '0');
export const mailboxOf = (n: number): Uint8Array => new Uint8Array(32).fill(n);

/** Hex of a 16-byte id whose last 4 bytes are `n` and first byte `tag` (readable, unique per test). */
function id128(tag: number, n: number): string {
  const b = new Uint8Array(16);
  b[0] = tag;
  new DataView(b.buffer).setUint32(12, n);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** What a rig may add to the worker's context and wiring (linked devices, the stale-set cover). */
export interface OutboxRigExtras {
  /** Contacts stored before the worker's contact directory is loaded. */
  readonly contacts?: readonly ContactRecord[];
  readonly devices?: DeviceRouting;
  readonly staleDevices?: (entry: OutboxRecord, list: SignedDeviceList | undefined) => Promise<void>;
}

export async function outboxRig(transports: readonly Transport[], config: Partial<RouterConfig>, seed = 1, extras: OutboxRigExtras = {}): Promise<OutboxRig> {
  const clock = new FakeClock(START);
  const random = seededRandom(seed);
  const metrics = new InMemoryMetrics();
  const store = createMemoryStore({ now: () => clock.now() });
  const identity = identityFromSeed(new Uint8Array(32).fill(seed & 0xff));
  const ctx: MessengerContext = {
    store,
    clock,
    random,
    crypto: new CryptoRuntime(random),
    metrics,
    log: silentLogger,
    lane: new SerialLane(),
    identity,
    contacts: await (async () => {
      for (const c of extras.contacts ?? []) await store.putContact(c);
      return ContactDirectory.load(store);
    })(),
    pool: createPreKeyPool(identity, random, 0),
    ...(extras.devices ? { devices: extras.devices } : {}),
  };
  const router = new Router(transports, { clock, random, metrics, logger: silentLogger }, config);
  const worker = new OutboxWorker(ctx, router, () => {}, extras.staleDevices);
  const versions = new Map<number, number>();
  let counter = 0;
  return {
    clock,
    store,
    metrics,
    ctx,
    router,
    worker,
    async queue(n, body = `m${counter}`) {
      const i = ++counter;
      const messageId = id128(0xa0, i);
      const envelopeId = id128(0xe0, i);
      const version = versions.get(n) ?? null;
      const { head } = await store.commitOutgoing({
        sessionUpdate: { contactId: contactIdOf(n), expectedVersion: version, state: new Uint8Array([i & 0xff]) },
        message: { id: messageId, contactId: contactIdOf(n), body, sentAt: clock.now() },
        outboxEntry: { envelopeId, contactId: contactIdOf(n), mailbox: mailboxOf(n), envelope: new Uint8Array([0xee, n, i & 0xff]) },
      });
      versions.set(n, (version ?? 0) + 1);
      return { messageId, envelopeId, ...(head ? { head } : {}) };
    },
    async run(ms, step = 100) {
      await flush();
      for (let t = 0; t < ms; t += step) {
        clock.advance(step);
        await flush();
      }
    },
    async message(id) {
      const m = await store.getMessage(id);
      if (!m) throw new Error(`no message ${id}`);
      return m;
    },
    stop() {
      worker.stop();
      router.dispose();
    },
  };
}
