import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import { MemoryRateLimitStore } from '../../src/relay/limits/memory-rate-limit-store.ts';
import { RelayMetrics } from '../../src/relay/metrics.ts';
import { PUSH_INTERVAL_MS, PUSH_PAYLOAD, PUSH_TOPIC, PushNotifier } from '../../src/relay/push/push-notifier.ts';
import { SqlitePushStore } from '../../src/relay/push/sqlite-push-store.ts';
import { openDatabase } from '../../src/relay/storage/sqlite-database.ts';
import { newIdentity, randomEnvelope, type TestIdentity } from './helpers/identity.ts';
import { startLoopbackPushService, type LoopbackPushService, type TestSubscription } from './helpers/push-service.ts';
import { startTestRelay, tempDataDir, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape, waitFor } from './helpers/wait-for.ts';

// The relay's Web Push sending, end to end against a push service on loopback that checks
// the VAPID JWT and decrypts the payload itself (helpers/push-service.ts): the real
// protocol through the real library, no mock of either side.

let relay: TestRelay;
let service: LoopbackPushService;
beforeAll(async () => {
  service = await startLoopbackPushService();
  relay = await startTestRelay({ PETREL_PUSH_ALLOW_LOOPBACK: 'true', PETREL_RETENTION_DAYS: '7', PETREL_PUSH_SUBJECT: 'mailto:ops@petrel.example' });
});
afterAll(async () => {
  await relay.stop();
  await service.close();
});

