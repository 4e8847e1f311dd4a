import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/relay/http/security-headers.ts';
import { startTestRelay, tempDataDir, type TestRelay } from './helpers/relay-harness.ts';
import { newIdentity, randomEnvelope, signedBundle } from './helpers/identity.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape, waitFor } from './helpers/wait-for.ts';

let relay: TestRelay;
beforeAll(async () => {
  const dir = tempDataDir();
  mkdirSync(join(dir, 'app'), { recursive: true });
  writeFileSync(join(dir, 'app', 'index.html'), '<!doctype html><title>Petrel</title>');
  relay = await startTestRelay({ PETREL_APP_DIR: join(dir, 'app') }, dir);
});
afterAll(async () => {
  await relay.stop();
});

describe('relay operations endpoints', () => {
  it('GET /health answers ok', async () => {
    const res = await fetch(`${relay.http}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready answers ready when the database is reachable', async () => {
    const res = await fetch(`${relay.http}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('GET /metrics serves Prometheus text from the relay\'s own registry', async () => {
    const c = await TestClient.connect(relay.url);
    await c.next('challenge');
    const res = await fetch(`${relay.http}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    for (const name of [
      'petrel_connections',
      'petrel_deposits_total',
      'petrel_deliveries_total',
      'petrel_acks_total',
      'petrel_queue_depth',
      'petrel_rejected_frames_total',
      'petrel_rate_limited_total',
      'petrel_request_duration_seconds',
      'petrel_envelope_residence_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/^petrel_connections 1$/m);
    // Not prom-client's default process metrics from the global registry.
    expect(text).not.toContain('process_cpu_user_seconds_total');
    c.close();
  });

  it('serves the app with the security headers, a strict CSP first among them', async () => {
    const res = await fetch(`${relay.http}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    // The camera for this origin only (Scan QR code); no microphone, location or payment.
    expect(res.headers.get('permissions-policy')).toBe('camera=(self), microphone=(), geolocation=(), payment=()');
  });

  it('refuses upgrades on other paths with 404 and counts them', async () => {
    await expect(TestClient.connect(relay.url.replace('/ws', '/elsewhere'))).rejects.toThrow(/404/);
    expect(await scrape(relay.http, /petrel_upgrades_total\{result="not_found"\} (\d+)/)).toBe(1);
  });

  it('counts connections the peer closed, and those closed by shutdown', async () => {
    const r = await startTestRelay();
    const peer = await TestClient.connect(r.url);
    peer.close();
    await peer.waitClosed();
    await waitFor(() => scrape(r.http, /petrel_connections_closed_total\{reason="peer"\} (\d+)/), (n) => n === 1, 'peer close counted');
    await TestClient.connect(r.url);
    await r.stop();
    expect((await r.relay.metrics.connectionsClosed.get()).values).toContainEqual(expect.objectContaining({ labels: { reason: 'shutdown' }, value: 1 }));
  });

  it('times every request frame type, and every HTTP request under a small fixed set of routes', async () => {
    const alice = newIdentity();
    const c = await TestClient.authenticated(relay.url, alice);
    const env = randomEnvelope(alice.mailbox);
    c.send({ t: 'send', rid: 1, env });
    await c.reply(1);
    await c.next('deliver');
    c.send({ t: 'ack', ids: [env.id] });
    c.send({ t: 'signal', to: alice.mailbox, blob: new Uint8Array(8) });
    await c.next('signal');
    c.send({ t: 'prekeys.publish', rid: 2, bundle: signedBundle(alice, 1, 1) });
    await c.reply(2);
    c.send({ t: 'prekeys.fetch', rid: 3, ik: alice.ik });
    await c.reply(3);
    c.close();
    const count = (type: string) => scrape(relay.http, new RegExp(`petrel_request_duration_seconds_count\\{type="${type}"\\} (\\d+)`));
    // The ack is timed once its deletion committed (it has no reply to wait for).
    await waitFor(() => count('ack'), (n) => n >= 1, 'ack timed');
    for (const type of ['auth', 'send', 'signal', 'prekeys.publish', 'prekeys.fetch']) expect(await count(type), type).toBeGreaterThanOrEqual(1);

    for (const path of ['/health', '/ready', '/metrics', '/', '/chat/some-contact', '/missing.js', '/../../etc/passwd', `/${'x'.repeat(50)}.png`]) {
      await (await fetch(`${relay.http}${path}`)).arrayBuffer();
    }
    await (await fetch(`${relay.http}/health`, { method: 'POST' })).arrayBuffer();
    const text = await (await fetch(`${relay.http}/metrics`)).text();
    const routes = [...text.matchAll(/petrel_http_request_duration_seconds_count\{route="([^"]+)"\} (\d+)/g)].map((m) => [m[1], Number(m[2])] as const);
    expect(new Set(routes.map(([r]) => r))).toEqual(new Set(['health', 'ready', 'metrics', 'static', 'not_found']));
    const byRoute = Object.fromEntries(routes);
    expect(byRoute.static).toBeGreaterThanOrEqual(2);
    expect(byRoute.not_found).toBeGreaterThanOrEqual(3);
  });

  it('closes sockets with 1001 (going away) on shutdown and stops listening', async () => {
    const r = await startTestRelay();
    const c = await TestClient.connect(r.url);
    const closing = r.stop();
    expect(await c.waitClosed()).toBe(1001);
    await closing;
    await expect(fetch(`${r.http}/ready`)).rejects.toThrow();
  });
});
