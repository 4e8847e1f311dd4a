import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/relay/storage/postgres/migrations.ts';
import type { RelayFrame } from '../../src/core/wire/index.ts';
import { startTestCluster, type TestCluster } from './helpers/cluster-harness.ts';
import { newIdentity, randomEnvelope, signedBundle, type TestIdentity } from './helpers/identity.ts';
import { TestClient } from './helpers/test-client.ts';
import type { TestRelay } from './helpers/relay-harness.ts';

// Three relay nodes on one real PostgreSQL database and one real Redis (PETREL_STORE=postgres).

let cluster: TestCluster;
let a: TestRelay;
let b: TestRelay;
let c: TestRelay;
beforeAll(async () => {
  cluster = await startTestCluster(3, { PETREL_PREKEY_LOW_THRESHOLD: '5', PETREL_PREKEY_POOL_MAX: '200' });
  [a, b, c] = cluster.nodes as [TestRelay, TestRelay, TestRelay];
});
afterAll(async () => {
  await cluster.stop();
});

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

/** Sends `count` envelopes and waits for every `sent`; returns their ids in order. */
async function sendAll(from: TestClient, to: TestIdentity, count: number, firstRid: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const env = randomEnvelope(to.mailbox);
    ids.push(hex(env.id));
    from.send({ t: 'send', rid: firstRid + i, env });
  }
  for (let i = 0; i < count; i++) expect(await from.reply(firstRid + i, 10_000)).toMatchObject({ t: 'sent' });
  return ids;
}

/** Waits for `n` deliveries (acking each) and returns their ids in arrival order. */
async function receive(client: TestClient, n: number, timeoutMs = 10_000): Promise<string[]> {
  const got: string[] = [];
  while (got.length < n) {
    const f = await client.next('deliver', undefined, timeoutMs);
    got.push(hex(f.env.id));
    client.send({ t: 'ack', ids: [f.env.id] });
  }
  return got;
}

