/**
 * The whole transport pipeline over a relay on loopback, in real time: sender Router →
 * WsRelayTransport → relay → WsRelayTransport → IngressGuard → "commit" → ack. The relay
 * is restarted in the middle of a burst; every envelope must be shown exactly once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { ed25519 } from '@noble/curves/ed25519.js';
import { systemClock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';
import { seededRandom } from '../../src/core/random.ts';
import { toHex } from '../../src/core/bytes.ts';
import { mailboxAddress } from '../../src/core/wire/index.ts';
import { Router } from '../../src/core/transport/router.ts';
import { IngressGuard } from '../../src/core/transport/ingress-guard.ts';
import { WsRelayTransport, type RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { FaultyRelay } from './faulty-relay.ts';
import { deliver } from './deliver.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function peer(url: () => string, seed: number) {
  const sk = ed25519.utils.randomSecretKey();
  const ik = ed25519.getPublicKey(sk);
  const metrics = new InMemoryMetrics();
  const random = seededRandom(seed);
  const transport = new WsRelayTransport({
    url: url(),
    WebSocket: NodeWebSocket as RelaySocketConstructor,
    identityKey: ik,
    sign: async (p) => ed25519.sign(p, sk),
    clock: systemClock,
    random,
    metrics,
    logger: silentLogger,
    config: { reconnect: { baseMs: 20, capMs: 200 }, sendTimeoutMs: 2_000 },
  });
  const router = new Router([transport], { clock: systemClock, random, metrics, logger: silentLogger }, {
    backoff: { baseMs: 20, capMs: 200 },
    budget: { maxAttempts: 50, maxAgeMs: 60_000 },
  });
  // Receiver side: dedup, a "durable store", ack after commit.
  const guard = new IngressGuard<never>({ decode: () => ({ ok: false, reason: 'unused' }), metrics, logger: silentLogger });
  const store = new Set<string>();
  const shown: string[] = [];
  transport.onEnvelope((incoming) => {
    const admission = guard.admit(incoming);
    if (admission.kind !== 'fresh') return;
    const id = toHex(incoming.envelope.id);
    queueMicrotask(() => {
      if (store.has(id)) return admission.settle('duplicate');
      store.add(id);
      shown.push(new TextDecoder().decode(incoming.envelope.body));
      admission.settle('committed');
    });
  });
  transport.start();
  cleanups.push(() => {
    router.dispose();
    transport.stop();
  });
  return { transport, router, mailbox: mailboxAddress(ik), shown, metrics };
}

describe('relay pipeline (the real relay on loopback)', () => {
  it('a 60-message burst with a relay restart in the middle arrives exactly once', async () => {
    const relay = await new FaultyRelay().start();
    cleanups.push(() => relay.stop());
    const a = peer(() => relay.url, 1);
    const b = peer(() => relay.url, 2);
    await vi.waitFor(() => expect([a.transport.state.kind, b.transport.state.kind]).toEqual(['online', 'online']), { interval: 5 });
    const results: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) {
      const id = new Uint8Array(16);
      new DataView(id.buffer).setUint32(0, i + 1);
      results.push(deliver(a.router, systemClock, { to: b.mailbox, id, body: new TextEncoder().encode(`m${i}`) }));
      if (i === 30) await relay.restart();
    }
    const settled = await Promise.allSettled(results);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    await vi.waitFor(() => expect(b.shown).toHaveLength(60), { timeout: 10_000, interval: 10 });
    expect(new Set(b.shown).size).toBe(60);
    await vi.waitFor(() => expect(relay.queued(b.mailbox)).toBe(0), { interval: 10 });
    expect(a.metrics.counter('send.success', { transport: 'relay' })).toBe(60);
  });
});
