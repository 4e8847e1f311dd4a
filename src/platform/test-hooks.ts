/** What the composition root takes, and the test handle it exposes when asked to. */
import type { MessengerApi, MessengerState } from '../core/messenger/messenger-api.ts';
import type { IceServer } from './webrtc/webrtc-connector.ts';

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

