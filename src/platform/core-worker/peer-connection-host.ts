/**
 * The window's side of the WebRTC bridge: the real RTCPeerConnections and data channels
 * of the core's direct path, which runs in the worker (see rtc-bridge-messages.ts).
 * Each call is run and answered with the connection's state after it; each event is
 * reported with the state it left. `reset` closes everything (the worker went away).
 */
import type { IceCandidateLike, IceServer } from '../webrtc/webrtc-connector.ts';
import type { PeerState, RtcFromWindow, RtcToWindow } from './rtc-bridge-messages.ts';

type Post = (message: RtcFromWindow, transfer?: Transferable[]) => void;

/** The window tells the worker how far its channel's buffer drained whenever it is at or below this. */
const DRAINED_REPORT_BYTES = 256 * 1024;

export class PeerConnectionHost {
  private readonly pcs = new Map<number, RTCPeerConnection>();
  private readonly dcs = new Map<number, RTCDataChannel>();
  /** Bytes each channel was asked to send (for `dc-drained`). */
  private readonly sent = new Map<number, number>();

  constructor(
    private readonly RTC: typeof RTCPeerConnection,
    private readonly post: Post,
  ) {}

  /** One request from the worker. */
  receive(m: RtcToWindow): void {
    switch (m.k) {
      case 'rtc-new':
        return this.create(m.pc, m.iceServers);
      case 'rtc-call':
        return void this.run(m.pc, m.call, m.op);
      case 'rtc-close': {
        const pc = this.pcs.get(m.pc);
        this.pcs.delete(m.pc);
        if (pc) {
          pc.onnegotiationneeded = pc.onicecandidate = pc.onconnectionstatechange = pc.onsignalingstatechange = null;
          pc.close();
        }
        return;
      }
      case 'dc-new':
        return this.channel(m.pc, m.dc, m.label, m.init);
      case 'dc-send': {
        const dc = this.dcs.get(m.dc);
        if (dc?.readyState !== 'open') return;
        dc.send(m.bytes as Uint8Array<ArrayBuffer>);
        const sent = (this.sent.get(m.dc) ?? 0) + m.bytes.byteLength;
        this.sent.set(m.dc, sent);
        // The worker paces a file on what has left the buffer; while it fills, `bufferedamountlow` says so later.
        if (dc.bufferedAmount <= DRAINED_REPORT_BYTES) this.post({ k: 'dc-drained', dc: m.dc, flushed: sent - dc.bufferedAmount });
        return;
      }
      case 'dc-close':
        this.dcs.get(m.dc)?.close();
        return;
    }
  }

  /** The worker is gone: its connections go with it. */
  reset(): void {
    for (const dc of this.dcs.values()) dc.close();
    for (const pc of this.pcs.values()) pc.close();
    this.dcs.clear();
    this.pcs.clear();
    this.sent.clear();
  }

  private create(id: number, iceServers: IceServer[]): void {
    const pc = new this.RTC({ iceServers });
    this.pcs.set(id, pc);
    const state = () => stateOf(pc);
    pc.onnegotiationneeded = () => this.post({ k: 'rtc-event', pc: id, state: state(), event: 'negotiationneeded' });
    pc.onconnectionstatechange = () => this.post({ k: 'rtc-event', pc: id, state: state(), event: 'connectionstatechange' });
    pc.onsignalingstatechange = () => this.post({ k: 'rtc-event', pc: id, state: state(), event: 'signalingstatechange' });
    pc.onicecandidate = (ev) => this.post({ k: 'rtc-candidate', pc: id, state: state(), candidate: ev.candidate ? (ev.candidate.toJSON() as IceCandidateLike) : null });
  }

  private async run(id: number, call: number, op: Extract<RtcToWindow, { k: 'rtc-call' }>['op']): Promise<void> {
    const pc = this.pcs.get(id);
    if (!pc) return; // closed meanwhile: the worker rejected the call when it closed
    let error: string | undefined;
    try {
      if (op.method === 'setLocalDescription') await pc.setLocalDescription();
      else if (op.method === 'setRemoteDescription') await pc.setRemoteDescription(op.description);
      else await pc.addIceCandidate(op.candidate as RTCIceCandidateInit);
    } catch (err) {
      error = err instanceof Error ? err.message : 'failed';
    }
    this.post({ k: 'rtc-done', pc: id, call, state: stateOf(pc), ...(error !== undefined ? { error } : {}) });
  }

  private channel(pcId: number, id: number, label: string, init: RTCDataChannelInit): void {
    const pc = this.pcs.get(pcId);
    if (!pc) return;
    const dc = pc.createDataChannel(label, init);
    dc.binaryType = 'arraybuffer';
    this.dcs.set(id, dc);
    const report = (event: 'open' | 'close' | 'error') => () => {
      if (event !== 'open') {
        this.dcs.delete(id);
        this.sent.delete(id);
      }
      const max = event === 'open' ? pc.sctp?.maxMessageSize : undefined;
      this.post({ k: 'dc-event', dc: id, readyState: dc.readyState, event, ...(max !== undefined && Number.isFinite(max) ? { maxMessageSize: max } : {}) });
    };
    dc.addEventListener('open', report('open'));
    dc.addEventListener('close', report('close'));
    dc.addEventListener('error', report('error'));
    dc.bufferedAmountLowThreshold = DRAINED_REPORT_BYTES;
    dc.addEventListener('bufferedamountlow', () => {
      this.post({ k: 'dc-drained', dc: id, flushed: (this.sent.get(id) ?? 0) - dc.bufferedAmount });
    });
    dc.addEventListener('message', (ev: MessageEvent) => {
      if (ev.data instanceof ArrayBuffer) this.post({ k: 'dc-message', dc: id, data: ev.data }, [ev.data]);
    });
  }
}

function stateOf(pc: RTCPeerConnection): PeerState {
  const d = pc.localDescription;
  return { signalingState: pc.signalingState, connectionState: pc.connectionState, localDescription: d ? { type: d.type, sdp: d.sdp } : null };
}
