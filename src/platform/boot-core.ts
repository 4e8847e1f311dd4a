/**
 * Boots the messaging core in the tab elected to host it: IndexedDB, the relay over
 * WebSocket, the WebRTC direct path, metrics. Loaded on demand (a separate chunk), so a
 * tab that does not host the core, and every tab's first screen, runs without the
 * crypto, CBOR and transport code.
 */
import { systemClock } from '../core/clock.ts';
import type { Logger, RingLogSink } from '../core/log.ts';
import { Messenger } from '../core/messenger/messenger.ts';
import { InMemoryMetrics } from '../core/metrics.ts';
import { secureRandom } from '../core/random.ts';
import type { StorageHealth } from '../core/store/storage-health.ts';
import { createBrowserCryptoRuntime } from './browser-crypto.ts';
import { storeChatReader } from './core-protocol/chat-reader.ts';
import { fetchBlobHttp } from './fetch-blob-http.ts';
import { openIdbStore, requestPersistentStorage } from './idb/index.ts';
import type { LeaderCore } from './tabbed-messenger.ts';
import { TEST_HANDLE, TEST_HOOKS_FLAG, type BrowserMessengerOptions, type PetrelTestHandle } from './test-hooks.ts';
import type { PeerConnectionConstructor } from './webrtc/webrtc-connector.ts';
import { WebRtcDirectPath } from './webrtc/webrtc-direct-path.ts';
import { browserNetworkSignals, WsRelayTransport, type RelaySocketConstructor } from './ws-relay-transport.ts';

/** The relay's WebSocket on this origin (the relay serves the app and `/ws` on one port). */
export function relayUrlFor(loc: Location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export interface BootBrowserCoreContext {
  readonly win: Window;
  readonly options: BrowserMessengerOptions;
  readonly logger: Logger;
  readonly logs: RingLogSink;
  readonly health: StorageHealth;
}

export async function bootBrowserCore({ win, options, logger, logs, health }: BootBrowserCoreContext): Promise<LeaderCore> {
  // One health for the open (which reports `blocked` while it waits) and the core after it.
  const { store, backend } = await openIdbStore({ now: () => Date.now(), health });
  const metrics = new InMemoryMetrics(await store.loadCounters().catch(() => ({})));
  const relayUrl = relayUrlFor(win.location);
  const network = browserNetworkSignals(win);
  let direct: WebRtcDirectPath | undefined;
  const messenger = new Messenger({
    store,
    clock: systemClock,
    random: secureRandom,
    crypto: createBrowserCryptoRuntime(),
    metrics,
    logger,
    recentLogs: () => logs.recent(),
    appUrl: `${win.location.origin}/`,
    relayUrl,
    requestPersistence: () => requestPersistentStorage(),
    // The relay serves the app, `/ws` and `/blobs` on one origin.
    blobHttp: fetchBlobHttp(win.location.origin),
    createDirect: ({ identity, sendSignal, ingress }) => {
      const RTCPeerConnection = (win as unknown as { RTCPeerConnection?: PeerConnectionConstructor }).RTCPeerConnection;
      if (!RTCPeerConnection) return undefined; // no WebRTC here: the relay carries everything
      direct = new WebRtcDirectPath({
        RTCPeerConnection,
        ...(options.iceServers ? { iceServers: options.iceServers } : {}),
        identityKey: identity.publicKey,
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
      new WsRelayTransport({
        url: relayUrl,
        WebSocket: WebSocket as unknown as RelaySocketConstructor,
        identityKey: auth.identityKey,
        sign: auth.sign,
        ingress: auth.ingress,
        clock: systemClock,
        random: secureRandom,
        metrics,
        logger,
        network,
      }),
  });
  const hooks = win as unknown as Record<string, unknown>;
  if (hooks[TEST_HOOKS_FLAG] === true) {
    hooks[TEST_HANDLE] = {
      pauseDirect: () => direct?.pause(),
      resumeDirect: () => direct?.resume(),
      dropDirect: () => direct?.dropChannels(),
      severDirect: () => direct?.sever(),
      healDirect: () => direct?.heal(),
      injectDirect: (bytes) => direct?.inject(bytes) ?? 0,
      state: () => messenger.getState(),
      diagnostics: () => messenger.diagnostics(),
    } satisfies PetrelTestHandle;
  }
  await messenger.start();
  return {
    api: messenger,
    readChat: storeChatReader(store),
    // Closing the connection too: a tab that gave up must not hold the database open.
    stop: () => messenger.stop().finally(() => backend.close()),
  };
}
