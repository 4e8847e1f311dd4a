/**
 * WebRTC across the worker boundary. The core's direct path (WebRtcDirectPath and its
 * connector, unchanged) runs in the worker against `PeerConnectionLike`, the small part
 * of RTCPeerConnection it uses; the real RTCPeerConnections and data channels live in
 * the hosting window (`PeerConnectionHost`), driven over these messages. Every message
 * from the window carries the connection's state as it is after the event or call, so
 * the worker's mirror (`RemotePeerConnection`) reads what the window's object would.
 */
import type { IceCandidateLike, IceServer, SessionDescriptionLike } from '../webrtc/webrtc-connector.ts';

export interface PeerState {
  readonly signalingState: string;
  readonly connectionState: string;
  readonly localDescription: SessionDescriptionLike | null;
}

export type PeerCall =
  | { readonly method: 'setLocalDescription' }
  | { readonly method: 'setRemoteDescription'; readonly description: { type: 'offer' | 'answer'; sdp: string } }
  | { readonly method: 'addIceCandidate'; readonly candidate: IceCandidateLike };

/** The worker asks the window. */
export type RtcToWindow =
  | { readonly k: 'rtc-new'; readonly pc: number; readonly iceServers: IceServer[] }
  | { readonly k: 'rtc-call'; readonly pc: number; readonly call: number; readonly op: PeerCall }
  | { readonly k: 'rtc-close'; readonly pc: number }
  | { readonly k: 'dc-new'; readonly pc: number; readonly dc: number; readonly label: string; readonly init: { negotiated: boolean; id: number; ordered: boolean } }
  | { readonly k: 'dc-send'; readonly dc: number; readonly bytes: Uint8Array }
  | { readonly k: 'dc-close'; readonly dc: number };

/** The window tells the worker. */
export type RtcFromWindow =
  | { readonly k: 'rtc-done'; readonly pc: number; readonly call: number; readonly state: PeerState; readonly error?: string }
  | { readonly k: 'rtc-event'; readonly pc: number; readonly state: PeerState; readonly event: 'negotiationneeded' | 'connectionstatechange' | 'signalingstatechange' }
  | { readonly k: 'rtc-candidate'; readonly pc: number; readonly state: PeerState; readonly candidate: IceCandidateLike | null }
  /** On `open`, the SCTP transport's largest message (a larger `send` throws, as the window's would). */
  | { readonly k: 'dc-event'; readonly dc: number; readonly readyState: string; readonly event: 'open' | 'close' | 'error'; readonly maxMessageSize?: number }
  | { readonly k: 'dc-message'; readonly dc: number; readonly data: ArrayBuffer }
  /**
   * Of the bytes the worker asked the channel to send, this many have left its send buffer
   * (`sent − bufferedAmount`): said after a send that leaves the buffer low, and on `bufferedamountlow`.
   */
  | { readonly k: 'dc-drained'; readonly dc: number; readonly flushed: number };
