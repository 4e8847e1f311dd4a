import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/relay/http/security-headers.ts';
import { startTestRelay, tempDataDir, type TestRelay } from './helpers/relay-harness.ts';
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

  it('closes sockets with 1001 (going away) on shutdown and stops listening', async () => {
    const r = await startTestRelay();
    const c = await TestClient.connect(r.url);
    const closing = r.stop();
    expect(await c.waitClosed()).toBe(1001);
    await closing;
    await expect(fetch(`${r.http}/ready`)).rejects.toThrow();
  });
});
