/**
 * The WebRTC bridge between the core's Worker and the hosting window: the worker's
 * `PeerConnectionLike` / `DataChannelLike` mirrors (RtcBridgeClient) driving a window's
 * peer connections (PeerConnectionHost), here a scripted RTCPeerConnection, with every
 * message structured-cloned and delivered in a later task as postMessage does.
 */
import { describe, expect, it, vi } from 'vitest';
import { PeerConnectionHost } from '../../src/platform/core-worker/peer-connection-host.ts';
import { RtcBridgeClient } from '../../src/platform/core-worker/remote-peer-connection.ts';
import type { RtcFromWindow, RtcToWindow } from '../../src/platform/core-worker/rtc-bridge-messages.ts';

class FakeChannel extends EventTarget {
  binaryType = 'blob';
  readyState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  readonly sent: Uint8Array[] = [];
  send(data: Uint8Array): void {
    this.sent.push(new Uint8Array(data));
  }
  close(): void {
    this.readyState = 'closed';
    this.dispatchEvent(new Event('close'));
  }
  open(): void {
    this.readyState = 'open';
    this.dispatchEvent(new Event('open'));
  }
  receive(bytes: Uint8Array): void {
    this.dispatchEvent(new MessageEvent('message', { data: bytes.slice().buffer }));
  }
}

