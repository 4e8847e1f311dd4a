/** What the composition root takes, and the test handle it exposes when asked to. */
import type { MessengerApi, MessengerState } from '../core/messenger/messenger-api.ts';
import type { IceServer } from './webrtc/webrtc-connector.ts';
import type { StageMark } from './stage-recorder.ts';

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
/**
 * Set to `true` on `window` (with TEST_HOOKS_FLAG) to record timing marks in this page and
 * in the core's Worker (stage-recorder.ts), taken with `PetrelTestHandle.takeTrace`: the
 * e2e benchmark's stage breakdown. Off, nothing is recorded.
 */
export const TRACE_FLAG = '__PETREL_TRACE__';
/**
 * The hooks that reach the direct path or the metrics run where the core runs (its
 * Worker): they answer asynchronously (`page.evaluate` awaits them).
 */
export interface PetrelTestHandle {
  /** Closes every data channel and refuses new ones: traffic must fall back to the relay. */
  pauseDirect(): Promise<void>;
  resumeDirect(): Promise<void>;
  /** Closes the data channels as a network failure would; they reopen by themselves. */
  dropDirect(): Promise<void>;
  /**
   * The network between the peers fails until `healDirect`: messages on open data
   * channels are lost both ways while the channels still look open, and no new one is
   * made (see `WebRtcDirectPath.sever`).
   */
  severDirect(): Promise<void>;
  healDirect(): Promise<void>;
  /** Sends raw bytes on every open data channel (hostile input); resolves to how many. */
  injectDirect(bytes: Uint8Array): Promise<number>;
  /** The core's state as this tab's views see it (its last snapshot). */
  state(): MessengerState;
  diagnostics(): Promise<ReturnType<MessengerApi['diagnostics']>>;
  /**
   * Terminates the core's Worker as a crash would (the hosting tab must restart it);
   * false where the core runs on the main thread, or this tab does not host it.
   */
  terminateWorker(): Promise<boolean>;
  /** The timing marks since the last take, this page's and its core Worker's (empty unless TRACE_FLAG was set). */
  takeTrace(): Promise<{ readonly page: readonly StageMark[]; readonly worker: readonly StageMark[] }>;
}
