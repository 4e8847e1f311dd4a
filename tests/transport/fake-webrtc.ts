/**
 * Just enough of RTCPeerConnection / RTCDataChannel to exercise the connector's
 * signaling in Node: offer/answer state machine with rollback, ICE candidate events,
 * and a pre-negotiated channel that opens once both ends hold each other's description.
 */
import type { PeerConnectionLike, IceCandidateLike } from '../../src/platform/webrtc/webrtc-connector.ts';

type Listener = (ev: { data: unknown }) => void;

export class FakeDataChannel {
  binaryType = 'blob';
  readyState = 'connecting';
  remote: FakeDataChannel | undefined;
  /** Bytes sent and not yet delivered (they leave on the next macrotask, a few at a time like a network). */
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  /** The most bytes ever waiting in the send buffer (what a sender's pacing keeps down). */
  peakBufferedAmount = 0;
  private readonly listeners = new Map<string, Listener[]>();

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, (this.listeners.get(type) ?? []).filter((l) => l !== listener));
  }

  dispatch(type: string, data?: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l({ data });
  }

  send(data: Uint8Array<ArrayBuffer>): void {
    if (this.readyState !== 'open') throw new Error('not open');
    const copy = data.slice().buffer;
    const remote = this.remote;
    this.bufferedAmount += copy.byteLength;
    this.peakBufferedAmount = Math.max(this.peakBufferedAmount, this.bufferedAmount);
    queueMicrotask(() => {
      const before = this.bufferedAmount;
      this.bufferedAmount -= copy.byteLength;
      if (remote?.readyState === 'open') remote.dispatch('message', copy);
      if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold) this.dispatch('bufferedamountlow');
    });
  }

  open(): void {
    this.readyState = 'open';
    this.dispatch('open');
  }

  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.dispatch('close');
    this.remote?.close();
  }
}

const registry = new Map<string, FakePeerConnection>();
let nextUid = 0;

export class FakePeerConnection implements PeerConnectionLike {
  static created: FakePeerConnection[] = [];
  readonly uid = `pc${++nextUid}`;
  signalingState = 'stable';
  connectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  remoteUid: string | undefined;
  onnegotiationneeded: ((ev: unknown) => void) | null = null;
  onicecandidate: ((ev: { candidate: { toJSON(): IceCandidateLike } | null }) => void) | null = null;
  onconnectionstatechange: ((ev: unknown) => void) | null = null;
  readonly addedCandidates: IceCandidateLike[] = [];
  channel: FakeDataChannel | undefined;

  constructor(readonly config: { iceServers: unknown[] }) {
    registry.set(this.uid, this);
    FakePeerConnection.created.push(this);
  }

  createDataChannel(): FakeDataChannel {
    this.channel = new FakeDataChannel();
    // Like browsers: negotiation is needed only while nothing has been negotiated yet,
    // and the event waits for a stable signaling state.
    queueMicrotask(() => {
      if (this.signalingState === 'stable' && this.remoteUid === undefined) this.onnegotiationneeded?.({});
    });
    return this.channel;
  }

  async setLocalDescription(): Promise<void> {
    if (this.signalingState === 'stable') {
      this.localDescription = { type: 'offer', sdp: `v=0 ${this.uid}\r\na=ice-ufrag:${this.uid}\r\n` };
      this.signalingState = 'have-local-offer';
    } else if (this.signalingState === 'have-remote-offer') {
      this.localDescription = { type: 'answer', sdp: `v=0 ${this.uid}\r\na=ice-ufrag:${this.uid}\r\n` };
      this.signalingState = 'stable';
      this.maybeConnect();
    }
    queueMicrotask(() => {
      this.onicecandidate?.({ candidate: { toJSON: () => ({ candidate: `candidate:${this.uid}`, sdpMid: '0', sdpMLineIndex: 0 }) } });
      this.onicecandidate?.({ candidate: null });
    });
  }

  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    const uid = /^v=0 (\S+)/.exec(d.sdp)?.[1];
    // Like browsers: a live connection cannot take another peer's DTLS fingerprint.
    if (this.connectionState === 'connected' && uid !== this.remoteUid) throw new Error('InvalidAccessError: fingerprint changed');
    if (this.connectionState === 'closed') throw new Error('InvalidStateError: closed');
    this.remoteUid = uid;
    if (d.type === 'offer') {
      // A polite peer with its own offer pending rolls back implicitly.
      this.signalingState = 'have-remote-offer';
    } else {
      if (this.signalingState !== 'have-local-offer') throw new Error('InvalidStateError: no local offer');
      this.signalingState = 'stable';
      this.maybeConnect();
    }
  }

  async addIceCandidate(c: IceCandidateLike): Promise<void> {
    this.addedCandidates.push(c);
  }

  close(): void {
    this.connectionState = 'closed';
    this.channel?.close();
  }

  private maybeConnect(): void {
    const remote = this.remoteUid ? registry.get(this.remoteUid) : undefined;
    if (!remote || remote.remoteUid !== this.uid || remote.signalingState !== 'stable' || this.signalingState !== 'stable') return;
    if (!this.channel || !remote.channel || this.channel.readyState !== 'connecting') return;
    this.channel.remote = remote.channel;
    remote.channel.remote = this.channel;
    this.connectionState = remote.connectionState = 'connected';
    this.channel.open();
    remote.channel.open();
  }
}
