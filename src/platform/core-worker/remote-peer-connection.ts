/**
 * The worker's side of the WebRTC bridge: `PeerConnectionLike` and `DataChannelLike`
 * whose real objects live in the hosting window (see rtc-bridge-messages.ts). State
 * reads are the window's last report; calls resolve when the window has run them.
 */
import type { DataChannelLike } from '../webrtc/rtc-peer-channel.ts';
import type { IceCandidateLike, IceServer, PeerConnectionConstructor, PeerConnectionLike, SessionDescriptionLike } from '../webrtc/webrtc-connector.ts';
import type { PeerCall, PeerState, RtcFromWindow, RtcToWindow } from './rtc-bridge-messages.ts';

type Post = (message: RtcToWindow, transfer?: Transferable[]) => void;

class RemoteDataChannel implements DataChannelLike {
  binaryType = 'arraybuffer';
  readyState = 'connecting';
  maxMessageSize = Infinity;
  bufferedAmountLowThreshold = 0;
  /** Bytes posted to the window's channel, and of them the ones the window says left its buffer. */
  private posted = 0;
  private flushed = 0;
  private readonly listeners = new Map<string, Set<(ev: { readonly data: unknown }) => void>>();

  constructor(
    private readonly id: number,
    private readonly post: Post,
  ) {}

  send(data: Uint8Array<ArrayBuffer>): void {
    if (this.readyState !== 'open') throw new Error('data channel is not open');
    if (data.byteLength > this.maxMessageSize) throw new TypeError(`Message size (${data.byteLength}) exceeds SCTP max-message-size (${this.maxMessageSize})`);
    const copy = data.slice();
    this.posted += copy.byteLength;
    this.post({ k: 'dc-send', dc: this.id, bytes: copy }, [copy.buffer]);
  }

  /** Bytes on their way to the window or in its channel's send buffer. */
  get bufferedAmount(): number {
    return this.posted - this.flushed;
  }

  drained(flushed: number): void {
    const before = this.bufferedAmount;
    this.flushed = Math.max(this.flushed, Math.min(flushed, this.posted));
    if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold) this.emit('bufferedamountlow');
  }

  removeEventListener(type: string, listener: (ev: { readonly data: unknown }) => void): void {
    this.listeners.get(type)?.delete(listener);
  }

  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closing';
    this.post({ k: 'dc-close', dc: this.id });
  }

  addEventListener(type: string, listener: (ev: { readonly data: unknown }) => void): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  emit(type: string, data?: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l({ data });
  }
}

class RemotePeerConnection implements PeerConnectionLike {
  signalingState = 'stable';
  connectionState = 'new';
  localDescription: SessionDescriptionLike | null = null;
  onnegotiationneeded: PeerConnectionLike['onnegotiationneeded'] = null;
  onicecandidate: PeerConnectionLike['onicecandidate'] = null;
  onconnectionstatechange: PeerConnectionLike['onconnectionstatechange'] = null;
  private nextCall = 0;
  private readonly calls = new Map<number, { resolve(): void; reject(e: Error): void }>();
  closed = false;

  constructor(
    readonly id: number,
    private readonly bridge: RtcBridgeClient,
    private readonly post: Post,
  ) {}

  setLocalDescription(): Promise<void> {
    return this.call({ method: 'setLocalDescription' });
  }
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    return this.call({ method: 'setRemoteDescription', description: { type: description.type, sdp: description.sdp } });
  }
  addIceCandidate(candidate: IceCandidateLike): Promise<void> {
    return this.call({ method: 'addIceCandidate', candidate: { ...candidate } });
  }

  createDataChannel(label: string, init: { negotiated: boolean; id: number; ordered: boolean }): DataChannelLike {
    return this.bridge.newChannel(this.id, label, init);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signalingState = 'closed';
    this.connectionState = 'closed';
    this.post({ k: 'rtc-close', pc: this.id });
    for (const c of this.calls.values()) c.reject(new Error('peer connection closed'));
    this.calls.clear();
    this.bridge.forget(this.id);
  }

  private call(op: PeerCall): Promise<void> {
    if (this.closed) return Promise.reject(new Error('peer connection closed'));
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(call, { resolve, reject });
      this.post({ k: 'rtc-call', pc: this.id, call, op });
    });
  }

  apply(state: PeerState): void {
    if (this.closed) return;
    this.signalingState = state.signalingState;
    this.connectionState = state.connectionState;
    this.localDescription = state.localDescription;
  }

  done(call: number, error: string | undefined): void {
    const c = this.calls.get(call);
    if (!c) return;
    this.calls.delete(call);
    if (error === undefined) c.resolve();
    else c.reject(new Error(error));
  }
}

/** Makes bridged peer connections in the worker and routes the window's reports to them. */
export class RtcBridgeClient {
  private nextPc = 0;
  private nextDc = 0;
  private readonly pcs = new Map<number, RemotePeerConnection>();
  private readonly dcs = new Map<number, RemoteDataChannel>();

  constructor(private readonly post: Post) {}

  /** The constructor the direct path takes in place of the window's RTCPeerConnection. */
  readonly RTCPeerConnection: PeerConnectionConstructor = ((bridge: RtcBridgeClient) =>
    class {
      constructor(config: { iceServers: IceServer[] }) {
        return bridge.newConnection(config.iceServers);
      }
    } as unknown as PeerConnectionConstructor)(this);

  newConnection(iceServers: IceServer[]): PeerConnectionLike {
    const pc = new RemotePeerConnection(this.nextPc++, this, this.post);
    this.pcs.set(pc.id, pc);
    this.post({ k: 'rtc-new', pc: pc.id, iceServers });
    return pc;
  }

  newChannel(pc: number, label: string, init: { negotiated: boolean; id: number; ordered: boolean }): DataChannelLike {
    const dc = new RemoteDataChannel(this.nextDc++, this.post);
    this.dcs.set(this.nextDc - 1, dc);
    this.post({ k: 'dc-new', pc, dc: this.nextDc - 1, label, init });
    return dc;
  }

  forget(pc: number): void {
    this.pcs.delete(pc);
  }

  /** One report from the window (anything else is ignored). */
  receive(m: RtcFromWindow): void {
    switch (m.k) {
      case 'rtc-done': {
        const pc = this.pcs.get(m.pc);
        pc?.apply(m.state);
        pc?.done(m.call, m.error);
        return;
      }
      case 'rtc-event': {
        const pc = this.pcs.get(m.pc);
        if (!pc) return;
        pc.apply(m.state);
        if (m.event === 'negotiationneeded') pc.onnegotiationneeded?.(undefined);
        else if (m.event === 'connectionstatechange') pc.onconnectionstatechange?.(undefined);
        return;
      }
      case 'rtc-candidate': {
        const pc = this.pcs.get(m.pc);
        if (!pc) return;
        pc.apply(m.state);
        const c = m.candidate;
        pc.onicecandidate?.({ candidate: c ? { toJSON: () => c } : null });
        return;
      }
      case 'dc-event': {
        const dc = this.dcs.get(m.dc);
        if (!dc) return;
        dc.readyState = m.readyState;
        if (m.maxMessageSize !== undefined) dc.maxMessageSize = m.maxMessageSize;
        if (m.event !== 'open') this.dcs.delete(m.dc);
        dc.emit(m.event);
        return;
      }
      case 'dc-message':
        this.dcs.get(m.dc)?.emit('message', m.data);
        return;
      case 'dc-drained':
        this.dcs.get(m.dc)?.drained(m.flushed);
        return;
    }
  }
}
