import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';
import { DirectTransport } from '../../src/core/transport/direct-transport.ts';
import type { IncomingEnvelope } from '../../src/core/transport/transport.ts';
import { WebRtcConnector, type RtcSignal } from '../../src/platform/webrtc/webrtc-connector.ts';
import { FakePeerConnection } from './fake-webrtc.ts';
import { flush } from './fakes.ts';

const mailboxA = new Uint8Array(32).fill(1);
const mailboxB = new Uint8Array(32).fill(2);

function side(own: Uint8Array, clock: FakeClock, deliver: (signal: RtcSignal) => void) {
  const metrics = new InMemoryMetrics();
  const transport = new DirectTransport({ clock, metrics, logger: silentLogger, ownMailbox: own });
  const connector = new WebRtcConnector({
    RTCPeerConnection: FakePeerConnection,
    ownMailbox: own,
    transport,
    sendSignal: (_to, signal) => deliver(signal),
    clock,
    metrics,
    logger: silentLogger,
    connectTimeoutMs: 5_000,
  });
  const received: IncomingEnvelope[] = [];
  transport.onEnvelope((i) => received.push(i));
  return { transport, connector, metrics, received, signals: [] as RtcSignal[] };
}

function setup() {
  const clock = new FakeClock(0);
  // Signals are delivered asynchronously, as through the relay.
  const a = side(mailboxA, clock, (s) => {
    a.signals.push(s);
    queueMicrotask(() => void b.connector.handleSignal(mailboxA, s));
  });
  const b = side(mailboxB, clock, (s) => {
    b.signals.push(s);
    queueMicrotask(() => void a.connector.handleSignal(mailboxB, s));
  });
  return { clock, a, b };
}

describe('WebRTC connector (fake RTCPeerConnection)', () => {
  it('one side connects: offer, answer, ICE; both direct transports get a live channel that carries envelopes', async () => {
    const { a, b, clock } = setup();
    a.connector.connect(mailboxB);
    await flush(5);
    expect(a.transport.isAvailable(mailboxB)).toBe(true);
    expect(b.transport.isAvailable(mailboxA)).toBe(true);
    expect(a.signals.map((s) => s.kind)).toContain('offer');
    expect(b.signals.map((s) => s.kind)).toContain('answer');
    const last = FakePeerConnection.created.at(-1)!;
    expect(last.addedCandidates.length).toBeGreaterThan(0);
    expect(last.config.iceServers).toEqual([]); // no STUN/TURN by default
    const id = new Uint8Array(16).fill(9);
    const sending = a.transport.send({ to: mailboxB, id, body: new Uint8Array([1]) });
    await flush();
    expect(b.received).toHaveLength(1);
    b.received[0]!.ack();
    clock.advance(20);
    await sending;
  });

  it('both sides connect at once (glare): perfect negotiation still ends with one working channel', async () => {
    const { a, b } = setup();
    a.connector.connect(mailboxB);
    b.connector.connect(mailboxA);
    await flush(8);
    expect(a.transport.isAvailable(mailboxB)).toBe(true);
    expect(b.transport.isAvailable(mailboxA)).toBe(true);
  });

  it('bye closes the channel on both sides; the direct path becomes unavailable', async () => {
    const { a, b } = setup();
    a.connector.connect(mailboxB);
    await flush(5);
    a.connector.disconnect(mailboxB);
    await flush();
    expect(a.transport.isAvailable(mailboxB)).toBe(false);
    expect(b.transport.isAvailable(mailboxA)).toBe(false);
  });

  it('malformed signals are counted and change nothing', async () => {
    const { a } = setup();
    await a.connector.handleSignal(mailboxB, { kind: 'offer', data: 'not json' });
    await a.connector.handleSignal(mailboxB, { kind: 'answer', data: JSON.stringify({ type: 'offer', sdp: 'x' }) });
    expect(a.metrics.counter('packet.validation.failure', { reason: 'rtc_signal' })).toBe(2);
    expect(a.transport.isAvailable(mailboxB)).toBe(false);
  });

  it('gives up on a peer that never answers', async () => {
    const clock = new FakeClock(0);
    const lonely = side(mailboxA, clock, () => {});
    lonely.connector.connect(mailboxB);
    await flush();
    const pc = FakePeerConnection.created.at(-1)!;
    clock.advance(5_000);
    expect(pc.connectionState).toBe('closed');
    expect(lonely.transport.isAvailable(mailboxB)).toBe(false);
  });
});
