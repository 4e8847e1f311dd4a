import { describe, expect, it } from 'vitest';
import { DirectTransport } from '../../src/core/transport/direct-transport.ts';
import { IngressGuard } from '../../src/core/transport/ingress-guard.ts';
import { wireFrameDecoder } from '../../src/core/transport/wire-frame-decoder.ts';
import { Router } from '../../src/core/transport/router.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';
import { seededRandom } from '../../src/core/random.ts';
import { encodeFrame } from '../../src/core/wire/index.ts';
import type { IncomingEnvelope, TransportStateChange } from '../../src/core/transport/transport.ts';
import { FakeTransport, flush, pairedChannels } from './fakes.ts';
import { deliver } from './deliver.ts';

const mailboxA = new Uint8Array(32).fill(0xa);
const mailboxB = new Uint8Array(32).fill(0xb);
let n = 0;
const envTo = (to: Uint8Array) => {
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(0, ++n);
  return { to, id, body: new Uint8Array([1, 2, 3]) };
};

function pair() {
  const clock = new FakeClock(0);
  const metricsA = new InMemoryMetrics();
  const metricsB = new InMemoryMetrics();
  const a = new DirectTransport({ clock, metrics: metricsA, logger: silentLogger, ownMailbox: mailboxA, ackTimeoutMs: 1_000 });
  const b = new DirectTransport({ clock, metrics: metricsB, logger: silentLogger, ownMailbox: mailboxB, ackTimeoutMs: 1_000 });
  const [chA, chB] = pairedChannels();
  const states: TransportStateChange[] = [];
  a.onStateChange((s) => states.push(s));
  a.attach(mailboxB, chA);
  b.attach(mailboxA, chB);
  const receivedByB: IncomingEnvelope[] = [];
  b.onEnvelope((i) => receivedByB.push(i));
  return { clock, a, b, chA, chB, states, receivedByB, metricsA, metricsB };
}

describe('direct transport', () => {
  it('is available only for destinations with an open channel, and announces it', () => {
    const { a, states } = pair();
    expect(a.isAvailable(mailboxB)).toBe(true);
    expect(a.isAvailable(mailboxA)).toBe(false);
    expect(a.connectedCount()).toBe(1);
    expect(states).toEqual([{ transport: 'direct', destination: mailboxB, available: true }]);
  });

  it('a send resolves only after the peer acks (after its commit), batched as p2p.ack', async () => {
    const { a, clock, receivedByB, chB } = pair();
    let done = 0;
    const sends = [envTo(mailboxB), envTo(mailboxB)].map((e) => a.send(e).then(() => done++));
    await flush();
    expect(receivedByB).toHaveLength(2);
    expect(done).toBe(0);
    for (const i of receivedByB) i.ack();
    clock.advance(20);
    await Promise.all(sends);
    expect(done).toBe(2);
    expect(chB.sentFrames).toHaveLength(1); // one p2p.ack frame for both
  });

  it('rejects an envelope the wire format refuses, and nothing goes on the channel', async () => {
    const { a, chA } = pair();
    await expect(a.send({ ...envTo(mailboxB), id: new Uint8Array(15) })).rejects.toMatchObject({ kind: 'rejected', transport: 'direct' });
    expect(chA.sentFrames).toHaveLength(0);
  });

  it('times out without an ack and fails pending sends when the channel closes', async () => {
    const { a, clock, chA, states } = pair();
    const lost = a.send(envTo(mailboxB));
    const check1 = expect(lost).rejects.toMatchObject({ kind: 'timeout', transport: 'direct' });
    clock.advance(1_000);
    await check1;
    const cut = a.send(envTo(mailboxB));
    const check2 = expect(cut).rejects.toMatchObject({ kind: 'disconnected' });
    chA.close();
    await check2;
    expect(a.isAvailable(mailboxB)).toBe(false);
    expect(states.at(-1)).toEqual({ transport: 'direct', destination: mailboxB, available: false });
    await expect(a.send(envTo(mailboxB))).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('validates peer frames: relay frames, garbage and envelopes for another mailbox are counted and dropped', async () => {
    const { chA, receivedByB, metricsB } = pair();
    chA.send(encodeFrame({ t: 'pong', rid: 1 }));
    chA.send(new Uint8Array([0xff, 0x00]));
    chA.send(encodeFrame({ t: 'p2p.env', env: envTo(new Uint8Array(32).fill(0xc)) }));
    await flush();
    expect(receivedByB).toHaveLength(0);
    expect(metricsB.counter('packet.validation.failure', { reason: 'unknown_type' })).toBe(1);
    expect(metricsB.counter('packet.validation.failure', { reason: 'malformed' })).toBe(1);
    expect(metricsB.counter('packet.validation.failure', { reason: 'wrong_destination' })).toBe(1);
  });

  it('decodes every incoming frame through the ingress guard it is given, and nowhere else', async () => {
    const clock = new FakeClock(0);
    const metrics = new InMemoryMetrics();
    const guard = new IngressGuard({ decode: wireFrameDecoder(), metrics, logger: silentLogger });
    const checked: Array<[number, string]> = [];
    const ingress = { checkFrame: (bytes: Uint8Array, transport: 'relay' | 'direct') => (checked.push([bytes.length, transport]), guard.checkFrame(bytes, transport)) };
    const b = new DirectTransport({ clock, metrics, logger: silentLogger, ownMailbox: mailboxB, ingress });
    const [chA, chB] = pairedChannels();
    b.attach(mailboxA, chB);
    const received: IncomingEnvelope[] = [];
    b.onEnvelope((i) => received.push(i));
    const good = encodeFrame({ t: 'p2p.env', env: envTo(mailboxB) });
    chA.send(good);
    chA.send(encodeFrame({ t: 'pong', rid: 1 }));
    await flush();
    expect(checked).toEqual([
      [good.length, 'direct'],
      [encodeFrame({ t: 'pong', rid: 1 }).length, 'direct'],
    ]);
    expect(received).toHaveLength(1);
    expect(metrics.counter('packet.validation.failure', { reason: 'unknown_type' })).toBe(1);
  });

  it('with the router: direct first; when the channel dies, in-flight and later messages fail over to the relay', async () => {
    const { a, clock, receivedByB, chA, metricsA } = pair();
    const relay = new FakeTransport('relay');
    const router = new Router([relay, a], { clock, random: seededRandom(3), metrics: metricsA, logger: silentLogger });
    const first = deliver(router, clock, envTo(mailboxB));
    await flush();
    receivedByB[0]!.ack();
    clock.advance(20);
    expect(await first).toMatchObject({ transport: 'direct' });
    const second = deliver(router, clock, envTo(mailboxB));
    await flush();
    chA.close(); // the data channel dies before B's ack
    expect(await second).toMatchObject({ transport: 'relay' });
    expect(metricsA.counter('transport.failover')).toBe(1);
    expect(await deliver(router, clock, envTo(mailboxB))).toMatchObject({ transport: 'relay' });
    expect(relay.sent).toHaveLength(2);
    router.dispose();
  });
});