const pushes = async (result: string) => (await relay.relay.metrics.pushes.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
const registrations = async (result: string) => (await relay.relay.metrics.pushRegistrations.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

/** Authenticates `id`, registers `sub` for its mailbox, and leaves the socket open. */
async function registered(id: TestIdentity, sub: TestSubscription): Promise<TestClient> {
  const c = await TestClient.authenticated(relay.url, id);
  c.send({ t: 'push.register', rid: 1, endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth });
  expect(await c.reply(1)).toEqual({ t: 'push.registered', rid: 1 });
  return c;
}

/** Closes `c` and waits until the relay no longer holds any mailbox binding (the device is offline). */
async function offline(c: TestClient): Promise<void> {
  c.close();
  await waitFor(() => scrape(relay.http, /^petrel_relay_state_entries\{map="mailbox_bindings"\} (\d+)$/m), (n) => n === 0, 'the relay to drop the binding');
}

/** Deposits `n` envelopes for `to` and waits for each `sent` and for every push they started. */
async function deposit(to: Uint8Array, n = 1, bytes = 200): Promise<Uint8Array[]> {
  const sender = await TestClient.connect(relay.url);
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const env = randomEnvelope(to, bytes);
    bodies.push(env.body);
    sender.send({ t: 'send', rid: 10 + i, env });
    expect((await sender.reply(10 + i)).t).toBe('sent');
  }
  sender.close();
  await relay.relay.push.settled();
  return bodies;
}

describe('Web Push: waking a device with no open connection', () => {
  it('serves the VAPID public key the pushes are signed with, the same after a restart', async () => {
    const res = await fetch(`${relay.http}/push/key`);
    expect(res.status).toBe(200);
    const { publicKey } = (await res.json()) as { publicKey: string };
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);

    const dir = tempDataDir();
    const first = await startTestRelay({}, dir);
    const key1 = ((await (await fetch(`${first.http}/push/key`)).json()) as { publicKey: string }).publicKey;
    await first.stop({ keepData: true });
    const second = await startTestRelay({}, dir);
    const key2 = ((await (await fetch(`${second.http}/push/key`)).json()) as { publicKey: string }).publicKey;
    await second.stop();
    expect(key2).toBe(key1);
  });

  it('sends an encrypted, VAPID-signed push with no sender, content or count when the device is offline', async () => {
    const bob = newIdentity();
    const sub = service.subscribe();
    const c = await registered(bob, sub);
    await offline(c);
    const before = service.received.length;
    const bodies = await deposit(bob.mailbox, 1, 500);
    await service.waitFor(before + 1);
    const push = service.received[before]!;
    const { publicKey } = (await (await fetch(`${relay.http}/push/key`)).json()) as { publicKey: string };
    expect(push.vapidKey).toBe(publicKey);
    expect(push.claims.aud).toBe(service.origin);
    expect(push.claims.sub).toBe('mailto:ops@petrel.example');
    expect(push.headers.ttl).toBe(String(7 * 24 * 3600));
    expect(push.headers.topic).toBe(PUSH_TOPIC);
    // What the device decrypts is the fixed wake and nothing else: not the envelope, its sender or a count.
    expect(push.payload.toString()).toBe(PUSH_PAYLOAD);
    expect(push.payload.includes(Buffer.from(bodies[0]!.subarray(0, 16)))).toBe(false);
    expect(push.payload.includes(Buffer.from(bob.mailbox.subarray(0, 8)))).toBe(false);
    expect(push.bodyBytes).toBeLessThan(200);
    expect(service.refused).toEqual([]);
    expect(await scrape(relay.http, /^petrel_push_subscriptions (\d+)$/m)).toBeGreaterThanOrEqual(1);
  });

  it('sends nothing while the device is connected (it receives the envelope directly)', async () => {
    const alice = newIdentity();
    const sub = service.subscribe();
    const c = await registered(alice, sub);
    const before = service.received.length;
    const sentBefore = await pushes('sent');
    await deposit(alice.mailbox, 3);
    for (let i = 0; i < 3; i++) await c.next('deliver');
    expect(service.received.length).toBe(before);
    expect(await pushes('sent')).toBe(sentBefore);
    await offline(c);
  });

  it('wakes each sleeping recipient of a send.multi once (one subscription look-up for them all), not a connected one', async () => {
    const asleep = [newIdentity(), newIdentity(), newIdentity()];
    const subs = asleep.map(() => service.subscribe());
    for (let i = 0; i < asleep.length; i++) await offline(await registered(asleep[i]!, subs[i]!));
    const awake = newIdentity();
    const awakeSub = service.subscribe();
    const online = await registered(awake, awakeSub);
    const never = newIdentity();
    const noSubscriptionBefore = await pushes('no_subscription');
    const sender = await TestClient.connect(relay.url);
    const body = new Uint8Array(randomBytes(120));
    sender.send({ t: 'send.multi', rid: 3, id: new Uint8Array(randomBytes(16)), to: [...asleep.map((p) => p.mailbox), never.mailbox, awake.mailbox], body });
    expect(await sender.reply(3)).toMatchObject({ t: 'sent.multi', full: [], unlinked: [] });
    sender.close();
    expect((await online.next('deliver')).env.body).toEqual(body);
    await relay.relay.push.settled();
    const to = (sub: TestSubscription) => service.received.filter((p) => sub.endpoint.endsWith(p.path)).length;
    expect(subs.map(to)).toEqual([1, 1, 1]);
    expect(to(awakeSub)).toBe(0);
    expect(await pushes('no_subscription')).toBe(noSubscriptionBefore + 1);
    await offline(online);
  });

  it('collapses deposits within 10 s into one push per device', async () => {
    const carol = newIdentity();
    const sub = service.subscribe();
    await offline(await registered(carol, sub));
    const collapsedBefore = await pushes('collapsed');
    await deposit(carol.mailbox, 5);
    const forCarol = service.received.filter((p) => sub.endpoint.endsWith(p.path));
    expect(forCarol).toHaveLength(1);
    expect(await pushes('collapsed')).toBe(collapsedBefore + 4);
  });

  it('deletes the subscription when the push service answers 410 Gone, and sends no more', async () => {
    const dave = newIdentity();
    const sub = service.subscribe();
    service.answer(new URL(sub.endpoint).pathname, 410);
    await offline(await registered(dave, sub));
    const goneBefore = await pushes('gone');
    const noneBefore = await pushes('no_subscription');
    await deposit(dave.mailbox);
    expect(await pushes('gone')).toBe(goneBefore + 1);
    await deposit(dave.mailbox);
    expect(await pushes('no_subscription')).toBe(noneBefore + 1);
  });

  it('counts a push service that fails and still stores and acknowledges every deposit', async () => {
    const erin = newIdentity();
    const sub = service.subscribe();
    service.answer(new URL(sub.endpoint).pathname, 500);
    await offline(await registered(erin, sub));
    const refusedBefore = await pushes('refused');
    await deposit(erin.mailbox);
    expect(await pushes('refused')).toBe(refusedBefore + 1);
    // An unreachable push service: a network error, counted, the deposit unaffected.
    const frank = newIdentity();
    const dead = { ...service.subscribe(), endpoint: 'http://127.0.0.1:9/push/nobody' };
    await offline(await registered(frank, dead));
    const failedBefore = await pushes('failed');
    await deposit(frank.mailbox);
    expect(await pushes('failed')).toBe(failedBefore + 1);
    const c = await TestClient.connect(relay.url);
    expect((await c.auth(frank)).queued).toBe(1);
    c.close();
  });

  it('unregisters on request', async () => {
    const gina = newIdentity();
    const sub = service.subscribe();
    const c = await registered(gina, sub);
    c.send({ t: 'push.unregister', rid: 2 });
    expect(await c.reply(2)).toEqual({ t: 'push.unregistered', rid: 2 });
    await offline(c);
    const noneBefore = await pushes('no_subscription');
    await deposit(gina.mailbox);
    expect(await pushes('no_subscription')).toBe(noneBefore + 1);
  });
});

