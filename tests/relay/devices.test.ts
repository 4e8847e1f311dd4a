/**
 * Linked devices at the real relay, on both stores: embedded SQLite (one relay) and
 * PostgreSQL + Redis (two nodes, so notifications and unlinking cross nodes). Every
 * refusal of a device list and of a device's authentication, and unlinking.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/relay/storage/sqlite-database.ts';
import { MAX_DEVICES, deviceListSignaturePayload, encodeDeviceListBody, mailboxAddress, type RelayFrame, type SignedDeviceList } from '../../src/core/wire/index.ts';
import { authDevice, newDevice, publishList, rid, signedList, type TestDevice } from './helpers/devices.ts';
import { newIdentity, randomEnvelope, signedBundle, type TestIdentity } from './helpers/identity.ts';
import { startTestCluster, type TestCluster } from './helpers/cluster-harness.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';
import { waitFor } from './helpers/wait-for.ts';
import { MAX_WATCHED_PER_CONNECTION } from '../../src/relay/ws/handlers/devices.ts';

interface Backend {
  /** Where clients connect: two entries for a cluster (different nodes), the same relay twice otherwise. */
  readonly a: TestRelay;
  readonly b: TestRelay;
  /** Rows of `table` whose `column` is `value`, read straight from the store. */
  rows(table: string, column: string, value: Uint8Array): Promise<number>;
  stop(): Promise<void>;
}

