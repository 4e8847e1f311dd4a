/**
 * Whole messengers on one `FakeClock`: the real core (crypto, store, router, outbox
 * worker, session starter, receive pipeline) over the in-memory relay, with seeded
 * randomness, so time-driven behaviour (backoff, budgets, rotation, pruning) runs in
 * milliseconds and a failing seed replays exactly.
 *
 * Identities take seconds to make (a full prekey pool), so `makeIdentity` is called once
 * per file and each device starts from a copy of one in a fresh store.
 */
import { FakeClock } from '../../src/core/clock.ts';
import { createPreKeyPool, generateIdentity, serializePreKeyPool } from '../../src/core/crypto/index.ts';
import { createLogger, RingLogSink } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { Messenger, type MessengerDeps } from '../../src/core/messenger/messenger.ts';
import type { MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { seededRandom, type Random } from '../../src/core/random.ts';
import { createMemoryStore, type IdentityRecord, type PetrelStore, type PetrelStoreOptions } from '../../src/core/store/index.ts';
import { flush } from '../transport/fakes.ts';
import { MemoryRelay } from './memory-relay.ts';

export const WORLD_START = 1_700_000_000_000;

/**
 * Lets pending work finish before the fake clock moves on: promise callbacks, and the
 * WebCrypto jobs (X25519) that complete on Node's thread pool, which a few `setImmediate`
 * turns alone can outrun (fake time would then race ahead of the crypto).
 */
async function settle(): Promise<void> {
  await flush(2);
  await new Promise<void>((r) => setTimeout(r, 0));
  await flush(2);
}

export function makeIdentity(displayName: string, seed: number, oneTimeKeys = 8): IdentityRecord {
  const random = seededRandom(seed);
  const identity = generateIdentity(random);
  const pool = createPreKeyPool(identity, random, oneTimeKeys);
  return { id: 'self', seed: identity.exportSeed(), displayName, createdAt: WORLD_START, preKeyPool: serializePreKeyPool(pool), nextPreKeyId: pool.data.nextId };
}

export interface ClockedDevice {
  readonly messenger: Messenger;
  readonly store: PetrelStore;
  readonly metrics: InMemoryMetrics;
  readonly logs: RingLogSink;
  /** Stops this messenger and starts a new one over the same store (a reload or a crash: the store is all that survives). */
  restart(): Promise<ClockedDevice>;
  state(): MessengerState;
}

export interface DeviceOptions {
  readonly routerConfig?: MessengerDeps['routerConfig'];
  readonly storeOptions?: Partial<PetrelStoreOptions>;
  /** Wraps the store (fault injection). */
  readonly wrapStore?: (store: PetrelStore) => PetrelStore;
}

export class ClockedWorld {
  readonly clock = new FakeClock(WORLD_START);
  readonly random: Random;
  readonly relay: MemoryRelay;

  constructor(seed: number) {
    this.random = seededRandom(seed);
    this.relay = new MemoryRelay(this.clock, seededRandom(seed ^ 0x5eed));
  }

  /** A device with `identity`, in a fresh store, started and online. */
  async device(identity: IdentityRecord, options: DeviceOptions = {}): Promise<ClockedDevice> {
    const base = createMemoryStore({ now: () => this.clock.now(), ...options.storeOptions });
    await base.saveIdentity({ ...identity, seed: identity.seed.slice(), ...(identity.preKeyPool ? { preKeyPool: identity.preKeyPool.slice() } : {}) });
    const store = options.wrapStore ? options.wrapStore(base) : base;
    const d = await this.open(store, options);
    await this.until(() => d.state().connection.kind === 'online');
    return d;
  }

  /** A messenger over an existing store (started; not waited for online). */
  async open(store: PetrelStore, options: DeviceOptions = {}, metrics = new InMemoryMetrics()): Promise<ClockedDevice> {
    const logs = new RingLogSink(500);
    const logger = createLogger(logs.sink, { level: 'info', now: () => this.clock.now() });
    const messenger = new Messenger({
      store,
      createRelay: this.relay.factory,
      clock: this.clock,
      random: this.random,
      metrics,
      logger,
      recentLogs: () => logs.recent(),
      appUrl: 'http://petrel.test/',
      relayUrl: 'ws://relay.test/ws',
      routerConfig: options.routerConfig ?? { backoff: { baseMs: 200, capMs: 2_000 } },
    });
    const start = messenger.start();
    await this.run(0);
    await start;
    const d: ClockedDevice = {
      messenger,
      store,
      metrics,
      logs,
      state: () => messenger.getState(),
      restart: async () => {
        await messenger.stop();
        return this.open(store, options, metrics);
      },
    };
    return d;
  }

  /** Advances the clock `ms` in `step`s, letting every promise settle between steps. */
  async run(ms: number, step = 50): Promise<void> {
    await settle();
    for (let t = 0; t < ms; t += step) {
      this.clock.advance(Math.min(step, ms - t));
      await settle();
    }
  }

  /** Runs the clock until `done()` holds; throws after `maxMs` of fake time. */
  async until(done: () => boolean | Promise<boolean>, maxMs = 120_000, step = 50): Promise<void> {
    for (let t = 0; t <= maxMs; t += step) {
      if (await done()) return;
      await this.run(step, step);
    }
    throw new Error(`not reached within ${maxMs} ms of fake time`);
  }

  /** Runs the clock until `p` settles, at most `maxMs`; its value (or throws what it threw, or that it did not settle). */
  async drive<T>(p: Promise<T>, maxMs: number): Promise<T> {
    let out: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    p.then(
      (value) => (out = { ok: true, value }),
      (error: unknown) => (out = { ok: false, error }),
    );
    await this.until(() => out !== undefined, maxMs);
    if (!out!.ok) throw out!.error;
    return out!.value;
  }
}

/** Introduces two devices through their invites (each adds the other). */
export async function befriend(a: ClockedDevice, b: ClockedDevice): Promise<{ aSeesB: string; bSeesA: string }> {
  const aSeesB = await a.messenger.addContact(a.messenger.parseInvite(b.state().me!.inviteUrl)!);
  const bSeesA = await b.messenger.addContact(b.messenger.parseInvite(a.state().me!.inviteUrl)!);
  return { aSeesB, bSeesA };
}

export async function bodies(d: ClockedDevice, contactId: string): Promise<string[]> {
  const page = await d.store.pageMessages(contactId, { limit: 200 });
  return page.messages.map((m) => `${m.direction}:${m.body}`);
}