describe('Web Push: push.register refusals', () => {
  const p256dh = () => service.subscribe().p256dh;
  const cases: [string, () => { endpoint: string; p256dh: Uint8Array }, string][] = [
    ['plain http to a host name', () => ({ endpoint: 'http://push.example.org/x', p256dh: p256dh() }), 'not_https'],
    ['an IP-literal host', () => ({ endpoint: 'https://10.0.0.7/x', p256dh: p256dh() }), 'address_host'],
    ['localhost over https', () => ({ endpoint: 'https://localhost/x', p256dh: p256dh() }), 'address_host'],
    ['credentials in the URL', () => ({ endpoint: 'https://u:p@push.example.org/x', p256dh: p256dh() }), 'bad_endpoint'],
    ['not a URL', () => ({ endpoint: 'push.example.org/x', p256dh: p256dh() }), 'bad_endpoint'],
    ['a compressed-looking key', () => ({ endpoint: 'https://push.example.org/x', p256dh: new Uint8Array(65).fill(3) }), 'bad_key'],
    ['a key off the curve', () => ({ endpoint: 'https://push.example.org/x', p256dh: Uint8Array.of(4, ...randomBytes(64)) }), 'bad_key'],
  ];
  for (const [what, make, result] of cases) {
    it(`refuses ${what} (${result}), storing nothing`, async () => {
      const id = newIdentity();
      const c = await TestClient.authenticated(relay.url, id);
      const before = await registrations(result);
      const { endpoint, p256dh: key } = make();
      c.send({ t: 'push.register', rid: 3, endpoint, p256dh: key, auth: new Uint8Array(16) });
      const reply = await c.reply(3);
      expect(reply).toMatchObject({ t: 'error', code: 'bad_push_subscription', rid: 3 });
      expect(await registrations(result)).toBe(before + 1);
      await offline(c);
      const noneBefore = await pushes('no_subscription');
      await deposit(id.mailbox);
      expect(await pushes('no_subscription')).toBe(noneBefore + 1);
    });
  }

  it('refuses registration before authentication, and wrong key lengths at the decoder', async () => {
    const c = await TestClient.connect(relay.url);
    await c.next('challenge');
    const sub = service.subscribe();
    c.send({ t: 'push.register', rid: 4, endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth });
    expect(await c.reply(4)).toMatchObject({ t: 'error', code: 'unauthenticated', rid: 4 });
    c.send({ t: 'push.unregister', rid: 5 });
    expect(await c.reply(5)).toMatchObject({ t: 'error', code: 'unauthenticated', rid: 5 });
    c.close();

    const id = newIdentity();
    const d = await TestClient.authenticated(relay.url, id);
    const { encodeFrame } = await import('../../src/core/wire/index.ts');
    expect(() => encodeFrame({ t: 'push.register', rid: 6, endpoint: sub.endpoint, p256dh: sub.p256dh.subarray(1), auth: sub.auth })).toThrow();
    expect(() => encodeFrame({ t: 'push.register', rid: 6, endpoint: `https://push.example.org/${'a'.repeat(1024)}`, p256dh: sub.p256dh, auth: sub.auth })).toThrow();
    d.close();
  });

  it('refuses loopback http endpoints unless the relay is configured for tests', async () => {
    const strict = await startTestRelay();
    try {
      const c = await TestClient.authenticated(strict.url, newIdentity());
      const sub = service.subscribe();
      c.send({ t: 'push.register', rid: 7, endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth });
      expect(await c.reply(7)).toMatchObject({ t: 'error', code: 'bad_push_subscription' });
      c.close();
    } finally {
      await strict.stop();
    }
  });
});

describe('PushNotifier: the 10 s window per device', () => {
  it('sends again once 10 s have passed since the last push, and not before', async () => {
    const dir = tempDataDir();
    const db = openDatabase(dir, 'FULL');
    let clock = 1_000_000;
    const rateLimits = new MemoryRateLimitStore({ now: () => clock, sweepIntervalMs: 60_000 });
    const metrics = new RelayMetrics();
    const store = new SqlitePushStore(db);
    const notifier = await PushNotifier.open({ store, rateLimits, metrics, log: pino({ level: 'silent' }), now: () => clock, ttlSeconds: 60, subject: 'mailto:ops@petrel.example', timeoutMs: 5000 });
    try {
      const mailbox = new Uint8Array(randomBytes(32));
      const sub = service.subscribe();
      await store.register(mailbox, sub, clock);
      const mine = () => service.received.filter((p) => sub.endpoint.endsWith(p.path)).length;
      notifier.wake(mailbox);
      await notifier.settled();
      expect(mine()).toBe(1);
      clock += PUSH_INTERVAL_MS - 1;
      notifier.wake(mailbox);
      await notifier.settled();
      expect(mine()).toBe(1);
      clock += 1;
      notifier.wake(mailbox);
      await notifier.settled();
      expect(mine()).toBe(2);
    } finally {
      await rateLimits.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
