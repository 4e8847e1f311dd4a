/**
 * The WebSocket relay transport against the real relay on loopback, behind a proxy that
 * makes the link misbehave on demand (faulty-relay.ts); the transport's timers run on a
 * FakeClock so heartbeats, timeouts and reconnect backoff are driven by the test.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, type Socket } from 'node:net';
import { WebSocket as NodeWebSocket } from 'ws';
import { ed25519 } from '@noble/curves/ed25519.js';
import { FakeClock } from '../../src/core/clock.ts';
import { buildPublishedBundle, createPreKeyPool, generateIdentity, type Identity } from '../../src/core/crypto/index.ts';
import { secureRandom } from '../../src/core/random.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Random } from '../../src/core/random.ts';
import { encodeFrame, mailboxAddress } from '../../src/core/wire/index.ts';
import type { IncomingEnvelope } from '../../src/core/transport/transport.ts';
import type { RelayConnectionState } from '../../src/core/transport/relay-connection-state.ts';
import {
  RelayRequestError,
  WsRelayTransport,
  type NetworkSignal,
  type NetworkSignals,
  type RelaySocketConstructor,
  type WsRelayConfig,
} from '../../src/platform/ws-relay-transport.ts';
import { FaultyRelay } from './faulty-relay.ts';
import { flush } from './fakes.ts';

/** Jitter pinned near the top of the window so backoff delays are predictable. */
const topOfWindow: Random = { float: () => 0.999, bytes: (n) => new Uint8Array(n) };

