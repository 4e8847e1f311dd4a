/**
 * Issue 21 §6, against a relay in its own process: what a stranger can learn or hold
 * without authenticating. `signal` answers the same whether the mailbox is online or
 * not and has its own per-IP budget; a WebSocket that never authenticates is closed; the
 * Origin check refuses other schemes and DNS-rebinding hosts.
 */
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newIdentity } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape } from './helpers/wait-for.ts';

let relay: RelayProcess;
let http: string;
const dataDir = tempDataDir();
beforeAll(async () => {
  relay = await spawnRelay(dataDir, { PETREL_LOG_LEVEL: 'info', PETREL_IP_SIGNALS_PER_SEC: '1', PETREL_IP_SIGNAL_BURST: '10', PETREL_AUTH_TIMEOUT_SEC: '1' });
  http = `http://127.0.0.1:${relay.port}`;
});
afterAll(async () => {
  relay.child.kill('SIGTERM');
  await relay.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

/** The status of a WebSocket upgrade with these Origin and Host headers. */
function upgradeStatus(origin: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: relay.port,
      path: '/ws',
      headers: { Host: host, Origin: origin, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('what a stranger can learn or hold without authenticating', () => {
  it('signal: the same silence for an online and an offline mailbox, and a per-IP budget', async () => {
    const bob = newIdentity();
    const b = await TestClient.authenticated(relay.url, bob);
    const stranger = await TestClient.connect(relay.url);
    await stranger.next('challenge');
    const probe = async (to: Uint8Array, rid: number) => {
      stranger.send({ t: 'signal', to, blob: new Uint8Array(16) });
      stranger.send({ t: 'ping', rid });
      await stranger.next('pong', (f) => f.rid === rid);
      return stranger.frames.splice(0);
    };
    const online = await probe(bob.mailbox, 1);
    const offline = await probe(newIdentity().mailbox, 2);
    expect(online).toEqual([]);
    expect(offline).toEqual(online);
    // The burst of 10 is spent after 8 more; then signals are refused, online or not.
    for (let i = 0; i < 8; i++) stranger.send({ t: 'signal', to: newIdentity().mailbox, blob: new Uint8Array(16) });
    stranger.send({ t: 'signal', to: bob.mailbox, blob: new Uint8Array(16) });
    expect(await stranger.next('error')).toMatchObject({ code: 'rate_limited', msg: 'too many signals' });
    expect(await scrape(http, /^petrel_rate_limited_total\{bucket="ip_signal"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    b.close();
    stranger.close();
  });

  it('closes a WebSocket that does not authenticate within PETREL_AUTH_TIMEOUT_SEC', async () => {
    const bob = newIdentity();
    const b = await TestClient.authenticated(relay.url, bob);
    const idle = await TestClient.connect(relay.url);
    expect(await idle.waitClosed(5000)).toBe(1008);
    // The relay counts the close when its side of the closing handshake ends, which can be
    // just after the client saw the close frame.
    await vi.waitFor(async () => expect(await scrape(http, /^petrel_connections_closed_total\{reason="auth_timeout"\} (\d+)$/m)).toBeGreaterThanOrEqual(1), { timeout: 5_000, interval: 20 });
    // The authenticated one, opened before it, stays past the timeout.
    b.send({ t: 'ping', rid: 7 });
    expect(await b.reply(7)).toEqual({ t: 'pong', rid: 7 });
    b.close();
  });

  it('refuses other schemes and DNS-rebinding hosts; accepts its own address', async () => {
    const own = `127.0.0.1:${relay.port}`;
    expect(await upgradeStatus(`http://${own}`, own)).toBe(101);
    expect(await upgradeStatus(`http://localhost:${relay.port}`, `localhost:${relay.port}`)).toBe(101);
    // A page on evil.example re-pointed at the relay: Origin and Host agree, still refused.
    expect(await upgradeStatus(`http://evil.example:${relay.port}`, `evil.example:${relay.port}`)).toBe(403);
    expect(await upgradeStatus(`ftp://${own}`, own)).toBe(403);
    expect(await upgradeStatus('null', own)).toBe(403);
    expect(await upgradeStatus(`https://evil.example`, own)).toBe(403);
    expect(await scrape(http, /^petrel_upgrades_total\{result="origin"\} (\d+)$/m)).toBe(4);
  });
});
