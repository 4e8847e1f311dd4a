/**
 * The WebSocket relay transport against the REAL relay (src/relay/server.ts) on loopback
 * with a temp data dir and real SQLite: auth, durable send, push, ack-after-commit,
 * redelivery of unacked envelopes, a relay restart on the same data dir in the middle of
 * a burst driven by the Router (nothing lost, nothing shown twice), prekeys, signaling.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, connect, type Socket } from 'node:net';
import { WebSocket as NodeWebSocket } from 'ws';
import { ed25519 } from '@noble/curves/ed25519.js';
import { systemClock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';
import { seededRandom } from '../../src/core/random.ts';
import { toHex } from '../../src/core/bytes.ts';
import { mailboxAddress, pqpkSignaturePayload, spkSignaturePayload } from '../../src/core/wire/index.ts';
import { Router } from '../../src/core/transport/router.ts';
import { IngressGuard } from '../../src/core/transport/ingress-guard.ts';
import type { IncomingEnvelope } from '../../src/core/transport/transport.ts';
import { RelayRequestError, WsRelayTransport, type RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { startTestRelay, tempDataDir, type TestRelay } from '../relay/helpers/relay-harness.ts';
import { deliver } from './deliver.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The relay's default rate limits (the shared test harness raises them); pass `generous` to keep the harness's. */
const DEFAULT_RELAY_LIMITS = {
  PETREL_CONN_FRAMES_PER_SEC: '100',
  PETREL_CONN_FRAME_BURST: '200',
  PETREL_IP_DEPOSITS_PER_SEC: '200',
  PETREL_IP_DEPOSIT_BURST: '400',
};

async function relayOnLoopback(dataDir = tempDataDir(), port?: number, limits: Record<string, string> = {}): Promise<TestRelay> {
  return startTestRelay({ PETREL_LOG_LEVEL: 'silent', ...limits, ...(port ? { PORT: String(port) } : {}) }, dataDir);
}

let seed = 100;
function user(url: string) {
  const sk = ed25519.utils.randomSecretKey();
  const ik = ed25519.getPublicKey(sk);
  const metrics = new InMemoryMetrics();
  const random = seededRandom(seed++);
  const transport = new WsRelayTransport({
    url,
    WebSocket: NodeWebSocket as RelaySocketConstructor,
    identityKey: ik,
    sign: async (p) => ed25519.sign(p, sk),
    clock: systemClock,
    random,
    metrics,
    logger: silentLogger,
    config: { reconnect: { baseMs: 20, capMs: 250 }, sendTimeoutMs: 3_000 },
  });
  const incoming: IncomingEnvelope[] = [];
  transport.onEnvelope((i) => incoming.push(i));
  cleanups.push(() => transport.stop());
  return { transport, sk, ik, mailbox: mailboxAddress(ik), metrics, random, incoming };
}

const online = (t: WsRelayTransport) => vi.waitFor(() => expect(t.state.kind).toBe('online'), { timeout: 5_000, interval: 5 });
let counter = 0;
function envTo(mailbox: Uint8Array, text: string) {
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(0, ++counter);
  id[15] = 0x5a;
  return { to: mailbox, id, body: new TextEncoder().encode(text) };
}
const acked = async (r: TestRelay) => (await r.relay.metrics.acks.get()).values[0]?.value ?? 0;
const text = (i: IncomingEnvelope) => new TextDecoder().decode(i.envelope.body);

describe('ws relay transport against the real relay', () => {
  it('delivers to an offline recipient later; unacked envelopes come back, acked ones never', async () => {
    const relay = await relayOnLoopback();
    cleanups.push(() => relay.stop());
    const a = user(relay.url);
    const b = user(relay.url);
    a.transport.start();
    await online(a.transport);
    await a.transport.send(envTo(b.mailbox, 'one')); // resolved = durable on the relay's disk
    await a.transport.send(envTo(b.mailbox, 'two'));

    b.transport.start();
    await vi.waitFor(() => expect(b.incoming.map(text)).toEqual(['one', 'two']), { interval: 5 });
    b.incoming[0]!.ack(); // only 'one' was committed
    await vi.waitFor(async () => expect(await acked(relay)).toBe(1), { interval: 5 });
    b.transport.stop();
    b.incoming.length = 0;
    b.transport.start();
    await vi.waitFor(() => expect(b.incoming.map(text)).toEqual(['two']), { interval: 5 });
    b.incoming[0]!.ack();
    b.transport.stop(); // flushes the pending ack before closing
    await vi.waitFor(async () => expect(await acked(relay)).toBe(2), { interval: 5 });
    b.incoming.length = 0;
    b.transport.start();
    await online(b.transport);
    await a.transport.send(envTo(b.mailbox, 'three'));
    await vi.waitFor(() => expect(b.incoming.map(text)).toEqual(['three']), { interval: 5 });
  });
});

