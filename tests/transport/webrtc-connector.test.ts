import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';
import { DirectTransport } from '../../src/core/transport/direct-transport.ts';
import type { IncomingEnvelope } from '../../src/core/transport/transport.ts';
import { WebRtcConnector, type PeerConnectionConstructor, type RtcSignal } from '../../src/platform/webrtc/webrtc-connector.ts';
import { bridgedFakePeerConnection } from './bridged-fake-webrtc.ts';
import { FakePeerConnection } from './fake-webrtc.ts';
import { flush } from './fakes.ts';

const mailboxA = new Uint8Array(32).fill(1);
const mailboxB = new Uint8Array(32).fill(2);

function side(own: Uint8Array, clock: FakeClock, deliver: (signal: RtcSignal) => void, RTCPeerConnection: PeerConnectionConstructor = FakePeerConnection) {
  const metrics = new InMemoryMetrics();
  const transport = new DirectTransport({ clock, metrics, logger: silentLogger, ownMailbox: own });
  const connector = new WebRtcConnector({
    RTCPeerConnection,
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
  // Signals are delivered asynchronously, as through the relay; while a side is `offline`
  // the relay drops what is sent to it (and tells nobody which signal that was).
  const offline = { a: false, b: false };
  const a = side(mailboxA, clock, (s) => {
    a.signals.push(s);
    if (!offline.b) queueMicrotask(() => void b.connector.handleSignal(mailboxA, s));
  });
  const b = side(mailboxB, clock, (s) => {
    b.signals.push(s);
    if (!offline.a) queueMicrotask(() => void a.connector.handleSignal(mailboxB, s));
  });
  return { clock, a, b, offline };
}

const rtcRefusals = (m: InMemoryMetrics) => m.counter('packet.validation.failure', { reason: 'rtc_signal' });

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
    const before = FakePeerConnection.created.length;
    a.connector.connect(mailboxB);
    b.connector.connect(mailboxA);
    await flush(8);
    expect(a.transport.isAvailable(mailboxB)).toBe(true);
    expect(b.transport.isAvailable(mailboxA)).toBe(true);
    // One connection a side: the impolite side (A) sent its offer again on the collision,
    // and the polite side recognised the copy of the offer it had already answered.
    expect(FakePeerConnection.created.length - before).toBe(2);
    expect(a.metrics.counter('direct.offer.resent')).toBe(1);
    expect(rtcRefusals(a.metrics) + rtcRefusals(b.metrics)).toBe(0);
  });

  it('an offer lost while the polite peer was offline is sent again when that peer offers: no wait for a timeout', async () => {
    const { a, b, clock, offline } = setup();
    offline.b = true;
    a.connector.connect(mailboxB); // A (impolite) offers; the relay drops it and its candidates
    await flush(5);
    offline.b = false;
    clock.advance(2_000); // well within A's attempt (5 s here), long after any real glare
    b.connector.connect(mailboxA); // B comes online and offers: a collision on A's side
    await flush(8);
    expect(a.transport.isAvailable(mailboxB)).toBe(true);
    expect(b.transport.isAvailable(mailboxA)).toBe(true);
    expect(a.metrics.counter('direct.offer.resent')).toBe(1);
  });

  it('the polite side with a lost offer of its own answers the impolite peer at once', async () => {
    const { a, b, clock, offline } = setup();
    offline.a = true;
    b.connector.connect(mailboxA); // B (polite) offers into the void
    await flush(5);
    offline.a = false;
    clock.advance(2_000);
    a.connector.connect(mailboxB);
    await flush(8);
    expect(a.transport.isAvailable(mailboxB)).toBe(true);
    expect(b.transport.isAvailable(mailboxA)).toBe(true);
    expect(a.metrics.counter('direct.offer.resent')).toBe(0);
  });

  it.each([
    ['the polite side', 'b'],
    ['the impolite side', 'a'],
  ] as const)('when %s loses a live connection unnoticed by the peer, its new offer replaces the old connection', async (_, who) => {
    const { a, b } = setup();
    a.connector.connect(mailboxB);
    await flush(5);
    const [dying, peer, dyingAddress, peerAddress] = who === 'b' ? [b, a, mailboxB, mailboxA] : [a, b, mailboxA, mailboxB];
    const oldPc = FakePeerConnection.created.at(-1)!;
    expect(peer.transport.isAvailable(dyingAddress)).toBe(true);
    // The connection dies on one side only (the peer hears no close: its end still looks open).
    for (const pc of FakePeerConnection.created.slice(-2)) if (pc.channel) pc.channel.remote = undefined;
    dying.connector.drop(peerAddress);
    expect(peer.transport.isAvailable(dyingAddress)).toBe(true);
    dying.connector.connect(peerAddress);
    await flush(8);
    // The peer did not try to renegotiate its live connection (a browser refuses the new
    // fingerprint): it closed it and answered on a new one.
    expect(oldPc.connectionState).toBe('closed');
    expect(dying.transport.isAvailable(peerAddress)).toBe(true);
    expect(peer.transport.isAvailable(dyingAddress)).toBe(true);
    expect(rtcRefusals(peer.metrics)).toBe(0);
  });

  it('an answer to nothing pending (late, or a copy) changes nothing and is not an error', async () => {
    const { a, b } = setup();
    a.connector.connect(mailboxB);
    await flush(5);
    const answer = b.signals.find((x) => x.kind === 'answer')!;
    await a.connector.handleSignal(mailboxB, answer);
    expect(a.transport.isAvailable(mailboxB)).toBe(true);
    expect(rtcRefusals(a.metrics)).toBe(0);
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

  it('an offer that reaches a connection just made, before the window reports its negotiationneeded, is answered once and the channel opens (Worker bridge)', async () => {
    // Through the Worker bridge the connector sees each event a task late: B's own
    // `negotiationneeded` arrives while it is already applying A's offer. B must not start
    // an offer of its own on that connection (it used to: B's second setLocalDescription made
    // a new offer, sent as an "answer", and A refused it; or A replaced its good connection).
    const clock = new FakeClock(0);
    const held: RtcSignal[] = [];
    let holdForB = true;
    const a = side(mailboxA, clock, (s) => {
      a.signals.push(s);
      if (holdForB) held.push(s);
      else setTimeout(() => void b.connector.handleSignal(mailboxA, s), 0);
    }, bridgedFakePeerConnection());
    const b = side(mailboxB, clock, (s) => {
      b.signals.push(s);
      setTimeout(() => void a.connector.handleSignal(mailboxB, s), 0);
    }, bridgedFakePeerConnection());
    a.connector.connect(mailboxB);
    await vi.waitFor(() => expect(held.some((s) => s.kind === 'offer')).toBe(true));
    // B connects (a message from A just came in) and A's offer follows at once.
    b.connector.connect(mailboxA);
    holdForB = false;
    for (const s of held.splice(0)) void b.connector.handleSignal(mailboxA, s);
    await vi.waitFor(() => {
      expect(a.transport.isAvailable(mailboxB)).toBe(true);
      expect(b.transport.isAvailable(mailboxA)).toBe(true);
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(rtcRefusals(a.metrics) + rtcRefusals(b.metrics)).toBe(0);
    expect(b.signals.filter((s) => s.kind === 'offer')).toEqual([]);
    expect(a.transport.isAvailable(mailboxB) && b.transport.isAvailable(mailboxA)).toBe(true);
  });
});
