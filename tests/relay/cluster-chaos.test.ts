import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosPeer } from './helpers/chaos-peer.ts';
import { startPrivatePostgres, startPrivateRedis, freePort, type PrivatePostgres, type PrivateRedis } from './helpers/private-services.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';

// Chaos on a three-node cluster (relay child processes) over a PostgreSQL and a Redis of
// this test's own, so both can really be restarted. Alice is on node 0, Bob on node 1 and
// Carol on node 1 too; each sends to the others. Judged: every envelope acknowledged with
// `sent` arrives, per sender in sending order (first arrivals; the inbox drops repeats by
// id as the client does), and an id is pushed twice only if its sender deposited it twice.

let postgres: PrivatePostgres;
let redis: PrivateRedis;
let databaseUrl: string;
const nodes: (RelayProcess | undefined)[] = [];
const dirs: string[] = [];

async function spawnNode(i: number): Promise<void> {
  const dir = tempDataDir();
  dirs.push(dir);
  nodes[i] = await spawnRelay(dir, {
    PETREL_STORE: 'postgres',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    PETREL_REDIS_PREFIX: 'chaos:',
    PETREL_PG_POOL_MAX: '8',
    PETREL_CLUSTER_POLL_MS: '200',
    PETREL_LOG_LEVEL: 'info',
  });
}

const urls = () => nodes.flatMap((n) => (n && n.child.exitCode === null && n.child.signalCode === null ? [n.url] : []));

beforeAll(async () => {
  postgres = startPrivatePostgres(await freePort());
  redis = await startPrivateRedis(await freePort());
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE petrel_chaos');
  await admin.end();
  databaseUrl = postgres.url.replace(/\/postgres$/, '/petrel_chaos');
  await Promise.all([0, 1, 2].map((i) => spawnNode(i)));
}, 120_000);

afterAll(async () => {
  for (const n of nodes) if (n && n.child.exitCode === null) n.child.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n?.exited));
  await redis?.stop();
  postgres?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

/** Waits (polling a condition, bounded) until `done` holds. */
async function until(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function people() {
  const alice = new ChaosPeer('alice', urls, 0);
  const bob = new ChaosPeer('bob', urls, 1);
  const carol = new ChaosPeer('carol', urls, 1);
  return { alice, bob, carol, all: [alice, bob, carol] };
}

/** The traffic of one burst: everyone to everyone else. */
function burst(p: ReturnType<typeof people>, n: number): void {
  p.alice.queue(p.bob, n);
  p.alice.queue(p.carol, n);
  p.bob.queue(p.alice, n);
  p.carol.queue(p.bob, n);
  p.carol.queue(p.alice, n);
}

const sentTotal = (all: ChaosPeer[]) => all.reduce((s, x) => s + x.outbox.filter((o) => o.acked).length, 0);

async function settle(p: ReturnType<typeof people>): Promise<void> {
  await until(() => p.all.every((x) => x.allAcked), 'every envelope acknowledged');
  await until(() => p.all.every((s) => p.all.every((r) => s === r || s.deliveredTo(r))), 'every envelope delivered');
}

function judge(p: ReturnType<typeof people>): void {
  for (const recipient of p.all) {
    for (const sender of p.all) {
      if (sender === recipient) continue;
      const sent = sender.sentTo(recipient);
      const got = recipient.inbox.filter((id) => sent.includes(id));
      // Nothing lost, nothing extra, in sending order.
      expect(got, `${sender.name} → ${recipient.name}`).toEqual(sent);
    }
    // The relay pushes an id twice on one connection only if its sender deposited it twice.
    for (const id of recipient.repeatedOnOneConnection) expect(Math.max(...p.all.map((s) => s.sendsOf(id))), `${recipient.name}: ${id} pushed twice`).toBeGreaterThan(1);
    expect(recipient.refusals, `${recipient.name}: refused deposits`).toBe(0);
  }
}

describe('cluster chaos: three nodes, real PostgreSQL and Redis restarts', () => {
  it('SIGKILL of the node two of the three are on, mid-burst', { timeout: 90_000 }, async () => {
    const p = people();
    try {
      for (const x of p.all) x.start();
      burst(p, 150);
      await until(() => sentTotal(p.all) >= 200, '200 acknowledged before the kill');
      nodes[1]!.child.kill('SIGKILL');
      await nodes[1]!.exited;
      await settle(p);
      judge(p);
    } finally {
      for (const x of p.all) x.stop();
    }
    await spawnNode(1);
  });

  it('Redis restarted (empty) mid-burst', { timeout: 90_000 }, async () => {
    const p = people();
    try {
      for (const x of p.all) x.start();
      burst(p, 150);
      await until(() => sentTotal(p.all) >= 200, '200 acknowledged before the restart');
      await redis.restart();
      burst(p, 50);
      await settle(p);
      judge(p);
    } finally {
      for (const x of p.all) x.stop();
    }
  });

  it('PostgreSQL restarted while no deposit is in flight', { timeout: 90_000 }, async () => {
    const p = people();
    try {
      for (const x of p.all) x.start();
      burst(p, 100);
      await settle(p);
      postgres.restart();
      burst(p, 100);
      await settle(p);
      judge(p);
    } finally {
      for (const x of p.all) x.stop();
    }
  });
});
