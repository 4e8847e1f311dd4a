/**
 * Issue 21 §3, against a relay in its own process: what an anonymous depositor can cost.
 * Per-connection and per-IP deposit budgets in count and bytes, the mailbox byte quota,
 * the global storage cap (its own refusal and metric), and the shorter retention of a
 * mailbox no device has claimed. And the goal: while one IP floods junk at its budget's
 * limit, a message from someone else to the flooded mailbox arrives in under 2 s.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape, scrapeFrom, waitFor } from './helpers/wait-for.ts';
import { openDatabase } from '../../src/relay/storage/sqlite-database.ts';

const running: Array<{ relay: RelayProcess; dataDir: string }> = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  for (const { relay, dataDir } of running.splice(0)) {
    if (relay.child.exitCode === null) {
      relay.child.kill('SIGTERM');
      await relay.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
});

async function relayProcess(env: Record<string, string>) {
  const dataDir = tempDataDir();
  const relay = await spawnRelay(dataDir, { PETREL_LOG_LEVEL: 'info', ...env });
  running.push({ relay, dataDir });
  return { relay, dataDir, http: `http://127.0.0.1:${relay.port}` };
}
async function connect(url: string, localAddress?: string) {
  const c = await TestClient.connect(url, localAddress ? { localAddress } : {});
  clients.push(c);
  await c.next('challenge');
  return c;
}
/** Sends `n` deposits of `bytes` to `to` and collects each reply's type or error code. */
async function depositAll(c: TestClient, to: Uint8Array, n: number, bytes: number, firstRid = 0): Promise<string[]> {
  for (let i = 0; i < n; i++) c.send({ t: 'send', rid: firstRid + i, env: randomEnvelope(to, bytes) });
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await c.reply(firstRid + i, 15_000);
    out.push(r.t === 'error' ? r.code : r.t);
  }
  return out;
}

