import { afterEach, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../../src/core/wire/index.ts';
import type { RateLimitStore } from '../../src/relay/limits/rate-limit-store.ts';
import { WS_MAX_PAYLOAD } from '../../src/relay/server.ts';
import { MAX_STRIKES } from '../../src/relay/ws/router.ts';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape, waitFor } from './helpers/wait-for.ts';
import { rawCbor } from '../wire/raw-cbor.ts';

const relays: TestRelay[] = [];
const clients: TestClient[] = [];
async function relayWith(env: Record<string, string> = {}) {
  const r = await startTestRelay(env);
  relays.push(r);
  return r;
}
async function client(url: string, opts?: Parameters<typeof TestClient.connect>[1]) {
  const c = await TestClient.connect(url, opts);
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  for (const r of relays.splice(0)) await r.stop();
});

const metric = (r: TestRelay, pattern: RegExp) => scrape(r.http, pattern);
const closedTotal = (reason: string) => new RegExp(`petrel_connections_closed_total\\{reason="${reason}"\\} (\\d+)`);

describe('relay limits: every refusal is a typed error frame and a metric', () => {
  it('per-connection frame budget: frames over the burst get rate_limited', async () => {
    const r = await relayWith({ PETREL_CONN_FRAMES_PER_SEC: '1', PETREL_CONN_FRAME_BURST: '5' });
    const c = await client(r.url);
    for (let i = 0; i < 10; i++) c.send({ t: 'ping', rid: i });
    await c.until(() => (c.frames.filter((f) => f.t === 'pong' || f.t === 'error').length >= 10 ? true : undefined), '10 answers');
    expect(c.frames.filter((f) => f.t === 'pong')).toHaveLength(5);
    expect(c.frames.filter((f) => f.t === 'error' && f.code === 'rate_limited')).toHaveLength(5);
    expect(await metric(r, /petrel_rate_limited_total\{bucket="connection"\} (\d+)/)).toBe(5);
  });

  it('per-IP deposit budget applies across connections, answered with the request id', async () => {
    const r = await relayWith({ PETREL_IP_DEPOSITS_PER_SEC: '1', PETREL_IP_DEPOSIT_BURST: '3' });
    const bob = newIdentity();
    const a = await client(r.url);
    const b = await client(r.url);
    for (let i = 0; i < 2; i++) a.send({ t: 'send', rid: i, env: randomEnvelope(bob.mailbox) });
    for (let i = 2; i < 5; i++) b.send({ t: 'send', rid: i, env: randomEnvelope(bob.mailbox) });
    const replies = [await a.reply(0), await a.reply(1), await b.reply(2), await b.reply(3), await b.reply(4)];
    expect(replies.filter((x) => x.t === 'sent')).toHaveLength(3);
    expect(replies.filter((x) => x.t === 'error' && x.code === 'rate_limited')).toHaveLength(2);
  });

  it('per-IP bundle-fetch budget', async () => {
    const r = await relayWith({ PETREL_IP_FETCHES_PER_SEC: '1', PETREL_IP_FETCH_BURST: '2' });
    const c = await client(r.url);
    const ik = newIdentity().ik;
    for (let i = 0; i < 4; i++) c.send({ t: 'prekeys.fetch', rid: i, ik });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push(((await c.reply(i)) as { code?: string }).code);
    expect(codes).toEqual(['not_found', 'not_found', 'rate_limited', 'rate_limited']);
  });

  it('asks the injected rate-limit store (a shared store could answer) and closes it on shutdown', async () => {
    const asked: string[] = [];
    let closed = false;
    const store: RateLimitStore = {
      take: async (key) => {
        asked.push(key);
        return !key.endsWith(':deposit');
      },
      localEntries: () => 0,
      close: async () => void (closed = true),
    };
    const r = await startTestRelay({}, undefined, {}, { rateLimits: store });
    const c = await TestClient.connect(r.url);
    c.send({ t: 'send', rid: 1, env: randomEnvelope(newIdentity().mailbox) });
    expect(await c.reply(1)).toMatchObject({ t: 'error', code: 'rate_limited' });
    c.send({ t: 'prekeys.fetch', rid: 2, ik: newIdentity().ik });
    expect(await c.reply(2)).toMatchObject({ t: 'error', code: 'not_found' });
    expect(asked).toEqual(['ip:127.0.0.1:deposit', 'ip:127.0.0.1:fetch']);
    c.terminate();
    await r.stop();
    expect(closed).toBe(true);
  });

  it('stores a connection\'s deposits in arrival order even when their budget checks finish out of order', async () => {
    // A shared store's round trip can stall (Redis restarting) for one frame while later
    // frames are answered at once. The first frames' checks are held until the last one has
    // been answered; the mailbox must still hold the envelopes in the order they were sent.
    let releaseHeld!: () => void;
    const held = new Promise<void>((resolve) => (releaseHeld = resolve));
    let deposits = 0;
    const store: RateLimitStore = {
      take: async (key) => {
        if (!key.endsWith(':deposit')) return true;
        deposits++;
        if (deposits <= 3) await held;
        else if (deposits === 8) setImmediate(releaseHeld);
        return true;
      },
      localEntries: () => 0,
      close: async () => {},
    };
    const r = await startTestRelay({}, undefined, {}, { rateLimits: store });
    relays.push(r);
    const bob = newIdentity();
    const sender = await client(r.url);
    const envs = Array.from({ length: 8 }, () => randomEnvelope(bob.mailbox));
    envs.forEach((env, i) => sender.send({ t: 'send', rid: i, env }));
    for (let i = 0; i < envs.length; i++) expect((await sender.reply(i)).t).toBe('sent');
    const reader = await client(r.url);
    await reader.auth(bob);
    const got: string[] = [];
    for (let i = 0; i < envs.length; i++) {
      const d = await reader.next('deliver');
      got.push(Buffer.from(d.env.id).toString('hex'));
      reader.send({ t: 'ack', ids: [d.env.id] });
    }
    expect(got).toEqual(envs.map((e) => Buffer.from(e.id).toString('hex')));
  });

  it('caps connections per IP (429) and in total (503)', async () => {
    const r = await relayWith({ PETREL_MAX_CONNECTIONS_PER_IP: '3' });
    for (let i = 0; i < 3; i++) await client(r.url);
    await expect(TestClient.connect(r.url)).rejects.toThrow(/429/);
    const r2 = await relayWith({ PETREL_MAX_CONNECTIONS: '2' });
    for (let i = 0; i < 2; i++) await client(r2.url);
    await expect(TestClient.connect(r2.url)).rejects.toThrow(/503/);
    // A slot frees when a connection closes.
    const c = clients.at(-1)!;
    c.close();
    await c.waitClosed();
    await expect(r2.relay.metrics.connections.get()).resolves.toMatchObject({ values: [{ value: 1 }] });
    await client(r2.url);
    expect(await metric(r2, /petrel_upgrades_total\{result="capacity"\} (\d+)/)).toBe(1);
  });

  it('accepts upgrades only from the relay\'s own origin by default', async () => {
    const r = await relayWith();
    const own = new URL(r.http).origin;
    await expect(TestClient.connect(r.url, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
    await client(r.url, { origin: own });
    await client(r.url); // non-browser clients send no Origin
  });

  it('accepts exactly the configured PETREL_ALLOWED_ORIGINS', async () => {
    const r = await relayWith({ PETREL_ALLOWED_ORIGINS: 'https://chat.example.org, https://petrel.example' });
    await client(r.url, { origin: 'https://chat.example.org' });
    await client(r.url, { origin: 'https://petrel.example' });
    await expect(TestClient.connect(r.url, { origin: new URL(r.http).origin })).rejects.toThrow(/403/);
  });

  it('refuses oversized, text, unknown-type and wrong-version frames with their codes, and keeps serving', async () => {
    const r = await relayWith();
    const c = await client(r.url);
    await c.next('challenge');
    c.sendRaw(new Uint8Array(MAX_FRAME_BYTES + 10));
    expect(await c.next('error')).toMatchObject({ code: 'too_large' });
    c.sendRaw('hello');
    expect(await c.next('error')).toMatchObject({ code: 'malformed' });
    c.sendRaw(rawCbor({ t: 'teleport', v: 1 }));
    expect(await c.next('error')).toMatchObject({ code: 'unknown_type' });
    c.sendRaw(rawCbor({ t: 'ping', v: 7, rid: 1 }));
    expect(await c.next('error')).toMatchObject({ code: 'unsupported_version' });
    c.send({ t: 'deliver', env: randomEnvelope(new Uint8Array(32)) });
    expect(await c.next('error')).toMatchObject({ code: 'unknown_type' });
    c.send({ t: 'ping', rid: 5 });
    expect(await c.reply(5)).toEqual({ t: 'pong', rid: 5 });
    expect(await metric(r, /petrel_rejected_frames_total\{reason="too_large"\} (\d+)/)).toBe(1);
    expect(await metric(r, /petrel_errors_sent_total\{code="unknown_type"\} (\d+)/)).toBe(2);
  });

  it('closes a connection whose frame exceeds ws maxPayload (1009, the typed refusal) and counts it', async () => {
    const r = await relayWith();
    const c = await client(r.url);
    c.sendRaw(new Uint8Array(WS_MAX_PAYLOAD + 1));
    expect(await c.waitClosed()).toBe(1009);
    expect(await waitFor(() => metric(r, closedTotal('too_large')), (n) => n > 0, 'close counted')).toBe(1);
    expect(await metric(r, /petrel_rejected_frames_total\{reason="over_max_payload"\} (\d+)/)).toBe(1);
  });

  it('closes a connection that breaks the WebSocket framing (1002) and counts it', async () => {
    const r = await relayWith();
    const c = await client(r.url);
    await c.next('challenge');
    // A client frame without the mask RFC 6455 §5.1 requires: FIN+binary, length 1, unmasked.
    (c.ws as unknown as { _socket: NodeJS.WritableStream })._socket.write(Buffer.from([0x82, 0x01, 0x00]));
    expect(await c.waitClosed()).toBe(1002);
    expect(await waitFor(() => metric(r, closedTotal('protocol_error')), (n) => n > 0, 'close counted')).toBe(1);
    expect(await metric(r, /petrel_rejected_frames_total\{reason="ws_protocol"\} (\d+)/)).toBe(1);
  });

  it('answers every refused frame, says so before closing after too many (1008), and counts the close', async () => {
    const r = await relayWith();
    const c = await client(r.url);
    await c.next('challenge');
    for (let i = 0; i < 60; i++) c.sendRaw(new Uint8Array([0xff, i]));
    expect(await c.waitClosed()).toBe(1008);
    const errors = c.frames.filter((f) => f.t === 'error');
    expect(errors).toHaveLength(MAX_STRIKES + 1);
    expect(errors.every((e) => e.code === 'malformed')).toBe(true);
    expect(errors.at(-1)!.msg).toMatch(/closing after 50 refused frames/);
    expect(await waitFor(() => metric(r, closedTotal('refused_frames')), (n) => n > 0, 'close counted')).toBe(1);
  });

  it('drops a connection that stops answering heartbeat pings', async () => {
    const r = await relayWith({ PETREL_HEARTBEAT_SEC: '1' });
    const dead = await client(r.url, { autoPong: false });
    const live = await client(r.url);
    expect(await dead.waitClosed(5000)).toBe(1006);
    expect(live.closeCode).toBeUndefined();
    expect(await metric(r, /petrel_heartbeat_timeouts_total (\d+)/)).toBeGreaterThanOrEqual(1);
    expect(await waitFor(() => metric(r, closedTotal('heartbeat_timeout')), (n) => n > 0, 'close counted')).toBe(1);
  });
});

describe('relay backpressure', () => {
  it('stops pushing to a recipient that does not read, keeps the envelopes, and delivers them all once it reads again', async () => {
    const r = await relayWith({ PETREL_MAILBOX_MAX_BYTES: String(64 * 1024 * 1024) });
    const bob = newIdentity();
    const b = await client(r.url);
    await b.auth(bob);
    b.ws.pause();
    const sender = await client(r.url);
    const n = 120;
    for (let i = 0; i < n; i++) sender.send({ t: 'send', rid: i, env: randomEnvelope(bob.mailbox, 100 * 1024) });
    for (let i = 0; i < n; i++) expect((await sender.reply(i, 15_000)).t).toBe('sent');
    // 12 MB deposited and durable; the relay stopped pushing once bob's socket backed up.
    const delivered = await metric(r, /petrel_deliveries_total (\d+)/);
    expect(delivered).toBeLessThan(n);
    b.ws.resume();
    await b.until(() => (b.frames.filter((f) => f.t === 'deliver').length === n ? true : undefined), `${n} deliveries`, 20_000);
    expect(await metric(r, /petrel_deliveries_total (\d+)/)).toBe(n);
  });

  it('stops reading a sender with 64 deposits waiting for the disk, and reads it again once they commit', async () => {
    const r = await relayWith();
    const bob = newIdentity();
    const calm = await client(r.url);
    for (let i = 0; i < 10; i++) calm.send({ t: 'send', rid: i, env: randomEnvelope(bob.mailbox, 32) });
    for (let i = 0; i < 10; i++) expect((await calm.reply(i)).t).toBe('sent');
    expect(await metric(r, /petrel_paused_reads_total (\d+)/)).toBe(0);

    // 300 small frames arrive in one read: far more than 64 are accepted before the first group commit.
    const eager = await client(r.url);
    await eager.next('challenge');
    const n = 300;
    for (let i = 0; i < n; i++) eager.send({ t: 'send', rid: i, env: randomEnvelope(bob.mailbox, 32) });
    for (let i = 0; i < n; i++) expect((await eager.reply(i, 15_000)).t).toBe('sent');
    expect(await metric(r, /petrel_paused_reads_total (\d+)/)).toBeGreaterThanOrEqual(1);
    // Reading resumed: the connection still answers.
    eager.send({ t: 'ping', rid: n });
    expect(await eager.reply(n)).toEqual({ t: 'pong', rid: n });
  });

  it('drops a signal to a recipient over its send-buffer mark (sender told nothing), without pausing the sender', async () => {
    const r = await relayWith({ PETREL_MAILBOX_MAX_BYTES: String(64 * 1024 * 1024) });
    const bob = newIdentity();
    const b = await client(r.url);
    await b.auth(bob);
    b.ws.pause();
    const sender = await client(r.url);
    const n = 120;
    for (let i = 0; i < n; i++) sender.send({ t: 'send', rid: i, env: randomEnvelope(bob.mailbox, 100 * 1024) });
    for (let i = 0; i < n; i++) expect((await sender.reply(i, 15_000)).t).toBe('sent');
    // Bob's pump stopped at the high-water mark (12 MB deposited is more than the socket buffers take).
    expect(await metric(r, /petrel_deliveries_total (\d+)/)).toBeLessThan(n);
    const pausedBefore = await metric(r, /petrel_paused_reads_total (\d+)/);

    sender.send({ t: 'signal', to: bob.mailbox, blob: new Uint8Array(64) });
    sender.send({ t: 'ping', rid: 999 });
    expect(await sender.reply(999)).toEqual({ t: 'pong', rid: 999 });
    expect(sender.frames.filter((f) => f.t === 'error')).toEqual([]);
    expect(await metric(r, /petrel_signals_total\{result="overloaded"\} (\d+)/)).toBe(1);
    expect(await metric(r, /petrel_paused_reads_total (\d+)/)).toBe(pausedBefore);
    b.ws.resume();
    await b.until(() => (b.frames.filter((f) => f.t === 'deliver').length === n ? true : undefined), `${n} deliveries`, 20_000);
  });

  it('closes a slow consumer whose unsent output exceeds the bound; its envelopes stay queued', async () => {
    const r = await startTestRelay({ PETREL_MAILBOX_MAX_BYTES: String(64 * 1024 * 1024) }, undefined, { maxBufferedBytes: 64 * 1024 });
    relays.push(r);
    const bob = newIdentity();
    const b = await client(r.url);
    await b.auth(bob);
    b.ws.pause();
    const sender = await client(r.url);
    const n = 100;
    for (let i = 0; i < n; i++) sender.send({ t: 'send', rid: i, env: randomEnvelope(bob.mailbox, 100 * 1024) });
    for (let i = 0; i < n; i++) await sender.reply(i, 15_000);
    const closedSlow = await waitFor(() => metric(r, /petrel_slow_consumers_closed_total (\d+)/), (v) => v > 0, 'slow consumer closed');
    expect(closedSlow).toBe(1);
    expect(await waitFor(() => metric(r, closedTotal('slow_consumer')), (n) => n > 0, 'close counted')).toBe(1);
    const again = await client(r.url);
    expect((await again.auth(bob)).queued).toBe(n);
  });
});
