/**
 * Device-link channels across the nodes of a cluster (docs/PROTOCOL.md §13.6, SCALING.md):
 * the two devices' sockets on different relay nodes sharing one real PostgreSQL and one
 * real Redis. The single relay's guarantees must hold cluster-wide: data both ways in
 * order and byte-exact, one holder and one joiner, the channel's budget as a whole, its
 * expiry, either end's leaving told to the other, and Redis failures as typed refusals.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayFrame } from '../../src/core/wire/index.ts';
import { startTestCluster, type TestCluster } from './helpers/cluster-harness.ts';
import { rid } from './helpers/devices.ts';
import { newIdentity } from './helpers/identity.ts';
import type { TestRelay } from './helpers/relay-harness.ts';
import { cuttableProxy, viaPort } from './helpers/services.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape, waitFor } from './helpers/wait-for.ts';

const BUDGET = { maxBytes: 64 * 1024, maxFrames: 40 };

let cluster: TestCluster;
let a: TestRelay;
let b: TestRelay;
let c: TestRelay;
beforeAll(async () => {
  cluster = await startTestCluster(3, {}, { linkLimits: BUDGET });
  [a, b, c] = cluster.nodes as [TestRelay, TestRelay, TestRelay];
});
afterAll(async () => {
  await cluster.stop();
});

const ch = () => new Uint8Array(randomBytes(16));
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

function expectError(f: RelayFrame, code: string): void {
  expect(f.t).toBe('error');
  expect(f.t === 'error' && f.code).toBe(code);
}

const refusals = (node: TestRelay, reason: string) => scrape(node.http, new RegExp(`petrel_link_refusals_total\\{reason="${reason}"\\} (\\d+)`));
const channelsOn = (node: TestRelay) => scrape(node.http, /petrel_relay_state_entries\{map="link_channels"\} (\d+)/);

async function open(on: TestRelay, c0 = ch()): Promise<{ holder: TestClient; c: Uint8Array }> {
  const holder = await TestClient.authenticated(on.url, newIdentity());
  const r = rid();
  holder.send({ t: 'link.open', rid: r, ch: c0 });
  expect((await holder.reply(r)).t).toBe('link.opened');
  return { holder, c: c0 };
}

async function join(on: TestRelay, c0: Uint8Array): Promise<TestClient> {
  const joiner = await TestClient.authenticated(on.url, newIdentity());
  const r = rid();
  joiner.send({ t: 'link.join', rid: r, ch: c0 });
  expect((await joiner.reply(r)).t).toBe('link.joined');
  return joiner;
}

/** A channel held on `from` and joined on `to`. */
async function pair(from: TestRelay, to: TestRelay): Promise<{ holder: TestClient; joiner: TestClient; c: Uint8Array }> {
  const { holder, c: c0 } = await open(from);
  return { holder, joiner: await join(to, c0), c: c0 };
}

/** Waits for `n` link.data frames on `client` and returns their bytes in arrival order. */
async function received(client: TestClient, n: number): Promise<string[]> {
  await client.until(() => (client.frames.filter((f) => f.t === 'link.data').length >= n ? true : undefined), `${n} link.data frames`);
  return client.frames.flatMap((f) => (f.t === 'link.data' ? [hex(f.data)] : []));
}

