import { afterEach, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './helpers/cluster-harness.ts';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { cuttableProxy, viaPort, type CuttableProxy } from './helpers/services.ts';
import { TestClient } from './helpers/test-client.ts';

// Outages of the real PostgreSQL and Redis as the relay sees them: its connections go
// through a TCP proxy that the test cuts (every connection reset, new ones refused)
// and restores. The machine's shared services keep running for everyone else.

let cluster: TestCluster | undefined;
let proxy: CuttableProxy | undefined;
afterEach(async () => {
  proxy?.restore();
  await cluster?.stop();
  await proxy?.close();
  cluster = undefined;
  proxy = undefined;
});

const readiness = async (http: string) => {
  const res = await fetch(`${http}/ready`);
  return `${res.status} ${((await res.json()) as { status: string }).status}`;
};

describe('relay cluster while a service is unreachable', () => {
  it('Redis gone: /ready says so, deposits are still accepted and delivered by polling, and pub/sub resumes when it is back', async () => {
    cluster = await startTestCluster(0);
    proxy = await cuttableProxy(Number(new URL(cluster.redis.url).port || 6379));
    const env = { REDIS_URL: viaPort(cluster.redis.url, proxy.port) };
    const a = await cluster.startNode(env);
    const b = await cluster.startNode(env);
    for (const n of [a, b]) await expect.poll(() => readiness(n.http)).toBe('200 ready');
    const alice = newIdentity();
    const bob = newIdentity();
    const carol = newIdentity();
    const ca = await TestClient.authenticated(a.url, alice);
    const cb = await TestClient.authenticated(b.url, bob);

    proxy.cut();
    for (const n of [a, b]) await expect.poll(() => readiness(n.http)).toBe('503 redis_unavailable');
    const during = randomEnvelope(bob.mailbox);
    ca.send({ t: 'send', rid: 1, env: during });
    expect(await ca.reply(1)).toMatchObject({ t: 'sent' });
    // No notification can reach node b: its pumps re-read PostgreSQL every PETREL_CLUSTER_POLL_MS.
    expect((await cb.next('deliver')).env.id).toEqual(during.id);
    // Someone who connects during the outage is subscribed once Redis is back.
    const cc = await TestClient.authenticated(b.url, carol);

    proxy.restore();
    for (const n of [a, b]) await expect.poll(() => readiness(n.http), { timeout: 10_000 }).toBe('200 ready');
    const after = randomEnvelope(carol.mailbox);
    ca.send({ t: 'send', rid: 2, env: after });
    expect(await ca.reply(2)).toMatchObject({ t: 'sent' });
    expect((await cc.next('deliver')).env.id).toEqual(after.id);
    const text = await (await fetch(`${b.http}/metrics`)).text();
    expect(text).toMatch(/petrel_cluster_poll_rounds_total [1-9]/);
    expect(text).toMatch(/petrel_cluster_redis_up 1/);
    for (const c of [ca, cb, cc]) c.close();
  });

  it('one node cut off from Redis while the others are not: what it accepted meanwhile reaches them once it is back (resync)', async () => {
    cluster = await startTestCluster(1);
    proxy = await cuttableProxy(Number(new URL(cluster.redis.url).port || 6379));
    const b = cluster.nodes[0]!;
    const a = await cluster.startNode({ REDIS_URL: viaPort(cluster.redis.url, proxy.port) });
    await expect.poll(() => readiness(a.http)).toBe('200 ready');
    const bob = newIdentity();
    const ca = await TestClient.authenticated(a.url, newIdentity());
    const cb = await TestClient.authenticated(b.url, bob);

    proxy.cut();
    await expect.poll(() => readiness(a.http)).toBe('503 redis_unavailable');
    expect(await readiness(b.http)).toBe('200 ready');
    const env = randomEnvelope(bob.mailbox);
    ca.send({ t: 'send', rid: 1, env });
    expect(await ca.reply(1)).toMatchObject({ t: 'sent' });
    // Node b listens on a healthy Redis and does not poll: nothing tells it yet.
    await expect(cb.next('deliver', undefined, 500)).rejects.toThrow(/timed out/);

    proxy.restore();
    expect((await cb.next('deliver', undefined, 10_000)).env.id).toEqual(env.id);
    ca.close();
    cb.close();
  });

  it('PostgreSQL gone: /ready says so and a deposit is refused, not acknowledged; service resumes when it is back', async () => {
    cluster = await startTestCluster(0);
    proxy = await cuttableProxy(Number(new URL(cluster.db.url).port || 5432));
    const a = await cluster.startNode({ DATABASE_URL: viaPort(cluster.db.url, proxy.port) });
    const bob = newIdentity();
    const ca = await TestClient.authenticated(a.url, newIdentity());

    proxy.cut();
    await expect.poll(() => readiness(a.http)).toBe('503 database_unavailable');
    const lost = randomEnvelope(bob.mailbox);
    ca.send({ t: 'send', rid: 1, env: lost });
    expect(await ca.reply(1, 15_000)).toMatchObject({ t: 'error', code: 'internal' });

    proxy.restore();
    await expect.poll(() => readiness(a.http), { timeout: 10_000 }).toBe('200 ready');
    const kept = randomEnvelope(bob.mailbox);
    ca.send({ t: 'send', rid: 2, env: kept });
    expect(await ca.reply(2)).toMatchObject({ t: 'sent' });
    const cb = await TestClient.authenticated(a.url, bob);
    expect((await cb.next('deliver')).env.id).toEqual(kept.id);
    ca.close();
    cb.close();
  });
});
