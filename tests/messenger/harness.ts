/**
 * Two (or more) complete messaging cores in one Node process: the real crypto, the
 * store's in-memory backend, the WebSocket relay transport over the `ws` client, and
 * the real relay on loopback with a temp data dir.
 */
import { afterEach, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { systemClock } from '../../src/core/clock.ts';
import { createLogger, RingLogSink } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { secureRandom } from '../../src/core/random.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import type { PetrelStore } from '../../src/core/store/index.ts';
import type { Logger } from '../../src/core/log.ts';
import { Messenger, type MessengerDeps } from '../../src/core/messenger/messenger.ts';
import type { MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { WsRelayTransport, type RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { startTestRelay, type TestRelay } from '../relay/helpers/relay-harness.ts';

export interface Device {
  readonly messenger: Messenger;
  readonly store: PetrelStore;
  readonly metrics: InMemoryMetrics;
  readonly logs: RingLogSink;
  /** Stops this core (the store survives, like IndexedDB across a reload). */
  stop(): Promise<void>;
  /** A new core over the same store: a page reload. */
  reload(): Promise<Device>;
}

/** What a test adds to a device: other router settings, a direct path sharing its metrics and log. */
export interface DeviceOptions {
  readonly routerConfig?: MessengerDeps['routerConfig'];
  readonly createDirect?: (shared: { readonly metrics: InMemoryMetrics; readonly logger: Logger }) => MessengerDeps['createDirect'];
  /** The relay socket class (default: the `ws` client); a test may record what crosses it. */
  readonly WebSocket?: RelaySocketConstructor;
  /** HTTP to the relay's /blobs endpoints (attachments); without it files cannot be sent. */
  readonly blobHttp?: MessengerDeps['blobHttp'];
  /** How long copies for a device without keys wait for them (default: the product's). */
  readonly unpublishedDeviceWaitMs?: number;
  /** The account's settings outside the core (theme, notification content) that a device link carries. */
  readonly accountSettings?: MessengerDeps['accountSettings'];
  /** How long an envelope from a device its sender's list does not name waits for a list fetch (default: the product's). */
  readonly deviceHoldMaxMs?: number;
  /** How long the relay transport waits for a request's answer (default: the product's). */
  readonly requestTimeoutMs?: number;
}

export function device(relayUrl: string, store: PetrelStore = createMemoryStore({ now: () => Date.now() }), options: DeviceOptions = {}): Device {
  const metrics = new InMemoryMetrics();
  const logs = new RingLogSink(2000);
  const logger = createLogger(logs.sink, { level: 'debug' });
  const createDirect = options.createDirect?.({ metrics, logger });
  const messenger = new Messenger({
    store,
    clock: systemClock,
    random: secureRandom,
    metrics,
    logger,
    recentLogs: () => logs.recent(),
    appUrl: 'http://petrel.test/',
    relayUrl,
    routerConfig: options.routerConfig ?? { backoff: { baseMs: 20, capMs: 300 } },
    ...(createDirect ? { createDirect } : {}),
    ...(options.blobHttp ? { blobHttp: options.blobHttp } : {}),
    ...(options.unpublishedDeviceWaitMs !== undefined ? { unpublishedDeviceWaitMs: options.unpublishedDeviceWaitMs } : {}),
    ...(options.accountSettings ? { accountSettings: options.accountSettings } : {}),
    ...(options.deviceHoldMaxMs !== undefined ? { deviceHoldMaxMs: options.deviceHoldMaxMs } : {}),
    createRelay: (auth) =>
      new WsRelayTransport({
        url: relayUrl,
        WebSocket: options.WebSocket ?? (NodeWebSocket as unknown as RelaySocketConstructor),
        identityKey: auth.identityKey,
        sign: auth.sign,
        ingress: auth.ingress,
        ...(auth.device ? { device: auth.device } : {}),
        clock: systemClock,
        random: secureRandom,
        metrics,
        logger,
        config: { reconnect: { baseMs: 20, capMs: 250 }, sendTimeoutMs: 3_000, ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}) },
      }),
  });
  const d: Device = {
    messenger,
    store,
    metrics,
    logs,
    stop: () => messenger.stop(),
    reload: async () => {
      await messenger.stop();
      const next = device(relayUrl, store, options);
      await next.messenger.start();
      return next;
    },
  };
  return d;
}

export async function onboard(d: Device, name: string): Promise<void> {
  await d.messenger.start();
  await d.messenger.createIdentity(name);
  await until(d, (s) => s.connection.kind === 'online');
}

/** Waits until the device's state satisfies `predicate` (no fixed sleeps). */
export async function until(d: Device, predicate: (s: MessengerState) => boolean, timeout = 10_000): Promise<MessengerState> {
  await vi.waitFor(
    () => {
      if (!predicate(d.messenger.getState())) throw new Error('not yet');
    },
    { timeout, interval: 10 },
  );
  return d.messenger.getState();
}

/** Waits until `check` (a read of storage, say) holds, polling every 10 ms; fails after `timeout`. */
export async function expectEventually(check: () => Promise<boolean>, timeout = 10_000): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error('condition not met in time');
    },
    { timeout, interval: 10 },
  );
}