describe('relay cluster on PostgreSQL and Redis', () => {
  it('migrated the shared database once although the three nodes started together', async () => {
    const { rows } = await cluster.db.pool.query<{ version: number }>('SELECT version FROM petrel_schema_migrations');
    expect(rows).toHaveLength(MIGRATIONS.length);
    for (const node of cluster.nodes) expect((await fetch(`${node.http}/ready`)).status).toBe(200);
  });

  it('exports the store\'s metrics per node: PostgreSQL pool, Redis state, queue depth read from the database', async () => {
    const bob = newIdentity();
    const ca = await TestClient.authenticated(a.url, newIdentity());
    await sendAll(ca, bob, 3, 1);
    ca.close();
    // A fresh node's first sweep reads the queue depth from PostgreSQL: what the others stored.
    const node = await cluster.startNode();
    const text = await (await fetch(`${node.http}/metrics`)).text();
    expect(text).toMatch(/^petrel_queue_depth 3$/m);
    expect(text).toMatch(/^petrel_store_pool_connections\{state="idle"\} [1-9]/m);
    expect(text).toMatch(/^petrel_store_pool_waiting \d+$/m);
    expect(text).toMatch(/^petrel_cluster_redis_up 1$/m);
    await node.stop();
    const cb = await TestClient.authenticated(b.url, bob);
    expect(await receive(cb, 3)).toHaveLength(3);
    cb.close();
  });

  it('delivers at once across nodes, in order per sender, with no duplicate, also to a third person on the same node', async () => {
    const alice = newIdentity();
    const bob = newIdentity();
    const carol = newIdentity();
    const ca = await TestClient.authenticated(a.url, alice);
    const cb = await TestClient.authenticated(b.url, bob);
    const cc = await TestClient.authenticated(b.url, carol); // on bob's node
    const [fromAlice, fromCarol] = await Promise.all([sendAll(ca, bob, 40, 1), sendAll(cc, bob, 40, 1000)]);
    const got = await receive(cb, 80);
    expect(new Set(got).size).toBe(80);
    expect(got.filter((id) => fromAlice.includes(id))).toEqual(fromAlice);
    expect(got.filter((id) => fromCarol.includes(id))).toEqual(fromCarol);
    // Bob answers alice across nodes too.
    const back = await sendAll(cb, alice, 5, 2000);
    expect(await receive(ca, 5)).toEqual(back);
    await expect.poll(async () => (await cluster.db.pool.query('SELECT 1 FROM envelopes')).rowCount).toBe(0);
    for (const x of [ca, cb, cc]) x.close();
  });

  it('a client reconnecting to another node gets what waits for it; nothing acknowledged is lost when its node stops', async () => {
    const alice = newIdentity();
    const bob = newIdentity();
    const node = await cluster.startNode();
    const ca = await TestClient.authenticated(node.url, alice);
    const ids = await sendAll(ca, bob, 20, 1);
    await node.stop();
    const cb = await TestClient.authenticated(c.url, bob);
    expect(await receive(cb, 20)).toEqual(ids);
    cb.close();
  });

  it('forwards WebRTC signaling across nodes; a blob for a mailbox on no node is counted offline', async () => {
    const alice = newIdentity();
    const bob = newIdentity();
    const ca = await TestClient.authenticated(a.url, alice);
    const cb = await TestClient.authenticated(c.url, bob);
    const blob = new Uint8Array([1, 2, 3, 4]);
    ca.send({ t: 'signal', to: bob.mailbox, blob });
    expect((await cb.next('signal')).blob).toEqual(blob);
    // The sender hears nothing either way (an answer would tell strangers who is online); the metrics tell.
    const count = async (result: string) =>
      Number((await (await fetch(`${a.http}/metrics`)).text()).match(new RegExp(`petrel_signals_total\\{result="${result}"\\} (\\d+)`))?.[1] ?? 0);
    /** Sends one signal to `to` and says how node a counted it. */
    const signalOutcome = async (to: Uint8Array) => {
      const [offline, forwarded] = [await count('offline'), await count('forwarded')];
      ca.send({ t: 'signal', to, blob });
      await expect.poll(async () => (await count('offline')) + (await count('forwarded'))).toBe(offline + forwarded + 1);
      return (await count('offline')) > offline ? 'offline' : 'forwarded';
    };
    expect(await signalOutcome(newIdentity().mailbox)).toBe('offline');
    expect(await signalOutcome(bob.mailbox)).toBe('forwarded');
    expect((await cb.next('signal')).blob).toEqual(blob);
    // Once bob left, no node listens for him any more.
    cb.close();
    await cb.waitClosed();
    await expect.poll(() => signalOutcome(bob.mailbox)).toBe('offline');
    ca.close();
  });

  it('hands each one-time prekey out once to 100 concurrent fetches across the three nodes, and warns the owner on another node', async () => {
    const bob = newIdentity();
    const owner = await TestClient.authenticated(a.url, bob);
    owner.send({ t: 'prekeys.publish', rid: 1, bundle: signedBundle(bob, 60, 40) });
    expect(await owner.reply(1)).toMatchObject({ t: 'prekeys.published', opks: 60, pqopks: 40 });
    const fetchers = await Promise.all(cluster.nodes.slice(0, 3).flatMap((n) => Array.from({ length: 4 }, () => TestClient.connect(n.url))));
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const f = fetchers[i % fetchers.length]!;
        f.send({ t: 'prekeys.fetch', rid: i, ik: bob.ik });
        return f.reply(i, 15_000);
      }),
    );
    const bundles = replies.map((r) => (r.t === 'prekeys.bundle' ? r.bundle : undefined));
    expect(bundles.every(Boolean)).toBe(true);
    const opks = bundles.flatMap((x) => (x?.opk ? [x.opk.id] : []));
    const pqs = bundles.flatMap((x) => (x && !x.pq.lastResort ? [x.pq.id] : []));
    expect(opks).toHaveLength(60);
    expect(new Set(opks).size).toBe(60);
    expect(pqs).toHaveLength(40);
    expect(new Set(pqs).size).toBe(40);
    // Fetches on nodes b and c drained the pool: the owner on node a is told.
    await owner.next('prekeys.low', (f) => f.opks === 0 && f.pqopks === 0, 10_000);
    for (const f of [owner, ...fetchers]) f.close();
  });

  it('shares rate limits between nodes (one bucket per client IP for the whole cluster)', async () => {
    const limited = await startTestCluster(2, { PETREL_IP_FETCHES_PER_SEC: '1', PETREL_IP_FETCH_BURST: '6' });
    try {
      const [x, y] = limited.nodes as [TestRelay, TestRelay];
      const cx = await TestClient.connect(x.url);
      const cy = await TestClient.connect(y.url);
      const ik = newIdentity().ik;
      const codes: string[] = [];
      for (let i = 0; i < 8; i++) {
        const cl = i % 2 === 0 ? cx : cy;
        cl.send({ t: 'prekeys.fetch', rid: i, ik });
        const r: RelayFrame = await cl.reply(i);
        codes.push(r.t === 'error' ? r.code : r.t);
      }
      // 6 tokens in the shared bucket, taken alternately on both nodes; on its own each node would have allowed 6.
      expect(codes).toEqual(['not_found', 'not_found', 'not_found', 'not_found', 'not_found', 'not_found', 'rate_limited', 'rate_limited']);
      cx.close();
      cy.close();
    } finally {
      await limited.stop();
    }
  });

  it('group-commits concurrent deposits: fewer PostgreSQL transactions than deposits', async () => {
    const bob = newIdentity();
    const senders = await Promise.all(Array.from({ length: 20 }, () => TestClient.authenticated(b.url, newIdentity())));
    const before = (await b.relay.metrics.commitBatch.get()).values;
    const count = (vals: typeof before, suffix: string) => vals.find((v) => v.metricName === `petrel_deposit_batch_size${suffix}`)?.value ?? 0;
    await Promise.all(senders.map((s, i) => sendAll(s, bob, 10, i * 100)));
    const after = (await b.relay.metrics.commitBatch.get()).values;
    const commits = count(after, '_count') - count(before, '_count');
    const ops = count(after, '_sum') - count(before, '_sum');
    expect(ops).toBe(200);
    expect(commits).toBeLessThan(ops / 2);
    for (const s of senders) s.close();
    const cb = await TestClient.authenticated(a.url, bob);
    expect(await receive(cb, 200)).toHaveLength(200);
    cb.close();
  });
});

