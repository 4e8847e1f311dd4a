/**
 * Boots the messaging core: IndexedDB, the relay over WebSocket, the WebRTC direct path,
 * metrics. `bootCore` needs no window, so it runs in the core's Worker
 * (`core-worker/core-worker.ts`, the normal case) as well as on a tab's main thread
 * (`bootBrowserCore`, where the browser has no module workers). Loaded on demand (a
 * separate chunk), so no tab's first screen runs the crypto, CBOR and transport code.
 */
import { browserAccountSettings } from './account-settings-store.ts';
import { systemClock } from '../core/clock.ts';
import type { Logger, RingLogSink } from '../core/log.ts';
import { Messenger } from '../core/messenger/messenger.ts';
import { InMemoryMetrics } from '../core/metrics.ts';
import { secureRandom } from '../core/random.ts';
import type { StorageHealth } from '../core/store/storage-health.ts';
import type { StageTrace } from '../core/stage-trace.ts';
import type { NetworkSignals } from '../core/transport/network-signals.ts';
import { createBrowserCryptoRuntime } from './browser-crypto.ts';
import { storeChatReader } from './core-protocol/chat-reader.ts';
import { defaultDeviceName } from './default-device-name.ts';
import { fetchBlobHttp } from './fetch-blob-http.ts';
import { openIdbStore, readStorageReport } from './idb/index.ts';
import type { LeaderCore } from './tabbed-messenger.ts';
import type { IceServer, PeerConnectionConstructor } from './webrtc/webrtc-connector.ts';
import { WebRtcDirectPath } from './webrtc/webrtc-direct-path.ts';
import { WsRelayTransport, type RelaySocketConstructor } from './ws-relay-transport.ts';

export { relayUrlFor } from './relay-url.ts';

export interface CoreEnvironment {
  /** The app's origin: invites point here, blobs go to `/blobs` on it. */
  readonly origin: string;
  readonly relayUrl: string;
  /** The window's RTCPeerConnection, or the worker's bridge to it; none: the relay carries everything. */
  readonly RTCPeerConnection?: PeerConnectionConstructor | undefined;
  readonly iceServers?: readonly IceServer[] | undefined;
  readonly network: NetworkSignals;
  readonly logger: Logger;
  readonly logs: RingLogSink;
  readonly health: StorageHealth;
  /** Timing marks for the e2e benchmark (src/core/stage-trace.ts); absent in normal use. */
  readonly trace?: StageTrace | undefined;
}

export interface BootedCore extends LeaderCore {
  readonly messenger: Messenger;
  /** The direct path, once the identity exists (for the test hooks). */
  direct(): WebRtcDirectPath | undefined;
  /**
   * Resolves true once the relay connection has caught up with the mailbox (every
   * envelope that waited is committed: mailbox-catch-up.ts), false after `timeoutMs`.
   */
  caughtUp(timeoutMs: number): Promise<boolean>;
}

export async function bootCore(env: CoreEnvironment): Promise<BootedCore> {
  const { logger, logs, health, network, relayUrl } = env;
  // One health for the open (which reports `blocked` while it waits) and the core after it.
  const { store, backend } = await openIdbStore({ now: () => Date.now(), health });
  const metrics = new InMemoryMetrics(await store.loadCounters().catch(() => ({})));
  let direct: WebRtcDirectPath | undefined;
  let relay: WsRelayTransport | undefined;
  const messenger = new Messenger({
    store,
    clock: systemClock,
    random: secureRandom,
    crypto: createBrowserCryptoRuntime(),
    metrics,
    logger,
    recentLogs: () => logs.recent(),
    appUrl: `${env.origin}/`,
    relayUrl,
    // Read only: the app asks for persistence when the browser is likely to grant it (useStoragePersistence).
    storagePersistence: () => readStorageReport(),
    // The settings a device link carries (theme, notification content), in the settings database.
    accountSettings: browserAccountSettings(),
    // The relay serves the app, `/ws` and `/blobs` on one origin.
    blobHttp: fetchBlobHttp(env.origin),
    // What the account's device list calls this browser until it is renamed ("Chromium on Linux").
    deviceName: defaultDeviceName(typeof navigator === 'undefined' ? undefined : navigator),
    ...(env.trace ? { trace: env.trace } : {}),
    createDirect: ({ identity, ownMailbox, sendSignal, ingress }) => {
      if (!env.RTCPeerConnection) return undefined;
      direct = new WebRtcDirectPath({
        RTCPeerConnection: env.RTCPeerConnection,
        ...(env.iceServers ? { iceServers: env.iceServers } : {}),
        identityKey: identity.publicKey,
        ownMailbox,
        sendSignal,
        ingress,
        clock: systemClock,
        random: secureRandom,
        metrics,
        logger,
        network,
      });
      return direct;
    },
    createRelay: (auth) =>
      (relay = new WsRelayTransport({
        url: relayUrl,
        WebSocket: WebSocket as unknown as RelaySocketConstructor,
        identityKey: auth.identityKey,
        sign: auth.sign,
        ingress: auth.ingress,
        ...(auth.device ? { device: auth.device } : {}),
        clock: systemClock,
        random: secureRandom,
        metrics,
        logger,
        network,
      })),
  });
  await messenger.start();
  return {
    messenger,
    api: messenger,
    direct: () => direct,
    caughtUp: (timeoutMs) => relayCaughtUp(() => relay, timeoutMs),
    readChat: storeChatReader(store, Date.now, (contactId) => messenger.chatDevices(contactId)),
    // Closing the connection too: a tab that gave up must not hold the database open.
    stop: () => messenger.stop().finally(() => backend.close()),
  };
}

/**
 * Waits for the current relay transport (the core may replace it, e.g. when this device
 * starts again as a listed device) to catch up with its mailbox, at most `timeoutMs`.
 */
function relayCaughtUp(current: () => WsRelayTransport | undefined, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const unsubscribers: (() => void)[] = [];
    const finish = (ok: boolean) => {
      clearInterval(poll);
      clearTimeout(timer);
      for (const u of unsubscribers) u();
      resolve(ok);
    };
    let watched: WsRelayTransport | undefined;
    const watch = () => {
      const t = current();
      if (!t || t === watched) return;
      watched = t;
      if (t.caughtUp) return finish(true);
      unsubscribers.push(t.onCaughtUp(() => finish(true)));
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    // The transport exists once the identity does and may be replaced: look again now and then.
    const poll = setInterval(watch, 200);
    watch();
  });
}