/** Adds each user to the other's contacts through their invite links. */
/**
 * A new device linked to `from`'s account with a device link: ready and online on its
 * relay, and the link done on `from`. `track` takes it before the link starts (testWorld's).
 */
export async function linkNewDevice(from: Device, relayUrl: string, track: (d: Device) => Device): Promise<Device> {
  const link = await from.messenger.createDeviceLink();
  const d = track(device(relayUrl));
  await d.messenger.start();
  await until(d, (s) => s.phase === 'onboarding');
  await d.messenger.linkThisDevice(link);
  await until(d, (s) => s.phase === 'ready' && s.connection.kind === 'online');
  await until(from, (s) => s.deviceLink?.status === 'done');
  return d;
}

export async function introduce(a: Device, b: Device): Promise<{ aSeesB: string; bSeesA: string }> {
  const inviteB = a.messenger.parseInvite(b.messenger.getState().me!.inviteUrl)!;
  const aSeesB = await a.messenger.addContact(inviteB);
  const inviteA = b.messenger.parseInvite(a.messenger.getState().me!.inviteUrl)!;
  const bSeesA = await b.messenger.addContact(inviteA);
  return { aSeesB, bSeesA };
}

/**
 * Ada and Bo (fresh devices) onboarded and introduced, and each has written once: Ada's
 * "hello Bo", then Bo's "hi Ada", each waited for until the other has it unread.
 */
export async function adaAndBoTalked(ada: Device, bo: Device): Promise<{ aSeesB: string; bSeesA: string }> {
  await onboard(ada, 'Ada');
  await onboard(bo, 'Bo');
  const { aSeesB, bSeesA } = await introduce(ada, bo);
  await ada.messenger.send(aSeesB, 'hello Bo');
  await until(bo, (s) => s.contacts[0]?.unread === 1);
  await bo.messenger.send(bSeesA, 'hi Ada');
  await until(ada, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
  return { aSeesB, bSeesA };
}

export function texts(d: Device, contactId: string): Promise<string[]> {
  return d.store.pageMessages(contactId, { limit: 200 }).then((p) => p.messages.map((m) => `${m.direction}:${m.body}`));
}

/**
 * Relays and devices a test file starts, stopped after each test (last started, first
 * stopped). Call once at the top of the file.
 */
export function testWorld() {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const defer = (cleanup: () => Promise<void> | void): void => {
    cleanups.push(cleanup);
  };
  return {
    defer,
    async relay(): Promise<TestRelay> {
      const r = await startTestRelay({ PETREL_LOG_LEVEL: 'silent' });
      defer(() => r.stop());
      return r;
    },
    track<D extends { stop(): Promise<void> }>(d: D): D {
      defer(() => d.stop());
      return d;
    },
  };
}
