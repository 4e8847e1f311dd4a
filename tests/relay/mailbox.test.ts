import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({ PETREL_MAILBOX_MAX_ENVELOPES: '20', PETREL_MAILBOX_MAX_BYTES: String(256 * 1024) });
});
afterAll(async () => {
  await relay.stop();
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('relay mailbox: store and forward', () => {
  it('answers sent only with the envelope id, and delivers the backlog in deposit order on connect', async () => {
    const bob = newIdentity();
    const sender = await TestClient.connect(relay.url);
    const envs = Array.from({ length: 10 }, () => randomEnvelope(bob.mailbox, 100));
    envs.forEach((env, i) => sender.send({ t: 'send', rid: 100 + i, env }));
    for (let i = 0; i < envs.length; i++) expect(await sender.reply(100 + i)).toEqual({ t: 'sent', rid: 100 + i, id: envs[i]!.id });

    const c = await TestClient.connect(relay.url);
    const ready = await c.auth(bob);
    expect(ready.queued).toBe(10);
    const got: string[] = [];
    for (let i = 0; i < envs.length; i++) {
      const d = await c.next('deliver');
      expect(d.env.body).toEqual(envs[i]!.body);
      got.push(hex(d.env.id));
    }
    expect(got).toEqual(envs.map((e) => hex(e.id)));
    sender.close();
    c.close();
  });

  it('pushes a new envelope at once to a connected recipient', async () => {
    const bob = newIdentity();
    const c = await TestClient.authenticated(relay.url, bob);
    const sender = await TestClient.connect(relay.url);
    const env = randomEnvelope(bob.mailbox);
    sender.send({ t: 'send', rid: 1, env });
    const d = await c.next('deliver');
    expect(d.env).toEqual(env);
    sender.close();
    c.close();
  });

  it('redelivers unacknowledged envelopes after a reconnect and never the acknowledged ones', async () => {
    const bob = newIdentity();
    const sender = await TestClient.connect(relay.url);
    const envs = Array.from({ length: 4 }, () => randomEnvelope(bob.mailbox));
    envs.forEach((env, i) => sender.send({ t: 'send', rid: i, env }));
    for (let i = 0; i < envs.length; i++) await sender.reply(i);

    const first = await TestClient.authenticated(relay.url, bob);
    for (let i = 0; i < 4; i++) await first.next('deliver');
    first.send({ t: 'ack', ids: [envs[0]!.id, envs[2]!.id] });
    // A ping answered after the ack means the ack was processed (frames are handled in order).
    first.send({ t: 'ping', rid: 9 });
    await first.reply(9);
    first.close();
    await first.waitClosed();

    const second = await TestClient.connect(relay.url);
    expect((await second.auth(bob)).queued).toBe(2);
    const redelivered = [await second.next('deliver'), await second.next('deliver')].map((d) => hex(d.env.id));
    expect(redelivered).toEqual([hex(envs[1]!.id), hex(envs[3]!.id)]);
    second.send({ t: 'ack', ids: [envs[1]!.id, envs[3]!.id] });
    second.send({ t: 'ping', rid: 10 });
    await second.reply(10);
    second.close();

    const third = await TestClient.connect(relay.url);
    expect((await third.auth(bob)).queued).toBe(0);
    third.send({ t: 'ping', rid: 11 });
    await third.reply(11);
    expect(third.frames.filter((f) => f.t === 'deliver')).toHaveLength(0);
    third.close();
    sender.close();
  });

  it('acks delete only from the acknowledging owner\'s mailbox', async () => {
    const bob = newIdentity();
    const carol = newIdentity();
    const sender = await TestClient.connect(relay.url);
    const env = randomEnvelope(bob.mailbox);
    sender.send({ t: 'send', rid: 1, env });
    await sender.reply(1);
    const c = await TestClient.authenticated(relay.url, carol);
    c.send({ t: 'ack', ids: [env.id] });
    c.send({ t: 'ping', rid: 2 });
    await c.reply(2);
    const b = await TestClient.connect(relay.url);
    expect((await b.auth(bob)).queued).toBe(1);
    for (const x of [sender, c, b]) x.close();
  });

  it('stores a retried envelope (same mailbox and id) once and answers sent again', async () => {
    const bob = newIdentity();
    const sender = await TestClient.connect(relay.url);
    const env = randomEnvelope(bob.mailbox);
    sender.send({ t: 'send', rid: 1, env });
    sender.send({ t: 'send', rid: 2, env });
    expect(await sender.reply(1)).toMatchObject({ t: 'sent' });
    expect(await sender.reply(2)).toMatchObject({ t: 'sent' });
    const c = await TestClient.connect(relay.url);
    expect((await c.auth(bob)).queued).toBe(1);
    sender.close();
    c.close();
  });

  it('refuses deposits beyond the per-mailbox count cap with mailbox_full', async () => {
    const bob = newIdentity();
    const sender = await TestClient.connect(relay.url);
    for (let i = 0; i < 22; i++) sender.send({ t: 'send', rid: i, env: randomEnvelope(bob.mailbox, 10) });
    const replies = [];
    for (let i = 0; i < 22; i++) replies.push(await sender.reply(i));
    expect(replies.filter((r) => r.t === 'sent')).toHaveLength(20);
    expect(replies.slice(20)).toEqual([
      { t: 'error', code: 'mailbox_full', rid: 20, msg: expect.any(String) },
      { t: 'error', code: 'mailbox_full', rid: 21, msg: expect.any(String) },
    ]);
    sender.close();
  });

  it('refuses deposits beyond the per-mailbox byte cap with mailbox_full', async () => {
    const bob = newIdentity();
    const sender = await TestClient.connect(relay.url);
    // 256 KiB cap: two 100 KiB bodies fit, the third does not.
    for (let i = 0; i < 3; i++) sender.send({ t: 'send', rid: i, env: randomEnvelope(bob.mailbox, 100 * 1024) });
    expect((await sender.reply(0)).t).toBe('sent');
    expect((await sender.reply(1)).t).toBe('sent');
    expect(await sender.reply(2)).toMatchObject({ t: 'error', code: 'mailbox_full' });
    sender.close();
  });

  it('exposes deposits, deliveries, acks and queue depth as metrics', async () => {
    const text = await (await fetch(`${relay.http}/metrics`)).text();
    expect(text).toMatch(/petrel_deposits_total\{result="stored"\} [1-9]/);
    expect(text).toMatch(/petrel_deposits_total\{result="mailbox_full"\} [1-9]/);
    expect(text).toMatch(/petrel_deliveries_total [1-9]/);
    expect(text).toMatch(/petrel_acks_total [1-9]/);
    expect(text).toMatch(/petrel_queue_depth \d+/);
    expect(text).toMatch(/petrel_request_duration_seconds_count\{type="send"\} [1-9]/);
  });
});