describe('link channels across cluster nodes', () => {
  it('carries data both ways between two nodes, in order and byte-exact', async () => {
    const { holder, joiner, c: c0 } = await pair(a, b);
    const up = Array.from({ length: 15 }, (_, i) => new Uint8Array(randomBytes(1 + ((i * 97) % 900))));
    const down = Array.from({ length: 15 }, (_, i) => new Uint8Array(randomBytes(1 + ((i * 131) % 1100))));
    for (let i = 0; i < 15; i++) {
      joiner.send({ t: 'link.data', ch: c0, data: up[i]! });
      holder.send({ t: 'link.data', ch: c0, data: down[i]! });
    }
    expect(await received(holder, 15)).toEqual(up.map(hex));
    expect(await received(joiner, 15)).toEqual(down.map(hex));
    const f = holder.frames.find((x) => x.t === 'link.data');
    expect(f?.t === 'link.data' && hex(f.ch)).toBe(hex(c0));
    // Nothing beyond what the other end sent, and no errors.
    expect(holder.frames.filter((x) => x.t === 'error')).toHaveLength(0);
    expect(joiner.frames.filter((x) => x.t === 'error')).toHaveLength(0);
    holder.close();
    joiner.close();
  });

  it('works with both ends on one node of the cluster too', async () => {
    const { holder, joiner, c: c0 } = await pair(c, c);
    joiner.send({ t: 'link.data', ch: c0, data: Uint8Array.of(7, 8) });
    expect(await received(holder, 1)).toEqual(['0708']);
    holder.close();
    joiner.close();
  });

  it('refuses a second opener and a second joiner on a third node (busy), an unknown channel (not_found) and a stranger\'s data, each counted', async () => {
    const { holder, joiner, c: c0 } = await pair(a, b);
    const other = await TestClient.authenticated(c.url, newIdentity());
    const before = { busy: await refusals(c, 'busy'), notFound: await refusals(c, 'not_found'), member: await refusals(c, 'not_member') };
    let r = rid();
    other.send({ t: 'link.join', rid: r, ch: c0 });
    expectError(await other.reply(r), 'link_busy');
    r = rid();
    other.send({ t: 'link.open', rid: r, ch: c0 });
    expectError(await other.reply(r), 'link_busy');
    r = rid();
    other.send({ t: 'link.join', rid: r, ch: ch() });
    expectError(await other.reply(r), 'not_found');
    other.send({ t: 'link.data', ch: c0, data: Uint8Array.of(9) });
    expectError(await other.next('error'), 'not_found');
    expect(await refusals(c, 'busy')).toBe(before.busy + 2);
    expect(await refusals(c, 'not_found')).toBe(before.notFound + 1);
    expect(await refusals(c, 'not_member')).toBe(before.member + 1);
    // The channel still works between its two ends, and the stranger got nothing.
    holder.send({ t: 'link.data', ch: c0, data: Uint8Array.of(1) });
    expect(await received(joiner, 1)).toEqual(['01']);
    expect(other.frames.some((f) => f.t === 'link.data' || f.t === 'link.closed')).toBe(false);
    for (const x of [holder, joiner, other]) x.close();
  });

  it('a join for a channel nobody opened is not_found on every node', async () => {
    for (const node of [a, b, c]) {
      const x = await TestClient.authenticated(node.url, newIdentity());
      const r = rid();
      x.send({ t: 'link.join', rid: r, ch: ch() });
      expectError(await x.reply(r), 'not_found');
      x.close();
    }
  });

  it('counts the byte budget of the channel as a whole, across both nodes', async () => {
    const { holder, joiner, c: c0 } = await pair(a, b);
    // Each side alone stays well under 64 KiB; together they fill it.
    holder.send({ t: 'link.data', ch: c0, data: new Uint8Array(40_000) });
    await received(joiner, 1);
    joiner.send({ t: 'link.data', ch: c0, data: new Uint8Array(24_000) });
    await received(holder, 1);
    joiner.send({ t: 'link.data', ch: c0, data: new Uint8Array(2000) });
    expectError(await joiner.next('error'), 'link_limit');
    // The refused chunk reached nobody.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(holder.frames.filter((f) => f.t === 'link.data')).toHaveLength(1);
    expect(await refusals(b, 'over_budget')).toBeGreaterThanOrEqual(1);
    holder.close();
    joiner.close();
  });

  it('counts the frame budget of the channel as a whole, across both nodes', async () => {
    const { holder, joiner, c: c0 } = await pair(b, c);
    for (let i = 0; i < 20; i++) holder.send({ t: 'link.data', ch: c0, data: Uint8Array.of(i) });
    for (let i = 0; i < 20; i++) joiner.send({ t: 'link.data', ch: c0, data: Uint8Array.of(i) });
    await received(joiner, 20);
    await received(holder, 20);
    holder.send({ t: 'link.data', ch: c0, data: Uint8Array.of(99) });
    expectError(await holder.next('error'), 'link_limit');
    holder.close();
    joiner.close();
  });

  it('tells the other node\'s end when one end leaves, either way round, and frees the channel on both nodes', async () => {
    const first = await pair(a, b);
    first.joiner.close();
    expect(hex((await first.holder.next('link.closed')).ch)).toBe(hex(first.c));
    const second = await pair(b, c);
    second.holder.close();
    expect(hex((await second.joiner.next('link.closed')).ch)).toBe(hex(second.c));
    // The ended channel is gone from Redis: its id can be joined by nobody.
    const x = await TestClient.authenticated(a.url, newIdentity());
    const r = rid();
    x.send({ t: 'link.join', rid: r, ch: second.c });
    expectError(await x.reply(r), 'not_found');
    for (const y of [first.holder, second.joiner, x]) y.close();
    for (const node of [a, b, c]) await waitFor(() => channelsOn(node), (n) => n === 0, 'link channels back to 0');
    expect(await cluster.redis.redis.keys(`${cluster.redis.prefix}link:*`)).toEqual([]);
  });

  it('holds back a fast sender while the other node\'s end reads slowly, and loses nothing', async () => {
    const h = await cluster.startNode({}, {});
    const i = await cluster.startNode({}, {});
    const { holder, joiner, c: c0 } = await pair(h, i);
    const pausedBefore = await scrape(h.http, /petrel_paused_reads_total (\d+)/);
    // The new device stops reading; 24 MiB is far past what its node may buffer for it (4 MiB).
    const n = 384;
    joiner.ws.pause();
    const chunks = Array.from({ length: n }, () => new Uint8Array(randomBytes(64 * 1024)));
    for (const data of chunks) holder.send({ t: 'link.data', ch: c0, data });
    await waitFor(() => scrape(h.http, /petrel_paused_reads_total (\d+)/), (n) => n > pausedBefore, 'the sender\'s node to stop reading it');
    joiner.ws.resume();
    await joiner.until(() => (joiner.frames.filter((f) => f.t === 'link.data').length >= n ? true : undefined), 'every chunk', 30_000);
    const got = joiner.frames.flatMap((f) => (f.t === 'link.data' ? [f.data] : []));
    expect(Buffer.concat(got).equals(Buffer.concat(chunks))).toBe(true);
    expect(joiner.closeCode).toBeUndefined();
    holder.close();
    joiner.close();
    await Promise.all([h.stop(), i.stop()]);
  }, 60_000);

  it('ends a channel at its expiry on both nodes, without either end sending anything', async () => {
    const d = await cluster.startNode({}, { linkLimits: { ttlMs: 1500 } });
    const e = await cluster.startNode({}, { linkLimits: { ttlMs: 1500 } });
    const opened = Date.now();
    const { holder, joiner, c: c0 } = await pair(d, e);
    const [h, j] = await Promise.all([holder.next('link.closed', undefined, 5000), joiner.next('link.closed', undefined, 5000)]);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1400);
    expect(hex(h.ch)).toBe(hex(c0));
    expect(hex(j.ch)).toBe(hex(c0));
    holder.send({ t: 'link.data', ch: c0, data: Uint8Array.of(1) });
    expectError(await holder.next('error'), 'not_found');
    expect(joiner.frames.some((f) => f.t === 'link.data')).toBe(false);
    expect(await cluster.redis.redis.exists(`${cluster.redis.prefix}link:${hex(c0)}`)).toBe(0);
    holder.close();
    joiner.close();
  });

  it('a node shutting down ends its channels: the other node\'s end is told', async () => {
    const f = await cluster.startNode();
    const { holder, joiner, c: c0 } = await pair(f, a);
    await f.stop();
    expect(hex((await joiner.next('link.closed')).ch)).toBe(hex(c0));
    expect(holder.closeCode).toBeDefined();
    joiner.close();
  });

  it('Redis unreachable from a node: its opens are refused as overloaded (counted), its live channels end with link.closed, and the other node\'s end is told at the expiry', async () => {
    const proxy = await cuttableProxy(Number(new URL(cluster.redis.url).port || 6379));
    try {
      const g = await cluster.startNode({ REDIS_URL: viaPort(cluster.redis.url, proxy.port) });
      const d = await cluster.startNode({}, { linkLimits: { ttlMs: 2000 } });
      const { holder, joiner, c: c0 } = await pair(d, g);
      const opener = await TestClient.authenticated(g.url, newIdentity());
      proxy.cut();
      const cutAt = Date.now();
      // The joiner's node lost its subscription: notices may be lost, so its end ends.
      expect(hex((await joiner.next('link.closed')).ch)).toBe(hex(c0));
      // Its node could not say so (as a node that died could not): the holder is told when the channel expires.
      expect(hex((await holder.next('link.closed', undefined, 5000)).ch)).toBe(hex(c0));
      expect(Date.now() - cutAt).toBeGreaterThan(500);
      const r = rid();
      opener.send({ t: 'link.open', rid: r, ch: ch() });
      expectError(await opener.reply(r), 'overloaded');
      expect(await refusals(g, 'unavailable')).toBeGreaterThanOrEqual(1);
      proxy.restore();
      // Back: links work on that node again.
      await waitFor(async () => {
        const x = await TestClient.authenticated(g.url, newIdentity());
        const r2 = rid();
        x.send({ t: 'link.open', rid: r2, ch: ch() });
        const f = await x.reply(r2);
        x.close();
        return f.t;
      }, (t) => t === 'link.opened', 'a link.open on the node once Redis is back');
      for (const x of [holder, joiner, opener]) x.close();
      await Promise.all([g.stop(), d.stop()]);
    } finally {
      proxy.restore();
      await proxy.close();
    }
  });
});