class FakePeerConnection {
  static made: FakePeerConnection[] = [];
  signalingState = 'stable';
  connectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  readonly sctp = { maxMessageSize: 64 };
  readonly channels: FakeChannel[] = [];
  readonly candidates: unknown[] = [];
  closed = false;
  onnegotiationneeded: (() => void) | null = null;
  onicecandidate: ((ev: { candidate: { toJSON(): unknown } | null }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  onsignalingstatechange: (() => void) | null = null;
  constructor(readonly config: { iceServers: unknown[] }) {
    FakePeerConnection.made.push(this);
  }
  async setLocalDescription(): Promise<void> {
    this.signalingState = 'have-local-offer';
    this.localDescription = { type: 'offer', sdp: 'v=0\r\na=ice-ufrag:abcd\r\n' };
  }
  async setRemoteDescription(d: { type: string; sdp: string }): Promise<void> {
    if (d.sdp === 'garbage') throw new Error('Failed to parse SessionDescription');
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  async addIceCandidate(c: unknown): Promise<void> {
    this.candidates.push(c);
  }
  createDataChannel(): FakeChannel {
    const c = new FakeChannel();
    this.channels.push(c);
    return c;
  }
  close(): void {
    this.closed = true;
  }
}

function bridged() {
  FakePeerConnection.made = [];
  const toWindow: Array<(m: RtcToWindow) => void> = [];
  const client = new RtcBridgeClient((m: RtcToWindow) => {
    const copy = structuredClone(m);
    setTimeout(() => toWindow[0]!(copy), 0);
  });
  const host = new PeerConnectionHost(FakePeerConnection as unknown as typeof RTCPeerConnection, (m: RtcFromWindow) => {
    const copy = structuredClone(m);
    setTimeout(() => client.receive(copy), 0);
  });
  toWindow.push((m) => host.receive(m));
  return { client, host, pc: () => FakePeerConnection.made.at(-1)! };
}

describe('WebRTC bridge (worker ↔ window)', () => {
  it('a call resolves once the window ran it, and the worker then reads the window’s state', async () => {
    const { client, pc } = bridged();
    const remote = new client.RTCPeerConnection({ iceServers: [{ urls: 'stun:example.org' }] });
    await remote.setLocalDescription();
    expect(pc().config.iceServers).toEqual([{ urls: 'stun:example.org' }]);
    expect(remote.signalingState).toBe('have-local-offer');
    expect(remote.localDescription).toEqual({ type: 'offer', sdp: 'v=0\r\na=ice-ufrag:abcd\r\n' });
    await remote.addIceCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 });
    expect(pc().candidates).toEqual([{ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 }]);
  });

  it('a call the window refuses rejects in the worker with its message, and changes nothing', async () => {
    const { client } = bridged();
    const remote = new client.RTCPeerConnection({ iceServers: [] });
    await expect(remote.setRemoteDescription({ type: 'offer', sdp: 'garbage' })).rejects.toThrow('Failed to parse SessionDescription');
    expect(remote.signalingState).toBe('stable');
  });

  it('the window’s events reach the worker’s handlers with the state they left', async () => {
    const { client, pc } = bridged();
    const remote = new client.RTCPeerConnection({ iceServers: [] });
    const seen: string[] = [];
    remote.onnegotiationneeded = () => seen.push('negotiationneeded');
    remote.onicecandidate = (ev) => seen.push(`ice ${JSON.stringify(ev.candidate?.toJSON() ?? null)}`);
    remote.onconnectionstatechange = () => seen.push(`state ${remote.connectionState}`);
    await vi.waitFor(() => expect(pc()).toBeDefined());
    await vi.waitFor(() => expect(pc().onicecandidate).not.toBeNull());
    pc().onnegotiationneeded!();
    pc().onicecandidate!({ candidate: { toJSON: () => ({ candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 }) } });
    pc().onicecandidate!({ candidate: null });
    pc().connectionState = 'failed';
    pc().onconnectionstatechange!();
    await vi.waitFor(() => expect(seen).toHaveLength(4));
    expect(seen).toEqual(['negotiationneeded', 'ice {"candidate":"c","sdpMid":"0","sdpMLineIndex":0}', 'ice null', 'state failed']);
  });

  it('a data channel carries bytes both ways, refuses what the SCTP transport would, and reports its close', async () => {
    const { client, pc } = bridged();
    const remote = new client.RTCPeerConnection({ iceServers: [] });
    const channel = remote.createDataChannel('petrel', { negotiated: true, id: 0, ordered: true });
    const events: string[] = [];
    const received: number[][] = [];
    channel.addEventListener('open', () => events.push('open'));
    channel.addEventListener('close', () => events.push('close'));
    channel.addEventListener('message', (ev) => received.push([...new Uint8Array(ev.data as ArrayBuffer)]));
    expect(() => channel.send(Uint8Array.of(1))).toThrow('not open');
    await vi.waitFor(() => expect(pc()?.channels).toHaveLength(1));
    const real = pc().channels[0]!;
    expect(real.binaryType).toBe('arraybuffer');
    real.open();
    await vi.waitFor(() => expect(channel.readyState).toBe('open'));
    channel.send(Uint8Array.of(1, 2, 3));
    expect(() => channel.send(new Uint8Array(65))).toThrow(/max-message-size/);
    await vi.waitFor(() => expect(real.sent).toHaveLength(1));
    expect([...real.sent[0]!]).toEqual([1, 2, 3]);
    real.receive(Uint8Array.of(9, 8));
    await vi.waitFor(() => expect(received).toEqual([[9, 8]]));
    real.close();
    await vi.waitFor(() => expect(events).toEqual(['open', 'close']));
    expect(channel.readyState).toBe('closed');
  });

  it('the worker’s bufferedAmount follows the window’s channel: bytes posted minus those the window says left its buffer', async () => {
    const { client, pc } = bridged();
    const remote = new client.RTCPeerConnection({ iceServers: [] });
    const channel = remote.createDataChannel('petrel', { negotiated: true, id: 0, ordered: true });
    await vi.waitFor(() => expect(pc()?.channels).toHaveLength(1));
    const real = pc().channels[0]!;
    real.open();
    await vi.waitFor(() => expect(channel.readyState).toBe('open'));
    // The window's buffer is full (above its 256 KiB report mark): no report yet.
    real.bufferedAmount = 300_000;
    for (let i = 0; i < 3; i++) channel.send(new Uint8Array(40));
    expect(channel.bufferedAmount).toBe(120);
    await vi.waitFor(() => expect(real.sent).toHaveLength(3));
    expect(channel.bufferedAmount).toBe(120);
    let low = 0;
    channel.bufferedAmountLowThreshold = 50;
    channel.addEventListener('bufferedamountlow', () => low++);
    // It drains: the window says so, and the worker's channel fires its own event.
    real.bufferedAmount = 0;
    real.dispatchEvent(new Event('bufferedamountlow'));
    await vi.waitFor(() => expect(channel.bufferedAmount).toBe(0));
    expect(low).toBe(1);
    // A send that leaves the buffer low is reported at once.
    channel.send(new Uint8Array(10));
    expect(channel.bufferedAmount).toBe(10);
    await vi.waitFor(() => expect(channel.bufferedAmount).toBe(0));
  });

  it('closing in the worker closes the window’s connection and fails the calls still waiting; reset closes the rest', async () => {
    const { client, host } = bridged();
    const one = new client.RTCPeerConnection({ iceServers: [] });
    const two = new client.RTCPeerConnection({ iceServers: [] });
    await two.setLocalDescription(); // both exist in the window now
    const waiting = one.setLocalDescription();
    one.close();
    await expect(waiting).rejects.toThrow('closed');
    expect(one.signalingState).toBe('closed');
    await vi.waitFor(() => expect(FakePeerConnection.made[0]!.closed).toBe(true));
    expect(FakePeerConnection.made[1]!.closed).toBe(false);
    host.reset();
    expect(FakePeerConnection.made[1]!.closed).toBe(true);
  });
});