describe('router + relay transport + ingress guard against the real relay', () => {
  it('a 100-message burst both ways survives a relay restart on the same data dir: nothing lost, nothing shown twice', async () => {
    const dataDir = tempDataDir();
    let relay = await relayOnLoopback(dataDir);
    const port = relay.relay.port();
    cleanups.push(() => relay.stop());
    const users = [user(relay.url), user(relay.url)] as const;
    const shown = users.map(() => new Map<string, number>());
    const routers = users.map((u, k) => {
      const router = new Router([u.transport], { clock: systemClock, random: u.random, metrics: u.metrics, logger: silentLogger }, {
        backoff: { baseMs: 20, capMs: 250 },
        budget: { maxAttempts: 100, maxAgeMs: 60_000 },
      });
      cleanups.push(() => router.dispose());
      const guard = new IngressGuard<never>({ decode: () => ({ ok: false, reason: 'unused' }), metrics: u.metrics, logger: silentLogger });
      const store = new Set<string>();
      u.transport.onEnvelope((incoming) => {
        const admission = guard.admit(incoming);
        if (admission.kind !== 'fresh') return;
        setImmediate(() => {
          const id = toHex(incoming.envelope.id);
          if (store.has(id)) return admission.settle('duplicate');
          store.add(id);
          shown[k]!.set(text(incoming), (shown[k]!.get(text(incoming)) ?? 0) + 1);
          admission.settle('committed');
        });
      });
      u.transport.start();
      return router;
    });
    await Promise.all(users.map((u) => online(u.transport)));

    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) {
      sends.push(deliver(routers[0]!, systemClock, envTo(users[1].mailbox, `a->b ${i}`)));
      sends.push(deliver(routers[1]!, systemClock, envTo(users[0].mailbox, `b->a ${i}`)));
      if (i === 25) {
        await relay.stop({ keepData: true });
        relay = await relayOnLoopback(dataDir, port);
      }
    }
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    await vi.waitFor(() => expect([shown[0]!.size, shown[1]!.size]).toEqual([50, 50]), { timeout: 15_000, interval: 10 });
    for (const m of shown) expect([...m.values()].every((n) => n === 1)).toBe(true);
    // Everything committed was acknowledged, so the relay holds nothing any more.
    await vi.waitFor(async () => expect((await relay.relay.metrics.queueDepth.get()).values[0]?.value).toBe(0), { timeout: 5_000, interval: 10 });
    expect(users[0].metrics.counter('send.success', { transport: 'relay' })).toBe(50);
    // The restart really cut both links in the middle of the burst.
    for (const u of users) expect(u.metrics.counter('relay.reconnect')).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

/** A TCP proxy in front of the relay that can cut every connection through it on command. */
async function cuttingProxy(targetPort: number) {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/ws`,
    cutAll(): number {
      const cut = [...pairs];
      for (const socket of cut.flat()) socket.destroy();
      return cut.length;
    },
    close(): Promise<void> {
      for (const socket of [...pairs].flat()) socket.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('flaky link: connections cut again and again during a burst (real relay behind a TCP proxy)', () => {
  it('200 messages both ways with 8 cuts arrive exactly once and the mailboxes drain', async () => {
    const relay = await relayOnLoopback();
    cleanups.push(() => relay.stop());
    const proxy = await cuttingProxy(relay.relay.port());
    cleanups.push(() => proxy.close());
    const users = [user(proxy.url), user(proxy.url)] as const;
    const shown = users.map(() => new Map<string, number>());
    const routers = users.map((u, k) => {
      const router = new Router([u.transport], { clock: systemClock, random: u.random, metrics: u.metrics, logger: silentLogger }, {
        backoff: { baseMs: 20, capMs: 250 },
        budget: { maxAttempts: 200, maxAgeMs: 60_000 },
      });
      cleanups.push(() => router.dispose());
      const guard = new IngressGuard<never>({ decode: () => ({ ok: false, reason: 'unused' }), metrics: u.metrics, logger: silentLogger });
      const store = new Set<string>();
      u.transport.onEnvelope((incoming) => {
        const admission = guard.admit(incoming);
        if (admission.kind !== 'fresh') return;
        setImmediate(() => {
          const id = toHex(incoming.envelope.id);
          if (store.has(id)) return admission.settle('duplicate');
          store.add(id);
          shown[k]!.set(text(incoming), (shown[k]!.get(text(incoming)) ?? 0) + 1);
          admission.settle('committed');
        });
      });
      u.transport.start();
      return router;
    });
    await Promise.all(users.map((u) => online(u.transport)));
    const sends: Array<Promise<unknown>> = [];
    let cuts = 0;
    for (let i = 0; i < 100; i++) {
      sends.push(deliver(routers[0]!, systemClock, envTo(users[1].mailbox, `a->b ${i}`)));
      sends.push(deliver(routers[1]!, systemClock, envTo(users[0].mailbox, `b->a ${i}`)));
      if (i % 12 === 6) {
        // Cut live, authenticated links, then wait until both clients noticed the cut.
        await vi.waitFor(() => expect(users.map((u) => u.transport.state.kind)).toEqual(['online', 'online']), { interval: 2 });
        await new Promise<void>((r) => setImmediate(r)); // let some frames get in flight
        const before = users.map((u) => u.metrics.counter('relay.reconnect'));
        if (proxy.cutAll() > 0) cuts++;
        await vi.waitFor(() => expect(users.every((u, k) => u.metrics.counter('relay.reconnect') > before[k]!)).toBe(true), { interval: 2 });
      }
    }
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(cuts).toBe(8);
    await vi.waitFor(() => expect([shown[0]!.size, shown[1]!.size]).toEqual([100, 100]), { timeout: 15_000, interval: 10 });
    for (const m of shown) expect([...m.values()].every((n) => n === 1)).toBe(true);
    await vi.waitFor(async () => expect((await relay.relay.metrics.queueDepth.get()).values[0]?.value).toBe(0), { timeout: 10_000, interval: 10 });
  }, 40_000);
});

describe('pacing under the relay\'s default rate limits', () => {
  it('a 300-envelope outbox flush on one connection is never rate-limited', async () => {
    const relay = await relayOnLoopback(tempDataDir(), undefined, DEFAULT_RELAY_LIMITS);
    cleanups.push(() => relay.stop());
    const a = user(relay.url);
    const b = user(relay.url);
    a.transport.start();
    await online(a.transport);
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => a.transport.send(envTo(b.mailbox, `burst ${i}`))));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(a.metrics.counter('relay.error', { code: 'rate_limited' })).toBe(0);
    expect((await relay.relay.metrics.rateLimited.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
    expect(a.transport.state.kind).toBe('online');
  }, 20_000);
});

describe('prekeys and signaling through the real relay', () => {
  it('publishes a signed bundle, hands a one-time key out once, and refuses an unknown identity with not_found', async () => {
    const relay = await relayOnLoopback();
    cleanups.push(() => relay.stop());
    const a = user(relay.url);
    const b = user(relay.url);
    a.transport.start();
    b.transport.start();
    await Promise.all([online(a.transport), online(b.transport)]);
    const spkPub = new Uint8Array(32).fill(1);
    const pqPub = new Uint8Array(1184).fill(2);
    const bundle = {
      ik: a.ik,
      spk: { id: 1, pub: spkPub, sig: ed25519.sign(spkSignaturePayload(spkPub), a.sk) },
      pqspk: { id: 2, pub: pqPub, sig: ed25519.sign(pqpkSignaturePayload(pqPub), a.sk) },
      opks: [{ id: 3, pub: new Uint8Array(32).fill(3) }],
      pqopks: [],
    };
    expect(await a.transport.publishPrekeys(bundle)).toEqual({ opks: 1, pqopks: 0 });
    const first = await b.transport.fetchPrekeys(a.ik);
    expect(first.opk?.id).toBe(3);
    expect(first.pq.lastResort).toBe(true);
    const second = await b.transport.fetchPrekeys(a.ik);
    expect(second.opk).toBeUndefined();
    await expect(b.transport.fetchPrekeys(new Uint8Array(32).fill(7))).rejects.toMatchObject({ code: 'not_found' });
    const forged = { ...bundle, spk: { ...bundle.spk, sig: new Uint8Array(64) } };
    const refused = a.transport.publishPrekeys(forged);
    await expect(refused).rejects.toBeInstanceOf(RelayRequestError);
    await expect(refused).rejects.toMatchObject({ code: 'bad_signature' });
  });

  it('forwards a signaling blob to the connected recipient', async () => {
    const relay = await relayOnLoopback();
    cleanups.push(() => relay.stop());
    const a = user(relay.url);
    const b = user(relay.url);
    const blobs: Uint8Array[] = [];
    b.transport.onSignal((blob) => blobs.push(blob));
    a.transport.start();
    b.transport.start();
    await Promise.all([online(a.transport), online(b.transport)]);
    a.transport.sendSignal(b.mailbox, new Uint8Array([4, 5, 6]));
    await vi.waitFor(() => expect(blobs).toEqual([new Uint8Array([4, 5, 6])]), { interval: 5 });
  });
});
