/**
 * Issue 21 §5, against a relay in its own process: 1,000 slowly sent HTTP requests from
 * one address (one header line a second, never finished) must not keep other clients
 * out. The per-address cap drops all but PETREL_MAX_HTTP_CONNECTIONS_PER_IP at accept,
 * the header timeout ends the rest, and a new WebSocket from another address connects,
 * authenticates and gets its mail while the attack runs.
 */
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay } from './helpers/relay-process.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrapeFrom, waitFor } from './helpers/wait-for.ts';

const ATTACK_CONNECTIONS = 1000;
const dataDir = tempDataDir();
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('HTTP slowloris from one address', () => {
  it(`${ATTACK_CONNECTIONS} slow requests leave room for a new WebSocket from another address`, { timeout: 60_000 }, async () => {
    const relay = await spawnRelay(dataDir, { PETREL_LOG_LEVEL: 'info', PETREL_HTTP_HEADERS_TIMEOUT_MS: '4000', PETREL_MAX_HTTP_CONNECTIONS_PER_IP: '64' });
    const probe = (pattern: RegExp) => scrapeFrom(relay.port, '127.0.0.4', pattern);
    const sockets: Socket[] = [];
    let closedByRelay = 0;
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-Drip: 1\r\n');
    }, 1000);
    try {
      for (let i = 0; i < ATTACK_CONNECTIONS; i++) {
        const s = connect({ port: relay.port, host: '127.0.0.1' });
        s.on('error', () => {});
        s.on('close', () => closedByRelay++);
        s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
        sockets.push(s);
      }
      await waitFor(() => probe(/^petrel_http_connections_refused_total\{reason="per_ip"\} (\d+)$/m), (n) => n >= ATTACK_CONNECTIONS - 64, 'the per-address cap refusing the flood', 20_000);
      expect(await probe(/^petrel_http_connections (\d+)$/m)).toBeLessThanOrEqual(64 + 2);

      // A legitimate client from another address: upgrade, auth, deposit, delivery.
      const bob = newIdentity();
      const t0 = Date.now();
      const b = await TestClient.connect(relay.url, { localAddress: '127.0.0.2' });
      await b.auth(bob);
      const s = await TestClient.connect(relay.url, { localAddress: '127.0.0.3' });
      const env = randomEnvelope(bob.mailbox);
      s.send({ t: 'send', rid: 1, env });
      expect(await s.reply(1)).toMatchObject({ t: 'sent' });
      expect((await b.next('deliver')).env).toEqual(env);
      expect(Date.now() - t0).toBeLessThan(5000);
      b.close();
      s.close();

      // The slow requests that were let in are ended by the header timeout, not held forever.
      await waitFor(() => closedByRelay, (n) => n === ATTACK_CONNECTIONS, 'every slow request closed by the relay', 20_000);
      expect(await probe(/^petrel_http_client_errors_total\{reason="timeout"\} (\d+)$/m)).toBeGreaterThan(0);
      expect(relay.child.exitCode).toBeNull();
    } finally {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
      relay.child.kill('SIGTERM');
      await relay.exited;
    }
  });
});
