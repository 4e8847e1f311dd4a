/**
 * Issue 21 §2, against a relay in its own process: a backlog of hundreds of ~192 KiB
 * envelopes drains to an owner that reads normally without one forced disconnect (the
 * pump used to push 64 at once and the 4 MiB output cap cut the owner off), and an owner
 * that stops reading is still closed as a slow consumer, its envelopes kept.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/core/wire/index.ts';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape, waitFor } from './helpers/wait-for.ts';

const BACKLOG = 300;
const BODY = 192 * 1024;

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

async function relayProcess(env: Record<string, string> = {}) {
  const dataDir = tempDataDir();
  const relay = await spawnRelay(dataDir, { PETREL_LOG_LEVEL: 'info', PETREL_MAILBOX_MAX_BYTES: String(256 * 1024 * 1024), ...env });
  running.push({ relay, dataDir });
  return { relay, http: `http://127.0.0.1:${relay.port}` };
}

async function deposit(url: string, to: Uint8Array, n: number): Promise<Envelope[]> {
  const s = await TestClient.connect(url);
  clients.push(s);
  const envs: Envelope[] = [];
  for (let i = 0; i < n; i++) {
    const env = randomEnvelope(to, BODY);
    envs.push(env);
    s.send({ t: 'send', rid: i, env });
    // A window of 16 keeps the sender's own output small.
    if (i >= 16) expect((await s.reply(i - 16, 20_000)).t).toBe('sent');
  }
  for (let i = Math.max(0, n - 16); i < n; i++) expect((await s.reply(i, 20_000)).t).toBe('sent');
  return envs;
}

describe('delivery of a large backlog, one envelope at a time against the high-water mark', () => {
  it(`drains ${BACKLOG} envelopes of 192 KiB to a reading owner with no forced disconnect`, { timeout: 90_000 }, async () => {
    const { relay, http } = await relayProcess();
    const bob = newIdentity();
    const envs = await deposit(relay.url, bob.mailbox, BACKLOG);

    const b = await TestClient.connect(relay.url);
    clients.push(b);
    expect((await b.auth(bob)).queued).toBe(BACKLOG);
    // A normal client: reads everything and acks in batches, as the app does.
    const received: Uint8Array[] = [];
    await b.until(
      () => {
        const ids = b.frames.splice(0).flatMap((f) => (f.t === 'deliver' ? [f.env.id] : []));
        if (ids.length > 0) {
          received.push(...ids);
          b.send({ t: 'ack', ids });
        }
        return received.length >= BACKLOG ? true : undefined;
      },
      `${BACKLOG} deliveries`,
      60_000,
    );
    expect(received.map((id) => Buffer.from(id).toString('hex'))).toEqual(envs.map((e) => Buffer.from(e.id).toString('hex')));
    expect(b.closeCode).toBeUndefined();
    expect(await scrape(http, /^petrel_slow_consumers_closed_total (\d+)$/m)).toBe(0);
    expect(await scrape(http, /^petrel_connections_closed_total\{reason="slow_consumer"\} (\d+)$/m)).toBe(0);
    expect(await waitFor(() => scrape(http, /^petrel_queue_depth (\d+)$/m), (n) => n === 0, 'every envelope acked')).toBe(0);
  });

  it('closes an owner that stops reading as a slow consumer and keeps its envelopes', { timeout: 90_000 }, async () => {
    const { relay, http } = await relayProcess({ PETREL_SLOW_CONSUMER_SEC: '2' });
    const bob = newIdentity();
    await deposit(relay.url, bob.mailbox, 120);
    const b = await TestClient.connect(relay.url);
    clients.push(b);
    const challenge = await b.next('challenge');
    b.send({ t: 'auth', ik: bob.ik, sig: bob.signAuth(challenge.nonce) });
    // Stop reading the socket at the TCP level: the kernel buffers fill, then the relay's output.
    (b.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    expect(await waitFor(() => scrape(http, /^petrel_slow_consumers_closed_total (\d+)$/m), (n) => n > 0, 'slow consumer closed', 30_000)).toBe(1);
    expect(await scrape(http, /^petrel_connections_closed_total\{reason="slow_consumer"\} (\d+)$/m)).toBe(1);
    const again = await TestClient.connect(relay.url);
    clients.push(again);
    expect((await again.auth(bob)).queued).toBe(120);
  });
});