class TestNetwork implements NetworkSignals {
  online = true;
  private listeners = new Set<(s: NetworkSignal) => void>();
  isOnline(): boolean {
    return this.online;
  }
  subscribe(l: (s: NetworkSignal) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  fire(s: NetworkSignal): void {
    if (s === 'online') this.online = true;
    if (s === 'offline') this.online = false;
    for (const l of this.listeners) l(s);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startRelay(): Promise<FaultyRelay> {
  const relay = await new FaultyRelay().start();
  cleanups.push(() => relay.stop());
  return relay;
}

function client(relay: { readonly url: string }, options: { config?: Partial<WsRelayConfig>; network?: TestNetwork; clock?: FakeClock; identity?: Identity } = {}) {
  const sk = ed25519.utils.randomSecretKey();
  const ik = options.identity?.publicKey ?? ed25519.getPublicKey(sk);
  const clock = options.clock ?? new FakeClock();
  const metrics = new InMemoryMetrics();
  const network = options.network ?? new TestNetwork();
  const transport = new WsRelayTransport({
    url: relay.url,
    WebSocket: NodeWebSocket as RelaySocketConstructor,
    identityKey: ik,
    sign: async (payload) => (options.identity ? options.identity.sign(payload) : ed25519.sign(payload, sk)),
    clock,
    random: topOfWindow,
    metrics,
    logger: silentLogger,
    network,
    config: options.config ?? {},
  });
  const states: RelayConnectionState['kind'][] = [];
  transport.onConnectionState((s) => states.push(s.kind));
  const incoming: IncomingEnvelope[] = [];
  transport.onEnvelope((i) => incoming.push(i));
  cleanups.push(() => transport.stop());
  return { transport, ik, mailbox: mailboxAddress(ik), clock, metrics, network, states, incoming };
}

const online = async (t: WsRelayTransport) => vi.waitFor(() => expect(t.state.kind).toBe('online'), { timeout: 5_000, interval: 5 });

let counter = 0;
function envTo(mailbox: Uint8Array, text = 'x') {
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(0, ++counter);
  return { to: mailbox, id, body: new TextEncoder().encode(text) };
}

describe('ws relay transport: handshake and sending', () => {
  it('authenticates with a signed challenge and goes online; the relay confirms our mailbox', async () => {
    const relay = await startRelay();
    const a = client(relay);
    expect(a.transport.isAvailable(a.mailbox)).toBe(false);
    a.transport.start();
    await online(a.transport);
    expect(a.states).toEqual(['connecting', 'authenticating', 'online']);
    expect(a.transport.mailboxAddress).toEqual(a.mailbox);
    expect(a.transport.isAvailable(a.mailbox)).toBe(true);
    expect(relay.framesOfType('auth')[0]!.ik).toEqual(a.ik);
  });

  it('send resolves only on the relay\'s sent{rid}, with the envelope stored', async () => {
    const relay = await startRelay();
    const a = client(relay);
    const b = client(relay);
    a.transport.start();
    await online(a.transport);
    const env = envTo(b.mailbox, 'hello');
    await a.transport.send(env);
    expect(relay.queued(b.mailbox)).toBe(1);
  });

  it('maps relay error codes to failure kinds and times out a silent relay', async () => {
    const relay = await startRelay();
    const a = client(relay);
    a.transport.start();
    await online(a.transport);
    relay.failSendsWith = 'mailbox_full';
    await expect(a.transport.send(envTo(a.mailbox))).rejects.toMatchObject({ kind: 'destination_full', code: 'mailbox_full' });
    relay.failSendsWith = 'too_large';
    await expect(a.transport.send(envTo(a.mailbox))).rejects.toMatchObject({ kind: 'rejected', code: 'too_large' });
    relay.failSendsWith = 'rate_limited';
    await expect(a.transport.send(envTo(a.mailbox))).rejects.toMatchObject({ kind: 'overloaded', code: 'rate_limited' });
    relay.failSendsWith = undefined;
    relay.answerSends = false;
    const pending = a.transport.send(envTo(a.mailbox));
    const check = expect(pending).rejects.toMatchObject({ kind: 'timeout' });
    await vi.waitFor(() => expect(relay.framesOfType('send')).toHaveLength(4), { interval: 5 });
    a.clock.advance(10_000);
    await check;
  });

  it('rejects an envelope the wire format refuses (too large) at once, without touching the link', async () => {
    const relay = await startRelay();
    const a = client(relay);
    a.transport.start();
    await online(a.transport);
    const big = { ...envTo(a.mailbox), body: new Uint8Array(192 * 1024 + 1) };
    await expect(a.transport.send(big)).rejects.toMatchObject({ kind: 'rejected', code: 'invalid_field' });
    expect(relay.framesOfType('send')).toHaveLength(0);
    expect(a.transport.state.kind).toBe('online');
  });

  it('refuses to send while not online, and fails in-flight sends when the link drops', async () => {
    const relay = await startRelay();
    const a = client(relay);
    await expect(a.transport.send(envTo(a.mailbox))).rejects.toMatchObject({ kind: 'unavailable' });
    a.transport.start();
    await online(a.transport);
    relay.answerSends = false;
    const pending = a.transport.send(envTo(a.mailbox));
    const check = expect(pending).rejects.toMatchObject({ kind: 'disconnected' });
    await vi.waitFor(() => expect(relay.framesOfType('send')).toHaveLength(1), { interval: 5 });
    relay.dropConnections();
    await check;
  });
});

describe('ws relay transport: receiving and acks', () => {
  it('hands pushes to the core and acks (batched) only when the core says it committed', async () => {
    const relay = await startRelay();
    const a = client(relay);
    const b = client(relay);
    a.transport.start();
    b.transport.start();
    await Promise.all([online(a.transport), online(b.transport)]);
    const envs = [1, 2, 3, 4, 5].map((i) => envTo(b.mailbox, `m${i}`));
    await Promise.all(envs.map((e) => a.transport.send(e)));
    await vi.waitFor(() => expect(b.incoming).toHaveLength(5), { interval: 5 });
    expect(b.incoming.map((i) => new TextDecoder().decode(i.envelope.body)).sort()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    await flush();
    expect(relay.framesOfType('ack')).toHaveLength(0); // nothing committed yet
    for (const i of b.incoming) i.ack();
    b.clock.advance(20); // the batch delay
    await vi.waitFor(() => expect(relay.queued(b.mailbox)).toBe(0), { interval: 5 });
    expect(relay.framesOfType('ack')).toHaveLength(1);
    expect(relay.framesOfType('ack')[0]!.ids).toHaveLength(5);
  });

  it('sends waiting acks right behind a deposit, so the relay commits them together', async () => {
    const relay = await startRelay();
    const a = client(relay);
    const b = client(relay);
    a.transport.start();
    b.transport.start();
    await Promise.all([online(a.transport), online(b.transport)]);
    await a.transport.send(envTo(b.mailbox, 'hello'));
    await vi.waitFor(() => expect(b.incoming).toHaveLength(1), { interval: 5 });
    b.incoming[0]!.ack(); // committed: the ack waits up to the batch delay for company
    await flush();
    expect(relay.framesOfType('ack')).toHaveLength(0);
    // The delivery receipt goes out before the delay is up (the clock never moves): the ack follows it at once.
    await b.transport.send(envTo(a.mailbox, 'receipt'));
    await vi.waitFor(() => expect(relay.framesOfType('ack')).toHaveLength(1), { interval: 5 });
    const fromB = relay.received.filter((f) => f.t === 'send' || f.t === 'ack').slice(-2);
    expect(fromB.map((f) => f.t)).toEqual(['send', 'ack']);
    expect(relay.queued(b.mailbox)).toBe(0);
  });

  it('unacked envelopes come back after a reconnect; acked ones do not', async () => {
    const relay = await startRelay();
    const a = client(relay);
    const b = client(relay);
    a.transport.start();
    await online(a.transport);
    const [e1, e2] = [envTo(b.mailbox, 'one'), envTo(b.mailbox, 'two')];
    await a.transport.send(e1);
    await a.transport.send(e2);
    b.transport.start();
    await vi.waitFor(() => expect(b.incoming).toHaveLength(2), { interval: 5 });
    b.incoming.find((i) => i.envelope.id.every((x, k) => x === e1.id[k]))!.ack();
    b.clock.advance(20);
    await vi.waitFor(() => expect(relay.queued(b.mailbox)).toBe(1), { interval: 5 });
    relay.dropConnections();
    await vi.waitFor(() => expect(b.transport.state.kind).toBe('reconnecting'), { interval: 5 });
    b.clock.advance(1_000);
    await online(b.transport);
    await vi.waitFor(() => expect(b.incoming).toHaveLength(3), { interval: 5 });
    expect(new TextDecoder().decode(b.incoming[2]!.envelope.body)).toBe('two');
  });

  it('says it caught up once every envelope waiting at ready is acknowledged, not before; a reconnect starts over', async () => {
    const relay = await startRelay();
    const a = client(relay);
    const b = client(relay);
    a.transport.start();
    await online(a.transport);
    for (const text of ['one', 'two', 'three']) await a.transport.send(envTo(b.mailbox, text));
    let caughtUp = 0;
    b.transport.onCaughtUp(() => caughtUp++);
    b.transport.start();
    await vi.waitFor(() => expect(b.incoming).toHaveLength(3), { interval: 5 });
    expect(b.transport.caughtUp).toBe(false);
    b.incoming[0]!.ack();
    b.incoming[0]!.ack(); // the same envelope twice counts once
    b.incoming[2]!.ack();
    expect([caughtUp, b.transport.caughtUp]).toEqual([0, false]);
    b.incoming[1]!.ack();
    expect([caughtUp, b.transport.caughtUp]).toEqual([1, true]);

    // A new connection with an empty mailbox has caught up at ready.
    b.clock.advance(20);
    await vi.waitFor(() => expect(relay.queued(b.mailbox)).toBe(0), { interval: 5 });
    relay.dropConnections();
    await vi.waitFor(() => expect(b.transport.caughtUp).toBe(false), { interval: 5 });
    b.clock.advance(1_000);
    await online(b.transport);
    await vi.waitFor(() => expect(caughtUp).toBe(2), { interval: 5 });
  });

  it('acks made while disconnected are sent after the next ready', async () => {
    const relay = await startRelay();
    const a = client(relay);
    const b = client(relay);
    a.transport.start();
    b.transport.start();
    await Promise.all([online(a.transport), online(b.transport)]);
    await a.transport.send(envTo(b.mailbox));
    await vi.waitFor(() => expect(b.incoming).toHaveLength(1), { interval: 5 });
    relay.dropConnections();
    await vi.waitFor(() => expect(b.transport.state.kind).toBe('reconnecting'), { interval: 5 });
    b.incoming[0]!.ack(); // the commit finished after the link dropped
    b.clock.advance(1_000);
    await online(b.transport);
    await vi.waitFor(() => expect(relay.queued(b.mailbox)).toBe(0), { interval: 5 });
  });

  it('drops and counts a malformed frame from the relay and stays connected', async () => {
    const relay = await startRelay();
    const a = client(relay);
    a.transport.start();
    await online(a.transport);
    relay.sendRaw(new Uint8Array([0xa1, 0x61, 0x76, 0x02]));
    relay.sendRaw(encodeFrame({ t: 'ready', mailbox: new Uint8Array(32), queued: 0 }).subarray(0, 5));
    await vi.waitFor(() => expect(a.metrics.counter('packet.validation.failure', { reason: 'unsupported_version' })).toBe(1), { interval: 5 });
    await vi.waitFor(() => expect(a.metrics.counter('packet.validation.failure', { reason: 'malformed' })).toBe(1), { interval: 5 });
    expect(a.transport.state.kind).toBe('online');
    await a.transport.send(envTo(a.mailbox));
  });
});

describe('ws relay transport: liveness and reconnecting', () => {
  it('reconnectNow skips the backoff wait while reconnecting, and does nothing otherwise', async () => {
    const relay = await startRelay();
    const a = client(relay, { config: { reconnect: { baseMs: 600_000, capMs: 600_000 } } });
    a.transport.reconnectNow(); // not started: nothing
    expect(a.transport.state.kind).toBe('offline');
    a.transport.start();
    await online(a.transport);
    a.transport.reconnectNow(); // online: nothing
    expect(a.transport.state.kind).toBe('online');
    expect(a.metrics.counter('relay.reconnect_now')).toBe(0);
    relay.dropConnections();
    await vi.waitFor(() => expect(a.transport.state.kind).toBe('reconnecting'), { interval: 5 });
    expect(a.clock.pending()).toBeGreaterThan(0);
    a.transport.reconnectNow();
    expect(a.transport.state.kind).not.toBe('reconnecting');
    await online(a.transport); // without the clock moving on
    expect(a.metrics.counter('relay.reconnect_now')).toBe(1);
    await a.transport.send(envTo(a.mailbox));
  });

  it('a missed pong closes the link and reconnects with full-jitter backoff, reset after ready', async () => {
    const relay = await startRelay();
    const a = client(relay, { config: { heartbeatIntervalMs: 1_000, pongTimeoutMs: 500, reconnect: { baseMs: 100, capMs: 1_000 } } });
    a.transport.start();
    await online(a.transport);
    a.clock.advance(1_000);
    await vi.waitFor(() => expect(relay.framesOfType('ping')).toHaveLength(1), { interval: 5 });
    relay.answerPings = false;
    a.clock.advance(1_000); // second ping goes out, unanswered
    await vi.waitFor(() => expect(relay.framesOfType('ping')).toHaveLength(2), { interval: 5 });
    a.clock.advance(500);
    expect(a.transport.state).toEqual({ kind: 'reconnecting', at: a.clock.now() + 99 });
    expect(a.metrics.counter('relay.heartbeat.missed')).toBe(1);
    // Connection attempts that fail widen the window: make the relay refuse auth.
    relay.rejectAuth = true;
    a.clock.advance(99);
    await vi.waitFor(() => expect(a.transport.state.kind).toBe('reconnecting'), { interval: 5 });
    expect((a.transport.state as { at: number }).at - a.clock.now()).toBe(199);
    relay.rejectAuth = false;
    relay.answerPings = true;
    a.clock.advance(199);
    await online(a.transport);
    relay.dropConnections();
    await vi.waitFor(() => expect(a.transport.state.kind).toBe('reconnecting'), { interval: 5 });
    expect((a.transport.state as { at: number }).at - a.clock.now()).toBe(99); // reset after ready
  });

  it('pauses while the browser is offline and resumes at once on online; visibility probes a live link', async () => {
    const relay = await startRelay();
    const network = new TestNetwork();
    network.online = false;
    const a = client(relay, { network });
    a.transport.start();
    expect(a.transport.state.kind).toBe('offline');
    await flush();
    expect(relay.connections).toBe(0);
    network.fire('online');
    await online(a.transport);
    network.fire('offline');
    expect(a.transport.state.kind).toBe('offline');
    await vi.waitFor(() => expect(relay.connections).toBe(0), { interval: 5 });
    expect(a.clock.pending()).toBe(0); // no reconnect timer while offline
    network.fire('visible'); // still offline: nothing
    expect(a.transport.state.kind).toBe('offline');
    network.fire('online');
    await online(a.transport);
    network.fire('pageshow');
    await vi.waitFor(() => expect(relay.framesOfType('ping')).toHaveLength(1), { interval: 5 });
  });

  it('survives a relay restart without losing an envelope', async () => {
    const relay = await startRelay();
    const a = client(relay);
    const b = client(relay);
    a.transport.start();
    b.transport.start();
    await Promise.all([online(a.transport), online(b.transport)]);
    await relay.restart();
    await vi.waitFor(() => expect(a.transport.state.kind).toBe('reconnecting'), { interval: 5 });
    await vi.waitFor(() => expect(b.transport.state.kind).toBe('reconnecting'), { interval: 5 });
    a.clock.advance(1_000);
    b.clock.advance(1_000);
    await Promise.all([online(a.transport), online(b.transport)]);
    await a.transport.send(envTo(b.mailbox, 'after restart'));
    await vi.waitFor(() => expect(b.incoming).toHaveLength(1), { interval: 5 });
  });

  it('gives up on a relay that accepts TCP but never completes the handshake, without crashing', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), silent.close(() => r()))));
    const port = (silent.address() as { port: number }).port;
    const a = client({ url: `ws://127.0.0.1:${port}/ws` });
    a.transport.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1), { interval: 5 });
    expect(a.transport.state.kind).toBe('connecting');
    a.clock.advance(10_000); // handshake timeout while the socket is still CONNECTING
    expect(a.transport.state.kind).toBe('reconnecting');
    await flush(5);
    a.clock.advance(1_000);
    await vi.waitFor(() => expect(sockets).toHaveLength(2), { interval: 5 }); // it tries again
  });

  it('treats auth_failed as a dead link and backs off', async () => {
    const relay = await startRelay();
    relay.rejectAuth = true;
    const a = client(relay);
    a.transport.start();
    await vi.waitFor(() => expect(a.transport.state.kind).toBe('reconnecting'), { interval: 5 });
    expect(a.states).toEqual(['connecting', 'authenticating', 'reconnecting']);
    expect(a.metrics.counter('relay.error', { code: 'auth_failed' })).toBe(1);
  });
});

