/**
 * The core on a tab's main thread, for browsers without module workers: `bootCore` with
 * the window's network signals and RTCPeerConnection, and the test hooks. Its own chunk
 * (loaded only on such browsers); `bootCore` itself needs no window (the Worker and the
 * service worker run it).
 */
import type { Logger, RingLogSink } from '../core/log.ts';
import type { StorageHealth } from '../core/store/storage-health.ts';
import { bootCore } from './boot-core.ts';
import { browserNetworkSignals } from './browser-network-signals.ts';
import { relayUrlFor } from './relay-url.ts';
import type { LeaderCore } from './tabbed-messenger.ts';
import { TEST_HANDLE, TEST_HOOKS_FLAG, type BrowserMessengerOptions, type PetrelTestHandle } from './test-hooks.ts';
import type { PeerConnectionConstructor } from './webrtc/webrtc-connector.ts';

export interface BootBrowserCoreContext {
  readonly win: Window;
  readonly options: BrowserMessengerOptions;
  readonly logger: Logger;
  readonly logs: RingLogSink;
  readonly health: StorageHealth;
}

/** The core on this tab's main thread (browsers without module workers). */
export async function bootBrowserCore({ win, options, logger, logs, health }: BootBrowserCoreContext): Promise<LeaderCore> {
  const core = await bootCore({
    origin: win.location.origin,
    relayUrl: relayUrlFor(win.location),
    RTCPeerConnection: (win as unknown as { RTCPeerConnection?: PeerConnectionConstructor }).RTCPeerConnection,
    iceServers: options.iceServers,
    network: browserNetworkSignals(win),
    logger,
    logs,
    health,
  });
  const hooks = win as unknown as Record<string, unknown>;
  if (hooks[TEST_HOOKS_FLAG] === true) {
    hooks[TEST_HANDLE] = {
      pauseDirect: () => Promise.resolve(core.direct()?.pause()),
      resumeDirect: () => Promise.resolve(core.direct()?.resume()),
      dropDirect: () => Promise.resolve(core.direct()?.dropChannels()),
      severDirect: () => Promise.resolve(core.direct()?.sever()),
      healDirect: () => Promise.resolve(core.direct()?.heal()),
      injectDirect: (bytes) => Promise.resolve(core.direct()?.inject(bytes) ?? 0),
      state: () => core.messenger.getState(),
      diagnostics: () => Promise.resolve(core.messenger.diagnostics()),
      terminateWorker: () => Promise.resolve(false),
      // The stage breakdown is recorded where the core runs in its Worker (the benchmark's case) only.
      takeTrace: () => Promise.resolve({ page: [], worker: [] }),
    } satisfies PetrelTestHandle;
  }
  return core;
}
