import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './helpers/cluster-harness.ts';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';
import { TestClient } from './helpers/test-client.ts';

// Relay nodes as child processes on the real PostgreSQL and Redis, so one can be SIGKILLed.

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
let cluster: TestCluster;
const procs: RelayProcess[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  cluster = await startTestCluster(0);
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await cluster.stop();
});

async function spawnNode(): Promise<RelayProcess> {
  const dir = tempDataDir();
  dirs.push(dir);
  const p = await spawnRelay(dir, cluster.env());
  procs.push(p);
  return p;
}

describe('relay cluster across node death', () => {
  it('SIGKILL of the sender\'s node mid-stream loses nothing acknowledged; the recipient on another node gets each once, in order', { timeout: 60_000 }, async () => {
    const [doomed, survivor] = await Promise.all([spawnNode(), spawnNode()]);
    const bob = newIdentity();
    const cb = await TestClient.authenticated(survivor.url, bob);
    const sender = await TestClient.connect(doomed.url);
    const envs = Array.from({ length: 400 }, () => randomEnvelope(bob.mailbox, 512));
    envs.forEach((env, i) => sender.send({ t: 'send', rid: i, env }));
    await sender.until(() => (sender.frames.filter((f) => f.t === 'sent').length >= 100 ? true : undefined), '100 sent');
    doomed.child.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');
    await sender.waitClosed().catch(() => undefined);
    const acked = sender.frames.flatMap((f) => (f.t === 'sent' ? [hex(f.id)] : []));

    // Everything acknowledged is in PostgreSQL (perhaps a few more that committed before their `sent` went out).
    const { rows } = await cluster.db.pool.query<{ id: Buffer }>('SELECT id FROM envelopes');
    const stored = new Set(rows.map((r) => r.id.toString('hex')));
    for (const id of acked) expect(stored.has(id)).toBe(true);

    // The sender's outbox does what a client does: it resends every envelope without a `sent`, on another node.
    const retry = await TestClient.connect(survivor.url);
    const unacked = envs.filter((e) => !acked.includes(hex(e.id)));
    unacked.forEach((env, i) => retry.send({ t: 'send', rid: i, env }));
    await retry.until(() => (retry.frames.filter((f) => f.t === 'sent').length >= unacked.length ? true : undefined), 'every retry sent', 15_000);

    const delivered: string[] = [];
    await cb.until(
      () => {
        for (let f = cb.frames.findIndex((x) => x.t === 'deliver'); f >= 0; f = cb.frames.findIndex((x) => x.t === 'deliver')) {
          const d = cb.frames.splice(f, 1)[0] as Extract<(typeof cb.frames)[number], { t: 'deliver' }>;
          delivered.push(hex(d.env.id));
        }
        return delivered.length >= envs.length ? true : undefined;
      },
      `${envs.length} deliveries`,
      15_000,
    );
    // Each once, in the order they were sent.
    expect(delivered).toEqual(envs.map((e) => hex(e.id)));
    retry.close();

    // Reconnecting to the surviving node, bob is offered the same (unacked) envelopes again, in order.
    cb.close();
    await cb.waitClosed();
    const again = await TestClient.authenticated(survivor.url, bob);
    expect((await again.next('deliver')).env.id).toEqual(envs[0]!.id);
    again.close();
  });

  it('SIGTERM drains: every deposit the node accepted is answered and durable before it exits 0', { timeout: 60_000 }, async () => {
    const node = await spawnNode();
    const bob = newIdentity();
    const sender = await TestClient.connect(node.url);
    const envs = Array.from({ length: 300 }, () => randomEnvelope(bob.mailbox, 256));
    envs.forEach((env, i) => sender.send({ t: 'send', rid: 10_000 + i, env }));
    await sender.until(() => (sender.frames.filter((f) => f.t === 'sent').length >= 50 ? true : undefined), '50 sent');
    node.child.kill('SIGTERM');
    expect((await node.exited).code).toBe(0);
    const acked = new Set(sender.frames.flatMap((f) => (f.t === 'sent' ? [hex(f.id)] : [])));
    const { rows } = await cluster.db.pool.query<{ id: Buffer }>('SELECT id FROM envelopes WHERE mailbox = $1', [Buffer.from(bob.mailbox)]);
    const stored = new Set(rows.map((r) => r.id.toString('hex')));
    for (const id of acked) expect(stored.has(id)).toBe(true);
    expect(acked.size).toBeGreaterThanOrEqual(50);
  });
});