describe('relay cluster: one body for many mailboxes (send.multi)', () => {
  it('stores it for 300 mailboxes in one PostgreSQL transaction and delivers live on other nodes and from the backlog', async () => {
    const online = [newIdentity(), newIdentity()];
    const onB = await TestClient.authenticated(b.url, online[0]!);
    const onC = await TestClient.authenticated(c.url, online[1]!);
    const offline = Array.from({ length: 298 }, () => newIdentity());
    const sender = await TestClient.connect(a.url);
    const id = new Uint8Array(16).fill(42);
    const body = new Uint8Array(200).fill(7);
    const metric = async (name: string) => Number((await (await fetch(`${a.http}/metrics`)).text()).match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? 0);
    const commits = await metric('petrel_deposit_batch_size_count');
    sender.send({ t: 'send.multi', rid: 1, id, to: [...online, ...offline].map((p) => p.mailbox), body });
    expect(await sender.reply(1, 20_000)).toMatchObject({ t: 'sent.multi', full: [], unlinked: [] });
    expect(await metric('petrel_deposit_batch_size_count')).toBe(commits + 1);
    for (const [client, who] of [[onB, online[0]!], [onC, online[1]!]] as const) {
      const d = await client.next('deliver', undefined, 10_000);
      expect(d.env).toEqual({ to: who.mailbox, id, body });
    }
    const late = await TestClient.connect(c.url);
    expect((await late.auth(offline[297]!)).queued).toBe(1);
    expect((await late.next('deliver')).env.body).toEqual(body);
    for (const client of [onB, onC, late, sender]) client.close();
  });
});