describe('ws relay transport: prekeys and signaling', () => {
  it('publishes and fetches a bundle; a missing bundle is a typed not_found', async () => {
    const relay = await startRelay();
    const identity = generateIdentity(secureRandom);
    const a = client(relay, { identity });
    const b = client(relay);
    a.transport.start();
    b.transport.start();
    await Promise.all([online(a.transport), online(b.transport)]);
    const full = buildPublishedBundle(identity, createPreKeyPool(identity, secureRandom, 1));
    const bundle = { ...full, opks: full.opks.slice(0, 1), pqopks: [] };
    expect(await a.transport.publishPrekeys(bundle)).toEqual({ opks: 1, pqopks: 0 });
    const fetched = await b.transport.fetchPrekeys(a.ik);
    expect(fetched.spk).toEqual(bundle.spk);
    expect(fetched.opk).toEqual(bundle.opks[0]);
    const missing = b.transport.fetchPrekeys(new Uint8Array(32).fill(9));
    await expect(missing).rejects.toBeInstanceOf(RelayRequestError);
    await expect(missing).rejects.toMatchObject({ code: 'not_found' });
  });

  it('forwards signaling blobs to the connected owner of a mailbox', async () => {
    const relay = await startRelay();
    const a = client(relay);
    const b = client(relay);
    const blobs: Uint8Array[] = [];
    b.transport.onSignal((blob) => blobs.push(blob));
    expect(() => a.transport.sendSignal(b.mailbox, new Uint8Array([1]))).toThrow(RelayRequestError);
    a.transport.start();
    b.transport.start();
    await Promise.all([online(a.transport), online(b.transport)]);
    a.transport.sendSignal(b.mailbox, new Uint8Array([7, 7, 7]));
    await vi.waitFor(() => expect(blobs).toEqual([new Uint8Array([7, 7, 7])]), { interval: 5 });
  });
});
