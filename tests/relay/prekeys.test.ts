import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newIdentity, signedBundle } from './helpers/identity.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({ PETREL_PREKEY_LOW_THRESHOLD: '5', PETREL_PREKEY_POOL_MAX: '150' });
});
afterAll(async () => {
  await relay.stop();
});

describe('relay prekey directory', () => {
  it('publishes a signed bundle and reports the pool sizes', async () => {
    const alice = newIdentity();
    const c = await TestClient.authenticated(relay.url, alice);
    c.send({ t: 'prekeys.publish', rid: 1, bundle: signedBundle(alice, 3, 2) });
    expect(await c.reply(1)).toEqual({ t: 'prekeys.published', rid: 1, opks: 3, pqopks: 2 });
    c.close();
  });

  it.each([
    ['the signed prekey', (b: ReturnType<typeof signedBundle>) => ({ ...b, spk: { ...b.spk, sig: b.spk.sig.map((x, i) => (i === 0 ? x ^ 1 : x)) } }), 'spk'],
    ['the last-resort PQ key', (b: ReturnType<typeof signedBundle>) => ({ ...b, pqspk: { ...b.pqspk, pub: b.pqspk.pub.map((x, i) => (i === 5 ? x ^ 1 : x)) } }), 'pqspk'],
    ['a PQ one-time key', (b: ReturnType<typeof signedBundle>) => ({ ...b, pqopks: [b.pqopks[0]!, { ...b.pqopks[1]!, sig: new Uint8Array(64) }] }), 'pqopks[1]'],
  ])('refuses a bundle with a bad signature on %s, storing nothing', async (_n, tamper, where) => {
    const alice = newIdentity();
    const c = await TestClient.authenticated(relay.url, alice);
    c.send({ t: 'prekeys.publish', rid: 1, bundle: tamper(signedBundle(alice, 2, 2)) });
    expect(await c.reply(1)).toMatchObject({ t: 'error', code: 'bad_signature', msg: `invalid signature on ${where}` });
    c.send({ t: 'prekeys.fetch', rid: 2, ik: alice.ik });
    expect(await c.reply(2)).toMatchObject({ t: 'error', code: 'not_found' });
    c.close();
  });

  it('refuses a bundle for an identity other than the authenticated one', async () => {
    const alice = newIdentity();
    const mallory = newIdentity();
    const c = await TestClient.authenticated(relay.url, mallory);
    c.send({ t: 'prekeys.publish', rid: 1, bundle: signedBundle(alice, 1, 1) });
    expect(await c.reply(1)).toMatchObject({ t: 'error', code: 'bad_signature' });
    c.close();
  });

  it('refuses an upload that would grow a pool past the cap with pool_full, atomically, and counts it', async () => {
    const alice = newIdentity();
    const c = await TestClient.authenticated(relay.url, alice);
    c.send({ t: 'prekeys.publish', rid: 1, bundle: signedBundle(alice, 100, 0, 1) });
    expect(await c.reply(1)).toMatchObject({ t: 'prekeys.published', opks: 100 });
    c.send({ t: 'prekeys.publish', rid: 2, bundle: signedBundle(alice, 60, 0, 1000) });
    expect(await c.reply(2)).toEqual({ t: 'error', code: 'pool_full', rid: 2, msg: 'prekey pool would exceed 150 keys' });
    c.send({ t: 'prekeys.publish', rid: 3, bundle: signedBundle(alice, 0, 0) });
    expect(await c.reply(3)).toMatchObject({ t: 'prekeys.published', opks: 100 });
    // The PQ pool has its own cap.
    c.send({ t: 'prekeys.publish', rid: 4, bundle: signedBundle(alice, 0, 100, 2000) });
    expect(await c.reply(4)).toMatchObject({ t: 'prekeys.published', opks: 100, pqopks: 100 });
    c.send({ t: 'prekeys.publish', rid: 5, bundle: signedBundle(alice, 0, 51, 3000) });
    expect(await c.reply(5)).toMatchObject({ t: 'error', code: 'pool_full', rid: 5 });
    const text = await (await fetch(`${relay.http}/metrics`)).text();
    expect(text).toMatch(/petrel_prekey_publishes_total\{result="pool_full"\} 2/);
    expect(text).toMatch(/petrel_errors_sent_total\{code="pool_full"\} 2/);
    c.close();
  });

  it('answers not_found for an identity that never published', async () => {
    const c = await TestClient.connect(relay.url);
    c.send({ t: 'prekeys.fetch', rid: 7, ik: newIdentity().ik });
    expect(await c.reply(7)).toMatchObject({ t: 'error', code: 'not_found', rid: 7 });
    c.close();
  });

  it('100 concurrent fetches never hand out a one-time prekey twice, then fall back to the last-resort PQ key', async () => {
    const alice = newIdentity();
    const owner = await TestClient.authenticated(relay.url, alice);
    const bundle = signedBundle(alice, 60, 40);
    owner.send({ t: 'prekeys.publish', rid: 1, bundle });
    await owner.reply(1);

    const fetchers = await Promise.all(Array.from({ length: 10 }, () => TestClient.connect(relay.url)));
    fetchers.forEach((f, i) => {
      for (let j = 0; j < 10; j++) f.send({ t: 'prekeys.fetch', rid: i * 10 + j, ik: alice.ik });
    });
    const replies = await Promise.all(
      fetchers.flatMap((f, i) => Array.from({ length: 10 }, (_, j) => f.reply(i * 10 + j))),
    );
    const bundles = replies.map((r) => {
      if (r.t !== 'prekeys.bundle') throw new Error(`unexpected ${r.t}`);
      return r.bundle;
    });
    const opkIds = bundles.flatMap((b) => (b.opk ? [b.opk.id] : []));
    const pqIds = bundles.filter((b) => !b.pq.lastResort).map((b) => b.pq.id);
    expect(opkIds).toHaveLength(60);
    expect(new Set(opkIds).size).toBe(60);
    expect(pqIds).toHaveLength(40);
    expect(new Set(pqIds).size).toBe(40);
    const lastResort = bundles.filter((b) => b.pq.lastResort);
    expect(lastResort).toHaveLength(60);
    for (const b of lastResort) expect(b.pq.pub).toEqual(bundle.pqspk.pub);
    for (const b of bundles) expect(b.spk).toEqual(bundle.spk);
    // Every handed-out key is one that was published, with its signature.
    const published = new Map(bundle.opks.map((k) => [k.id, k.pub]));
    for (const b of bundles) if (b.opk) expect(b.opk.pub).toEqual(published.get(b.opk.id));

    // The owner was told its pools ran low.
    const low = await owner.next('prekeys.low', (f) => f.opks === 0 && f.pqopks === 0);
    expect(low).toEqual({ t: 'prekeys.low', opks: 0, pqopks: 0 });
    for (const f of fetchers) f.close();
    owner.close();
  });

  it('tells an owner whose pool is low on auth', async () => {
    const alice = newIdentity();
    const c = await TestClient.authenticated(relay.url, alice);
    c.send({ t: 'prekeys.publish', rid: 1, bundle: signedBundle(alice, 2, 9) });
    await c.reply(1);
    c.close();
    const again = await TestClient.authenticated(relay.url, alice);
    expect(await again.next('prekeys.low')).toEqual({ t: 'prekeys.low', opks: 2, pqopks: 9 });
    again.close();
  });
});

describe('relay signaling', () => {
  it('forwards an opaque blob to the connected owner of a mailbox, without the sender', async () => {
    const bob = newIdentity();
    const b = await TestClient.authenticated(relay.url, bob);
    const a = await TestClient.connect(relay.url);
    const blob = new Uint8Array([1, 2, 3, 4]);
    a.send({ t: 'signal', to: bob.mailbox, blob });
    expect(await b.next('signal')).toEqual({ t: 'signal', blob });
    a.close();
    b.close();
  });

  it('answers the same (nothing) whether the recipient is connected or not, and stores nothing', async () => {
    const bob = newIdentity();
    const b = await TestClient.authenticated(relay.url, bob);
    const a = await TestClient.connect(relay.url);
    await a.next('challenge');
    a.send({ t: 'signal', to: newIdentity().mailbox, blob: new Uint8Array(8) });
    a.send({ t: 'ping', rid: 1 });
    await a.next('pong');
    a.send({ t: 'signal', to: bob.mailbox, blob: new Uint8Array(8) });
    a.send({ t: 'ping', rid: 2 });
    await a.next('pong');
    await b.next('signal');
    // Offline or online, the sender got only its pongs.
    expect(a.frames).toEqual([]);
    a.close();
    b.close();
  });
});
