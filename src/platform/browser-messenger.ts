/**
 * The composition root in the browser: IndexedDB storage, the relay over WebSocket,
 * tab leadership, persistent-storage request, logs and metrics for diagnostics, the
 * keypress journal and the drafts kept in Web Storage.
 */
import { toHex } from '../core/bytes.ts';
import { systemClock } from '../core/clock.ts';
import { createLogger, RingLogSink } from '../core/log.ts';
import { Messenger } from '../core/messenger/messenger.ts';
import type { MessengerApi, MessengerState } from '../core/messenger/messenger-api.ts';
import { InMemoryMetrics } from '../core/metrics.ts';
import { secureRandom } from '../core/random.ts';
import { openIdbStore, requestPersistentStorage } from './idb/index.ts';
import { DraftStore } from './keypress/draft-store.ts';
import { JournaledMessenger } from './keypress/journaled-messenger.ts';
import { SendJournal } from './keypress/send-journal.ts';
import { browserSyncStorage } from './keypress/sync-storage.ts';
import { broadcastChannel, createTabLeadership } from './tab-leadership.ts';
import { storeChatReader } from './core-protocol/chat-reader.ts';
import { TabbedMessenger, type BootContext, type LeaderCore } from './tabbed-messenger.ts';
import type { IceServer, PeerConnectionConstructor } from './webrtc/webrtc-connector.ts';
import { WebRtcDirectPath } from './webrtc/webrtc-direct-path.ts';
import { browserNetworkSignals, WsRelayTransport, type RelaySocketConstructor } from './ws-relay-transport.ts';

export interface BrowserMessenger {
  /** The core's commands and state, with the keypress journal in front of `send`. */
  readonly api: MessengerApi;
  /** Drafts per conversation, kept across reloads. */
  readonly drafts: DraftStore;
  readonly logs: RingLogSink;
  start(): Promise<void>;
}

/** The relay's WebSocket on this origin (the relay serves the app and `/ws` on one port). */
export function relayUrlFor(loc: Location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export interface BrowserMessengerOptions {
  /** STUN/TURN servers for direct connections across the internet (none needed on a LAN). */
  readonly iceServers?: readonly IceServer[];
  /** Problems found in the deployment's settings, logged (and so shown in Diagnostics). */
  readonly configProblems?: readonly string[];
}

/**
 * Set to `true` on `window` (by a test's init script) before the app loads to get
 * `window.__petrelTest`, a `PetrelTestHandle`. Absent in normal use.
 */
export const TEST_HOOKS_FLAG = '__PETREL_TEST_HOOKS__';
export const TEST_HANDLE = '__petrelTest';
export interface PetrelTestHandle {
  /** Closes every data channel and refuses new ones: traffic must fall back to the relay. */
  pauseDirect(): void;
  resumeDirect(): void;
  /** Closes the data channels as a network failure would; they reopen by themselves. */
  dropDirect(): void;
  /**
   * The network between the peers fails until `healDirect`: messages on open data
   * channels are lost both ways while the channels still look open, and no new one is
   * made (see `WebRtcDirectPath.sever`).
   */
  severDirect(): void;
  healDirect(): void;
  /** Sends raw bytes on every open data channel (hostile input); returns how many. */
  injectDirect(bytes: Uint8Array): number;
  /** The leader's state and diagnostics, as the views see them. */
  state(): MessengerState;
  diagnostics(): ReturnType<MessengerApi['diagnostics']>;
}

export function createBrowserMessenger(win: Window = window, profile = 'default', options: BrowserMessengerOptions = {}): BrowserMessenger {
  const logs = new RingLogSink(500);
  const logger = createLogger(logs.sink, { level: 'info' });
  for (const problem of options.configProblems ?? []) logger.child('config').warn('setting ignored', { problem });
  const leadership = createTabLeadership<MessengerState>({ profile, logger });
  const bootCore = async ({ health }: BootContext): Promise<LeaderCore> => {
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
      metrics,
      logger,
      recentLogs: () => logs.recent(),
      appUrl: `${win.location.origin}/`,
      relayUrl,
      requestPersistence: () => requestPersistentStorage(),
      createDirect: ({ identity, sendSignal }) => {
        const RTCPeerConnection = (win as unknown as { RTCPeerConnection?: PeerConnectionConstructor }).RTCPeerConnection;
        if (!RTCPeerConnection) return undefined; // no WebRTC here: the relay carries everything
        direct = new WebRtcDirectPath({
          RTCPeerConnection,
          ...(options.iceServers ? { iceServers: options.iceServers } : {}),
          identityKey: identity.publicKey,
          sendSignal,
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
  };
  let journaled: JournaledMessenger | undefined;
  const tabbed = new TabbedMessenger(leadership, bootCore, {
    logger,
    clientId: crypto.randomUUID(),
    // A host that went away may have left pressed messages in the journal.
    onHostChange: () => void journaled?.drain(),
    ...(typeof BroadcastChannel !== 'undefined' ? { coreChannel: broadcastChannel<unknown>(`petrel:${profile}:core`) } : {}),
  });
  const storage = browserSyncStorage(win);
  const drafts = new DraftStore(storage, profile);
  win.addEventListener('storage', (e) => drafts.storageChanged(e.key, e.newValue));
  const journal = new SendJournal({ storage, profile, newId: () => toHex(secureRandom.bytes(16)), now: () => Date.now() });
  const api = (journaled = new JournaledMessenger(tabbed, journal, drafts, logger));
  return { api, drafts, logs, start: () => tabbed.start() };
}