describe('deposit budgets, quotas and caps', () => {
  it('per-connection and per-IP budgets in count and in bytes', async () => {
    const { relay, http } = await relayProcess({
      PETREL_CONN_DEPOSITS_PER_SEC: '1',
      PETREL_CONN_DEPOSIT_BURST: '5',
      PETREL_IP_DEPOSIT_BYTES_PER_SEC: '1024',
      PETREL_IP_DEPOSIT_BYTE_BURST: String(512 * 1024),
    });
    const to = newIdentity().mailbox;
    const a = await connect(relay.url);
    // Count per connection: 5 of 8 small deposits pass.
    expect(await depositAll(a, to, 8, 32)).toEqual([...Array(5).fill('sent'), ...Array(3).fill('rate_limited')]);
    // Bytes per IP, across connections: 512 KiB holds three 150 KiB envelopes (and the 160 bytes above).
    const b = await connect(relay.url);
    const c = await connect(relay.url);
    const big = [...(await depositAll(b, to, 2, 150 * 1024)), ...(await depositAll(c, to, 2, 150 * 1024, 10))];
    expect(big).toEqual(['sent', 'sent', 'sent', 'rate_limited']);
    expect(await scrape(http, /^petrel_rate_limited_total\{bucket="conn_deposit"\} (\d+)$/m)).toBe(3);
    expect(await scrape(http, /^petrel_rate_limited_total\{bucket="ip_deposit_bytes"\} (\d+)$/m)).toBe(1);
    // Another address has its own budget.
    const other = await connect(relay.url, '127.0.0.2');
    expect(await depositAll(other, to, 1, 150 * 1024)).toEqual(['sent']);
  });

  it('a mailbox quota in bytes, and a global storage cap refused as overloaded with its metric', async () => {
    const { relay, http } = await relayProcess({ PETREL_MAILBOX_MAX_BYTES: String(300 * 1024), PETREL_MAX_STORAGE_BYTES: String(1024 * 1024) });
    const a = await connect(relay.url);
    const kib150 = 150 * 1024;
    // 300 KiB per mailbox: two envelopes of 150 KiB fit, the third does not.
    expect(await depositAll(a, newIdentity().mailbox, 3, kib150)).toEqual(['sent', 'sent', 'mailbox_full']);
    expect(await depositAll(a, newIdentity().mailbox, 2, kib150, 10)).toEqual(['sent', 'sent']);
    expect(await depositAll(a, newIdentity().mailbox, 2, kib150, 20)).toEqual(['sent', 'sent']);
    // 900 KiB stored of 1 MiB: the next 150 KiB, to any mailbox, is refused, and says why.
    a.send({ t: 'send', rid: 30, env: randomEnvelope(newIdentity().mailbox, kib150) });
    expect(await a.reply(30)).toMatchObject({ t: 'error', code: 'overloaded', msg: 'relay storage is full; retry later' });
    expect(await depositAll(a, newIdentity().mailbox, 1, 100 * 1024, 31)).toEqual(['sent']);
    expect(await scrape(http, /^petrel_deposits_total\{result="storage_full"\} (\d+)$/m)).toBe(1);
    expect(await scrape(http, /^petrel_storage_bytes (\d+)$/m)).toBe(6 * kib150 + 100 * 1024);
  });

  it('keeps envelopes of a never-claimed mailbox for PETREL_UNCLAIMED_RETENTION_HOURS; claiming extends them', async () => {
    const { relay, dataDir } = await relayProcess({ PETREL_UNCLAIMED_RETENTION_HOURS: '1', PETREL_RETENTION_DAYS: '30' });
    const a = await connect(relay.url);
    const unclaimed = newIdentity();
    const claimedLater = newIdentity();
    expect(await depositAll(a, unclaimed.mailbox, 1, 32)).toEqual(['sent']);
    expect(await depositAll(a, claimedLater.mailbox, 1, 32, 1)).toEqual(['sent']);
    const b = await TestClient.connect(relay.url);
    clients.push(b);
    await b.auth(claimedLater);
    // A deposit to a claimed mailbox gets the full retention at once.
    expect(await depositAll(a, claimedLater.mailbox, 1, 32, 2)).toEqual(['sent']);
    const db = openDatabase(dataDir, 'NORMAL');
    try {
      const rows = db.prepare('SELECT mailbox, expires_at - deposited_at AS kept FROM envelopes ORDER BY seq').all() as Array<{ mailbox: Buffer; kept: number }>;
      const hour = 3600_000;
      expect(rows.map((r) => [Buffer.from(r.mailbox).equals(Buffer.from(unclaimed.mailbox)) ? 'unclaimed' : 'claimed', r.kept])).toEqual([
        ['unclaimed', hour],
        ['claimed', 30 * 24 * hour],
        ['claimed', 30 * 24 * hour],
      ]);
    } finally {
      db.close();
    }
  });

  it('while one IP floods junk at its budget, a message from elsewhere reaches the flooded owner in < 2 s', { timeout: 60_000 }, async () => {
    const { relay } = await relayProcess({
      PETREL_IP_DEPOSIT_BYTES_PER_SEC: String(2 * 1024 * 1024),
      PETREL_IP_DEPOSIT_BYTE_BURST: String(4 * 1024 * 1024),
      PETREL_MAILBOX_MAX_BYTES: String(1024 * 1024 * 1024),
    });
    const bob = newIdentity();
    const b = await TestClient.connect(relay.url, { localAddress: '127.0.0.2' });
    clients.push(b);
    await b.auth(bob);
    // Bob reads and acks everything as it arrives, as the app does; arrival times by id.
    const arrived = new Map<string, number>();
    b.ws.on('message', () => {
      const ids = b.frames.flatMap((f) => (f.t === 'deliver' ? [f.env.id] : []));
      if (ids.length === 0) return;
      b.frames.splice(0, b.frames.length, ...b.frames.filter((f) => f.t !== 'deliver'));
      for (const id of ids) arrived.set(Buffer.from(id).toString('hex'), performance.now());
      b.send({ t: 'ack', ids });
    });
    // The flooder: 150 KiB junk envelopes at ~1.5x its 2 MiB/s byte budget (after its 4 MiB burst).
    const flooder = await connect(relay.url, '127.0.0.1');
    let rid = 0;
    const flood = setInterval(() => {
      for (let i = 0; i < 2; i++) flooder.send({ t: 'send', rid: rid++, env: randomEnvelope(bob.mailbox, 150 * 1024) });
      flooder.frames.splice(0);
    }, 100);
    try {
      await waitFor(() => scrapeFrom(relay.port, '127.0.0.9', /^petrel_rate_limited_total\{bucket="ip_deposit_bytes"\} (\d+)$/m), (n) => n > 5, 'the flood past its byte budget', 30_000);
      const alice = await connect(relay.url, '127.0.0.3');
      const latencies: number[] = [];
      for (let k = 0; k < 5; k++) {
        const env = randomEnvelope(bob.mailbox, 200);
        const key = Buffer.from(env.id).toString('hex');
        const t0 = performance.now();
        alice.send({ t: 'send', rid: 1000 + k, env });
        await waitFor(() => arrived.get(key), (t) => t !== undefined, 'the real message', 10_000, 5);
        latencies.push(arrived.get(key)! - t0);
      }
      expect(Math.max(...latencies)).toBeLessThan(2000);
      expect(arrived.size).toBeGreaterThan(30);
      expect(b.closeCode).toBeUndefined();
    } finally {
      clearInterval(flood);
    }
  });
});
