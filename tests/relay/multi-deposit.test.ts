import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({ PETREL_MAILBOX_MAX_ENVELOPES: '2' });
});
afterAll(async () => {
  await relay.stop();
});

const bytes = (n: number) => new Uint8Array(randomBytes(n));

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${relay.http}/metrics`)).text();
  return Number(text.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? 0);
}

const deposits = (result: string) => metric(`petrel_deposits_total\\{result="${result}"\\}`);

describe('relay: one body for many mailboxes (send.multi)', () => {
  it('stores the body once per mailbox, delivers it to online and offline recipients, and a retry stores nothing twice', async () => {
    const [ada, bo, cy] = [newIdentity(), newIdentity(), newIdentity()];
    const online = await TestClient.authenticated(relay.url, ada);
    const sender = await TestClient.connect(relay.url);
    const id = bytes(16);
    const body = bytes(300);
    const to = [ada.mailbox, bo.mailbox, cy.mailbox];
    sender.send({ t: 'send.multi', rid: 1, id, to, body });
    expect(await sender.reply(1)).toEqual({ t: 'sent.multi', rid: 1, id, full: [], unlinked: [] });
    const live = await online.next('deliver');
    expect(live.env).toEqual({ to: ada.mailbox, id, body });

    sender.send({ t: 'send.multi', rid: 2, id, to, body });
    expect(await sender.reply(2)).toMatchObject({ t: 'sent.multi', full: [], unlinked: [] });
    for (const who of [bo, cy]) {
      const c = await TestClient.connect(relay.url);
      expect((await c.auth(who)).queued).toBe(1);
      expect((await c.next('deliver')).env).toEqual({ to: who.mailbox, id, body });
      c.close();
    }
    online.close();
    sender.close();
  });

  it('names the full mailboxes and stores the rest', async () => {
    const [full, free] = [newIdentity(), newIdentity()];
    const sender = await TestClient.connect(relay.url);
    for (let i = 0; i < 2; i++) {
      sender.send({ t: 'send', rid: 10 + i, env: randomEnvelope(full.mailbox) });
      expect((await sender.reply(10 + i)).t).toBe('sent');
    }
    const id = bytes(16);
    sender.send({ t: 'send.multi', rid: 3, id, to: [full.mailbox, free.mailbox], body: bytes(50) });
    expect(await sender.reply(3)).toEqual({ t: 'sent.multi', rid: 3, id, full: [full.mailbox], unlinked: [] });
    const c = await TestClient.connect(relay.url);
    expect((await c.auth(free)).queued).toBe(1);
    c.close();
    sender.close();
  });

  it('gives each recipient its own outcome: full, unlinked, already holding it, online, offline; counted once each', async () => {
    const [full, closed, holder, online, offline] = [newIdentity(), newIdentity(), newIdentity(), newIdentity(), newIdentity()];
    const sender = await TestClient.connect(relay.url);
    const id = bytes(16);
    const body = bytes(120);
    for (let i = 0; i < 2; i++) {
      sender.send({ t: 'send', rid: 20 + i, env: randomEnvelope(full.mailbox) });
      expect((await sender.reply(20 + i)).t).toBe('sent');
    }
    sender.send({ t: 'send', rid: 22, env: { to: holder.mailbox, id, body } });
    expect((await sender.reply(22)).t).toBe('sent');
    // What an unlink leaves: the mailbox closed (written as the relay's device store does).
    const db = new Database(join(relay.dataDir, 'relay.sqlite3'));
    db.prepare('INSERT INTO closed_mailboxes (mailbox, closed_at) VALUES (?, ?)').run(closed.mailbox, Date.now());
    db.close();
    const live = await TestClient.authenticated(relay.url, online);
    const before = await Promise.all(['stored', 'duplicate', 'mailbox_full', 'device_unlinked'].map(deposits));
    const depthBefore = await metric('petrel_queue_depth');

    const to = [full.mailbox, closed.mailbox, holder.mailbox, online.mailbox, offline.mailbox];
    sender.send({ t: 'send.multi', rid: 23, id, to, body });
    expect(await sender.reply(23)).toEqual({ t: 'sent.multi', rid: 23, id, full: [full.mailbox], unlinked: [closed.mailbox] });
    expect((await live.next('deliver')).env).toEqual({ to: online.mailbox, id, body });
    const after = await Promise.all(['stored', 'duplicate', 'mailbox_full', 'device_unlinked'].map(deposits));
    expect(after.map((n, i) => n - before[i]!)).toEqual([2, 1, 1, 1]);
    expect((await metric('petrel_queue_depth')) - depthBefore).toBe(2);
    for (const [who, queued] of [[holder, 1], [offline, 1], [full, 2]] as const) {
      const c = await TestClient.connect(relay.url);
      expect((await c.auth(who)).queued).toBe(queued);
      c.close();
    }
    live.close();
    sender.close();
  });

  it('refuses a mailbox named twice, or none, and stores nothing', async () => {
    const bo = newIdentity();
    const sender = await TestClient.connect(relay.url);
    sender.send({ t: 'send.multi', rid: 4, id: bytes(16), to: [bo.mailbox, bo.mailbox], body: bytes(10) });
    expect(await sender.reply(4)).toMatchObject({ t: 'error', code: 'malformed' });
    sender.send({ t: 'send.multi', rid: 5, id: bytes(16), to: [], body: bytes(10) });
    expect(await sender.reply(5)).toMatchObject({ t: 'error', code: 'malformed' });
    const c = await TestClient.connect(relay.url);
    expect((await c.auth(bo)).queued).toBe(0);
    c.close();
    sender.close();
  });

  it('commits 1,000 mailboxes in one transaction', async () => {
    const sender = await TestClient.connect(relay.url);
    const members = Array.from({ length: 1000 }, () => bytes(32));
    const commitsBefore = await metric('petrel_deposit_batch_size_count');
    const opsBefore = await metric('petrel_deposit_batch_size_sum');
    const id = bytes(16);
    sender.send({ t: 'send.multi', rid: 6, id, to: members, body: bytes(100) });
    expect(await sender.reply(6, 30_000)).toEqual({ t: 'sent.multi', rid: 6, id, full: [], unlinked: [] });
    expect(await metric('petrel_deposit_batch_size_count')).toBe(commitsBefore + 1);
    expect(await metric('petrel_deposit_batch_size_sum')).toBe(opsBefore + 1000);
    sender.close();
  });
});