const backends: Array<[string, () => Promise<Backend>]> = [
  [
    'SQLite',
    async () => {
      const relay = await startTestRelay();
      const db = new Database(join(relay.dataDir, DATABASE_FILE), { readonly: true });
      return {
        a: relay,
        b: relay,
        rows: async (table, column, value) => (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).get(value) as { n: number }).n,
        stop: async () => {
          db.close();
          await relay.stop();
        },
      };
    },
  ],
  [
    'PostgreSQL cluster',
    async () => {
      const cluster: TestCluster = await startTestCluster(2);
      return {
        a: cluster.nodes[0]!,
        b: cluster.nodes[1]!,
        rows: async (table, column, value) =>
          Number((await cluster.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${column} = $1`, [Buffer.from(value)])).rows[0]!.n),
        stop: () => cluster.stop(),
      };
    },
  ],
];

function expectError(f: RelayFrame, code: string): void {
  expect(f.t).toBe('error');
  expect(f.t === 'error' && f.code).toBe(code);
}

/** A counter's value on one node (`label` undefined: a counter without labels). */
async function metric(relay: TestRelay, name: string, label?: string): Promise<number> {
  const text = await (await fetch(`${relay.http}/metrics`)).text();
  const m = text.match(new RegExp(label === undefined ? `\n${name} (\\d+)` : `${name}\\{result="${label}"\\} (\\d+)`));
  return Number(m?.[1] ?? 0);
}

async function stateEntries(relay: TestRelay, map: string): Promise<number> {
  const text = await (await fetch(`${relay.http}/metrics`)).text();
  return Number(text.match(new RegExp(`petrel_relay_state_entries\\{map="${map}"\\} (\\d+)`))?.[1] ?? -1);
}

describe.each(backends)('linked devices on %s', (_name, start) => {
  let be: Backend;
  beforeAll(async () => {
    be = await start();
  }, 60_000);
  afterAll(async () => {
    await be.stop();
  });

  /** An account with `n` devices and its list (version 1) published from a connection authenticated by IK. */
  async function account(n: number): Promise<{ ada: TestIdentity; devices: TestDevice[]; owner: TestClient; list: SignedDeviceList }> {
    const ada = newIdentity();
    const devices = Array.from({ length: n }, () => newDevice(ada));
    const owner = await TestClient.authenticated(be.a.url, ada);
    const list = signedList(ada, 1, devices.map((d) => d.entry));
    const reply = await publishList(owner, list);
    expect(reply).toMatchObject({ t: 'devices.published', version: 1 });
    await owner.next('devices.changed', (f) => f.version === 1);
    return { ada, devices, owner, list };
  }

  async function fetchList(c: TestClient, ik: Uint8Array): Promise<RelayFrame> {
    const r = rid();
    c.send({ t: 'devices.fetch', rid: r, ik });
    return c.reply(r);
  }

  it('keeps a single-device account as it was: no list, `auth` by IK on mailboxAddress(IK)', async () => {
    const bo = newIdentity();
    const c = await TestClient.connect(be.a.url);
    expect((await c.auth(bo)).mailbox).toEqual(mailboxAddress(bo.ik));
    const r = rid();
    c.send({ t: 'devices.fetch', rid: r, ik: bo.ik });
    expectError(await c.reply(r), 'not_found');
    c.close();
  });

  it('stores a signed list and hands out its exact bytes; each device authenticates on its own mailbox', async () => {
    const { devices, owner, list, ada } = await account(2);
    const reader = await TestClient.connect(be.b.url);
    expect(await fetchList(reader, ada.ik)).toMatchObject({ t: 'devices.list', list });
    for (const [i, d] of devices.entries()) {
      const c = await TestClient.connect(i === 0 ? be.a.url : be.b.url);
      const ready = await authDevice(c, d);
      expect(ready).toMatchObject({ t: 'ready', mailbox: d.mailbox });
      // A deposit to this device's mailbox reaches this device.
      const env = randomEnvelope(d.mailbox);
      const sender = await TestClient.connect(be.a.url);
      sender.send({ t: 'send', rid: 1, env });
      expect((await c.next('deliver')).env.id).toEqual(env.id);
      sender.close();
      c.close();
    }
    owner.close();
    reader.close();
  });

  it('keeps prekeys per device: each device publishes its own bundle, fetched with `dev`', async () => {
    const { ada, devices, owner } = await account(2);
    const [d1, d2] = devices as [TestDevice, TestDevice];
    const c1 = await TestClient.connect(be.a.url);
    await authDevice(c1, d1);
    const bundle = signedBundle(ada, 3, 3);
    c1.send({ t: 'prekeys.publish', rid: 5, bundle });
    expect(await c1.reply(5)).toMatchObject({ t: 'prekeys.published', opks: 3, pqopks: 3 });
    const fetcher = await TestClient.connect(be.b.url);
    fetcher.send({ t: 'prekeys.fetch', rid: 6, ik: ada.ik, dev: d1.id });
    const got = await fetcher.reply(6);
    expect(got.t).toBe('prekeys.bundle');
    if (got.t === 'prekeys.bundle') {
      expect(got.bundle.ik).toEqual(ada.ik);
      expect(got.bundle.spk.pub).toEqual(bundle.spk.pub);
      expect(got.bundle.opk?.id).toBe(1);
    }
    // The other device published nothing, and the account (no `dev`) has no bundle of its own.
    fetcher.send({ t: 'prekeys.fetch', rid: 7, ik: ada.ik, dev: d2.id });
    expectError(await fetcher.reply(7), 'not_found');
    fetcher.send({ t: 'prekeys.fetch', rid: 8, ik: ada.ik });
    expectError(await fetcher.reply(8), 'not_found');
    for (const c of [c1, fetcher, owner]) c.close();
  });

  it('refuses every bad device list, counts it, and changes nothing', async () => {
    const { ada, devices, owner, list } = await account(1);
    const mallory = newIdentity();
    const more = (n: number) => Array.from({ length: n }, () => newDevice(ada).entry);
    const body = encodeDeviceListBody({ account: ada.ik, version: 2, issuedAt: 1, devices: more(2) });
    const cases: Array<[string, Parameters<typeof publishList>[1], string]> = [
      ['foreign_account', signedList(mallory, 5, more(1)), 'bad_signature'],
      ['bad_signature', signedList(ada, 5, more(1), mallory), 'bad_signature'],
      ['bad_signature', { body, sig: ada.sign(deviceListSignaturePayload(body)).map((b, i) => (i === 0 ? b ^ 1 : b)) }, 'bad_signature'],
      ['stale', signedList(ada, 1, more(1)), 'stale'],
      ['stale', signedList(ada, 0, more(1)), 'stale'],
      ['too_many_devices', signedList(ada, 5, more(MAX_DEVICES + 1)), 'too_many_devices'],
      ['duplicate_device', signedList(ada, 5, [devices[0]!.entry, devices[0]!.entry]), 'malformed'],
      ['malformed', { body: new Uint8Array([0xa0]), sig: ada.sign(deviceListSignaturePayload(new Uint8Array([0xa0]))) }, 'malformed'],
    ];
    for (const [result, list, code] of cases) {
      const before = await metric(be.a, 'petrel_device_list_publishes_total', result);
      expectError(await publishList(owner, list), code);
      expect(await metric(be.a, 'petrel_device_list_publishes_total', result)).toBe(before + 1);
    }
    // An unauthenticated connection may not publish at all.
    const stranger = await TestClient.connect(be.a.url);
    expectError(await publishList(stranger, signedList(ada, 9, more(1))), 'unauthenticated');
    // Still version 1 with the one device: its authentication works.
    const c = await TestClient.connect(be.b.url);
    expect(await authDevice(c, devices[0]!)).toMatchObject({ t: 'ready' });
    expect(await fetchList(c, ada.ik)).toMatchObject({ t: 'devices.list', list });
    expect(owner.frames.some((f) => f.t === 'devices.changed')).toBe(false);
    for (const x of [c, stranger, owner]) x.close();
  });

  it('lets any device link another and unlink itself (no primary device)', async () => {
    const { ada, devices, owner } = await account(1);
    const first = devices[0]!;
    const c = await TestClient.connect(be.b.url);
    await authDevice(c, first);
    const second = newDevice(ada);
    expect(await publishList(c, signedList(ada, 2, [first.entry, second.entry]))).toMatchObject({ t: 'devices.published', version: 2 });
    const c2 = await TestClient.connect(be.a.url);
    expect(await authDevice(c2, second)).toMatchObject({ t: 'ready', mailbox: second.mailbox });
    // The first device unlinks itself from its own connection: it is closed, the second stays.
    expect(await publishList(c, signedList(ada, 3, [second.entry]))).toMatchObject({ t: 'devices.published', version: 3 });
    expect(await c.waitClosed()).toBe(1008);
    expect(await c2.next('devices.changed', (f) => f.version === 3)).toMatchObject({ ik: ada.ik });
    expect(c2.closeCode).toBeUndefined();
    for (const x of [c2, owner]) x.close();
  });

  it('forgets every watch once the connections are gone (no leak)', async () => {
    const c = await TestClient.authenticated(be.a.url, newIdentity());
    c.send({ t: 'devices.watch', rid: 1, iks: [newIdentity().ik, newIdentity().ik] });
    expect(await c.reply(1)).toMatchObject({ t: 'devices.watching', count: 3 });
    expect(await stateEntries(be.a, 'device_watches')).toBeGreaterThanOrEqual(3);
    c.close();
    await c.waitClosed();
    for (const node of [be.a, be.b]) await waitFor(() => stateEntries(node, 'device_watches'), (n) => n === 0, 'device_watches back to 0');
  });

  it('lets a connection watch at most MAX_WATCHED_PER_CONNECTION accounts', async () => {
    const c = await TestClient.connect(be.a.url);
    const batch = () => Array.from({ length: 256 }, () => newIdentity().ik);
    for (let i = 0; i < MAX_WATCHED_PER_CONNECTION / 256; i++) {
      c.send({ t: 'devices.watch', rid: 100 + i, iks: batch() });
      expect(await c.reply(100 + i)).toMatchObject({ t: 'devices.watching', count: 256 * (i + 1) });
    }
    c.send({ t: 'devices.watch', rid: 99, iks: [newIdentity().ik] });
    expectError(await c.reply(99), 'rate_limited');
    c.close();
  });

  it('stores exactly one of two lists racing for the same version', async () => {
    const { ada, owner } = await account(1);
    const other = await TestClient.authenticated(be.b.url, ada);
    const replies = await Promise.all([publishList(owner, signedList(ada, 2, [newDevice(ada).entry])), publishList(other, signedList(ada, 2, [newDevice(ada).entry]))]);
    expect(replies.map((r) => r.t).sort()).toEqual(['devices.published', 'error']);
    owner.close();
    other.close();
  });

  it('refuses a device whose certificate, answer or listing is wrong, closing its connection', async () => {
    const { ada, devices } = await account(1);
    const mallory = newIdentity();
    const unlisted = newDevice(ada);
    const forged = newDevice(ada, mallory);
    const noList = newDevice(newIdentity());
    const cases: Array<[TestDevice, { sig?: Uint8Array }, string]> = [
      [unlisted, {}, 'device_not_listed'],
      [forged, {}, 'bad_certificate'],
      [devices[0]!, { sig: new Uint8Array(64) }, 'bad_signature'],
      [noList, {}, 'device_not_listed'],
    ];
    for (const [device, opts, result] of cases) {
      const before = await metric(be.a, 'petrel_authentications_total', result);
      const c = await TestClient.connect(be.a.url);
      // A device its account does not list is told it is unlinked (it stops trying); the rest is a failed authentication.
      expectError(await authDevice(c, device, opts), result === 'device_not_listed' ? 'device_unlinked' : 'auth_failed');
      expect(await c.waitClosed()).toBe(1008);
      expect(await metric(be.a, 'petrel_authentications_total', result)).toBe(before + 1);
    }
  });

  it('refuses a deposit fanned out under an older device list with `stale_devices` and the current list; stores nothing', async () => {
    const { ada, devices, owner, list } = await account(2);
    const [one] = devices as [TestDevice, TestDevice];
    const sender = await TestClient.connect(be.a.url);
    const before = await metric(be.a, 'petrel_deposits_total', 'stale_devices');
    // Composed while the account had no list (v 0), for its account mailbox; and for a device under version 0.
    for (const to of [mailboxAddress(ada.ik), one.mailbox]) {
      const env = randomEnvelope(to);
      const r = rid();
      sender.send({ t: 'send', rid: r, env, dl: { ik: ada.ik, v: 0 } });
      const refused = await sender.reply(r);
      expectError(refused, 'stale_devices');
      expect(refused.t === 'error' && refused.list).toEqual(list);
      expect(await be.rows('envelopes', 'mailbox', to)).toBe(0);
    }
    expect(await metric(be.a, 'petrel_deposits_total', 'stale_devices')).toBe(before + 2);
    // Under the current version (or without `dl`, or for an account without a list) it is stored.
    const r1 = rid();
    sender.send({ t: 'send', rid: r1, env: randomEnvelope(one.mailbox), dl: { ik: ada.ik, v: 1 } });
    expect((await sender.reply(r1)).t).toBe('sent');
    const r2 = rid();
    sender.send({ t: 'send', rid: r2, env: randomEnvelope(one.mailbox) });
    expect((await sender.reply(r2)).t).toBe('sent');
    const single = newIdentity();
    const r3 = rid();
    sender.send({ t: 'send', rid: r3, env: randomEnvelope(mailboxAddress(single.ik)), dl: { ik: single.ik, v: 0 } });
    expect((await sender.reply(r3)).t).toBe('sent');
    for (const c of [owner, sender]) c.close();
  });

  it('unlinks: a newer list without a device closes its mailbox, deletes its keys, refuses it, and tells the watchers', async () => {
    const { ada, devices, owner } = await account(2);
    const [keep, gone] = devices as [TestDevice, TestDevice];
    // The device to unlink is online on the other node, with a bundle and mail waiting.
    const goneConn = await TestClient.connect(be.b.url);
    await authDevice(goneConn, gone);
    goneConn.send({ t: 'prekeys.publish', rid: 1, bundle: signedBundle(ada, 2, 2) });
    expect((await goneConn.reply(1)).t).toBe('prekeys.published');
    const sender = await TestClient.connect(be.a.url);
    const waiting = randomEnvelope(gone.mailbox);
    goneConn.terminate(); // offline, so the envelope waits
    sender.send({ t: 'send', rid: 2, env: waiting });
    expect((await sender.reply(2)).t).toBe('sent');
    const goneAgain = await TestClient.connect(be.b.url);
    expect(await authDevice(goneAgain, gone)).toMatchObject({ t: 'ready', queued: 1 });
    // A contact watches ada's list from the other node.
    const bo = await TestClient.authenticated(be.b.url, newIdentity());
    bo.send({ t: 'devices.watch', rid: 3, iks: [ada.ik] });
    expect(await bo.reply(3)).toMatchObject({ t: 'devices.watching', count: 2 });

    const unlinkedBefore = await metric(be.a, 'petrel_devices_unlinked_total');
    expect(await publishList(owner, signedList(ada, 2, [keep.entry]))).toMatchObject({ t: 'devices.published', version: 2 });

    // The unlinked device is told and closed; the watcher is told.
    expect(await goneAgain.waitClosed()).toBe(1008);
    expect(goneAgain.frames.some((f) => f.t === 'devices.changed' && f.version === 2)).toBe(true);
    expect(await bo.next('devices.changed')).toMatchObject({ ik: ada.ik, version: 2 });
    expect(await owner.next('devices.changed')).toMatchObject({ version: 2 });
    expect(await metric(be.a, 'petrel_devices_unlinked_total')).toBe(unlinkedBefore + 1);
    // Its authentication, deposits to it and its bundle are refused from now on.
    const retry = await TestClient.connect(be.a.url);
    expectError(await authDevice(retry, gone), 'device_unlinked');
    sender.send({ t: 'send', rid: 4, env: randomEnvelope(gone.mailbox) });
    expectError(await sender.reply(4), 'device_unlinked');
    sender.send({ t: 'prekeys.fetch', rid: 5, ik: ada.ik, dev: gone.id });
    expectError(await sender.reply(5), 'device_unlinked');
    // What waited for it and its prekeys were deleted in the same transaction.
    expect(await be.rows('envelopes', 'mailbox', gone.mailbox)).toBe(0);
    expect(await be.rows('prekey_identities', 'ik', gone.mailbox)).toBe(0);
    expect(await be.rows('one_time_prekeys', 'ik', gone.mailbox)).toBe(0);
    expect(await be.rows('closed_mailboxes', 'mailbox', gone.mailbox)).toBe(1);
    // The device that stays works as before.
    const keepConn = await TestClient.connect(be.b.url);
    expect(await authDevice(keepConn, keep)).toMatchObject({ t: 'ready' });
    const env = randomEnvelope(keep.mailbox);
    sender.send({ t: 'send', rid: 6, env });
    expect((await keepConn.next('deliver')).env.id).toEqual(env.id);
    for (const c of [owner, sender, bo, keepConn]) c.close();
  });
});
