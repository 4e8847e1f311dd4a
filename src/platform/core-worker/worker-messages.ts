/**
 * The messages between the hosting tab and the core's Worker (see docs/ARCHITECTURE.md,
 * "Who hosts the core"). The UI↔core protocol (`core-protocol/protocol.ts`) travels
 * inside them unchanged (`cmd` / `host`); beside it go what only the hosting tab can
 * give the worker — the network signals of its window, the WebRTC peer connections
 * (RTCPeerConnection exists only in windows; see `rtc-bridge-messages.ts`) — and what
 * the tab needs back: the core's state (a snapshot, then patches), the storage health during the open,
 * and the answers of the test hooks.
 */
import type { MessengerState, StorageState } from '../../core/messenger/messenger-api.ts';
import type { NetworkSignal } from '../../core/transport/network-signals.ts';
import type { ClientMessage, HostMessage } from '../core-protocol/protocol.ts';
import type { StatePatch } from '../core-protocol/state-patch.ts';
import type { IceServer } from '../webrtc/webrtc-connector.ts';
import type { RtcFromWindow, RtcToWindow } from './rtc-bridge-messages.ts';
import type { StageMark } from '../stage-recorder.ts';

export interface WorkerInit {
  readonly k: 'init';
  /** The app's origin (blobs over fetch, invites) and the relay's WebSocket URL. */
  readonly origin: string;
  readonly relayUrl: string;
  readonly online: boolean;
  /** The hosting window can make RTCPeerConnections (bridged): the direct path runs. */
  readonly rtc: boolean;
  readonly iceServers?: readonly IceServer[];
  readonly configProblems?: readonly string[];
  /** Answer `hook` messages (the e2e tests' fault hooks). */
  readonly testHooks: boolean;
  /** Record timing marks (stage-recorder.ts) for the `takeTrace` hook. */
  readonly trace?: boolean;
  /** A Web Lock the worker holds while it lives: granted to the tab, it says the worker died. */
  readonly lifeLock: string;
}

/** The fault and inspection hooks of the e2e tests (see test-hooks.ts), run in the worker. */
export type HookName = 'pauseDirect' | 'resumeDirect' | 'dropDirect' | 'severDirect' | 'healDirect' | 'injectDirect' | 'takeTrace';

export type ToWorker =
  | WorkerInit
  | { readonly k: 'cmd'; readonly m: ClientMessage }
  /** The hosting tab's own view: which conversation it shows, and one more page of it. */
  | { readonly k: 'open'; readonly contactId: string | undefined }
  | { readonly k: 'older' }
  /** A patch did not apply (see state-patch.ts): send the whole state again. */
  | { readonly k: 'snapshot' }
  | { readonly k: 'net'; readonly signal: NetworkSignal }
  | { readonly k: 'hook'; readonly id: number; readonly name: HookName; readonly bytes?: Uint8Array }
  | RtcFromWindow
  /** Stop the core (its storage closed) and answer `stopped`. */
  | { readonly k: 'stop' };

export type FromWorker =
  /** The worker holds its life lock: from now on its death is seen. */
  | { readonly k: 'alive' }
  /** The database open's progress (e.g. `blocked`), before `ready`. */
  | { readonly k: 'health'; readonly state: StorageState }
  | { readonly k: 'ready'; readonly state: MessengerState }
  /** The core could not start (IndexedDB missing, a failed migration…): the tab gives the lock up. */
  | { readonly k: 'failed'; readonly error: string }
  | { readonly k: 'host'; readonly m: HostMessage }
  /** The whole state, version 0 of the patches that follow (after `ready`, or asked for by `snapshot`). */
  | { readonly k: 'state'; readonly state: MessengerState }
  /** What changed since the state of version `patch.base` (at most one per worker task). */
  | { readonly k: 'patch'; readonly patch: StatePatch }
  | { readonly k: 'hook'; readonly id: number; readonly value: number; readonly error?: string; readonly marks?: readonly StageMark[] }
  | RtcToWindow
  | { readonly k: 'stopped' };
