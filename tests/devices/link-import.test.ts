/**
 * A whole link end to end in memory: offer, request, acceptance, the new device list
 * signed, the account, contacts and a 1,000-message history packed into records, sealed,
 * opened in order and imported. And each way the import refuses: out of place, not for
 * this device, cut short, repeated, after the end — each typed, none changing the state.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.ts';
import { identity } from './fixtures.ts';
import { acceptLinkRequest, buildLinkRequest, createLinkOffer, formatLink, parseLink } from '../../src/core/devices/link-offer.ts';
import { LinkReceiver, LinkSender } from '../../src/core/devices/link-transfer.ts';
import { LinkImport, type LinkImportStep } from '../../src/core/devices/link-import.ts';
import { encodeGroupFrame } from '../../src/core/wire/group-content.ts';
import { LinkError, LinkTransferFinishedError, LinkTransferInvalidError } from '../../src/core/devices/link-errors.ts';
import { signDeviceList, withDeviceAdded } from '../../src/core/devices/device-list.ts';
import { generateDeviceKey } from '../../src/core/devices/device-key.ts';
import { createOwnDevice, ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import {
  DEVICE_ID_BYTES,
  MAX_LINK_RECORD_BYTES,
  decodeDeviceListBody,
  decodeLinkRecord,
  encodeLinkRecord,
  groupHistoryRecords,
  historyRecords,
  type LinkGroupMessage,
  type LinkMessage,
  type LinkRecord,
  WireError,
} from '../../src/core/wire/index.ts';

const T0 = 1_800_000_000_000;
const ada = identity(1);
const [bo, cy] = [identity(2), identity(3)];

function message(i: number, text = `message ${i}`): LinkMessage {
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(0, i);
  return { id, dir: i % 2 ? 'in' : 'out', text, sentAt: T0 + i, status: i % 2 ? 'read' : 'delivered' };
}

/** The existing device's records for a new device `entry`. */
function accountRecords(entry: { id: Uint8Array; key: Uint8Array }, history: readonly LinkMessage[]): LinkRecord[] {
  const existing = createOwnDevice(ada, seededRandom(5));
  const v1 = decodeDeviceListBody(signDeviceList(ada, { version: 1, issuedAt: T0, devices: [ownDeviceEntry(existing)] }).body);
  const list = signDeviceList(ada, withDeviceAdded(v1, entry, T0 + 1));
  return [
    { t: 'link.account', seed: ada.exportSeed(), name: 'Ada', list },
    { t: 'link.contacts', contacts: [{ ik: bo.publicKey, name: 'Bo', verified: true, addedAt: T0 }, { ik: cy.publicKey, name: 'Cy', verified: false, addedAt: T0 }] },
    ...historyRecords(bo.publicKey, history),
    { t: 'link.end', contacts: 2, messages: history.length },
  ];
}

function refused(fn: () => unknown): LinkError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LinkError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('a device link, end to end in memory', () => {
  it('the new device gets the account, its contacts and 1,000 messages, in order, through sealed chunks', async () => {
    const random = seededRandom(21);
    const offer = createLinkOffer(random, T0);
    const link = parseLink(formatLink(offer), T0 + 1_000);
    const key = generateDeviceKey(random);
    const me = { id: random.bytes(DEVICE_ID_BYTES), key: key.publicKey };
    const used = acceptLinkRequest(offer, buildLinkRequest(link, me), T0 + 2_000);
    const history = Array.from({ length: 1_000 }, (_, i) => message(i, i === 500 ? 'x'.repeat(16 * 1024) : `message ${i}`));
    const records = accountRecords(used.device, history);
    expect(records.length).toBeGreaterThan(4); // the history did not fit one record
    const sender = LinkSender.open(offer.secret, used.channel, used.device, random);
    const chunks = [];
    for (let i = 0; i < records.length; i++) {
      const bytes = encodeLinkRecord(records[i]!);
      expect(bytes.length).toBeLessThanOrEqual(MAX_LINK_RECORD_BYTES);
      chunks.push(await sender.seal(bytes, i === records.length - 1));
    }
    const receiver = LinkReceiver.open(link.secret, link.keys.channel, me.id, key, sender.start);
    const importer = new LinkImport(me);
    const steps: LinkImportStep[] = [];
    for (const c of chunks) steps.push(importer.accept(decodeLinkRecord(await receiver.open(c))));
    expect(receiver.state.status).toBe('complete');
    expect(importer.state).toEqual({ status: 'complete', contacts: 2, messages: 1_000 });
    const account = steps[0]!;
    expect(account.kind).toBe('account');
    if (account.kind === 'account') {
      expect(account.identity.publicKey).toEqual(ada.publicKey);
      expect(account.list.devices).toHaveLength(2);
    }
    const got = steps.flatMap((s) => (s.kind === 'messages' ? s.messages : []));
    expect(got).toEqual(history);
    expect(steps.at(-1)).toEqual({ kind: 'complete', contacts: 2, messages: 1_000 });
  });

  it('refuses records out of place, an account not for this device, a cut-short transfer, and anything after the end; nothing changes', () => {
    const me = { id: new Uint8Array(16).fill(4), key: generateDeviceKey(seededRandom(4)).publicKey };
    const records = accountRecords(me, [message(1), message(2)]);
    const [account, contacts, messages, end] = records as [LinkRecord, LinkRecord, LinkRecord, LinkRecord];
    const imp = new LinkImport(me);
    expect(refused(() => imp.accept(contacts))).toBeInstanceOf(LinkTransferInvalidError);
    expect(imp.state.status).toBe('awaiting_account');
    // An account whose list names another device (or this id with another key) is not for us.
    expect(refused(() => new LinkImport({ id: me.id, key: identity(40).publicKey }).accept(account))).toBeInstanceOf(LinkTransferInvalidError);
    expect(refused(() => new LinkImport({ id: new Uint8Array(16).fill(9), key: me.key }).accept(account))).toBeInstanceOf(LinkTransferInvalidError);
    // A list signed by someone else than the seed's identity.
    const forged = { ...(account as LinkRecord & { t: 'link.account' }), seed: identity(41).exportSeed() };
    expect(refused(() => new LinkImport(me).accept(forged))).toBeInstanceOf(LinkTransferInvalidError);
    imp.accept(account);
    expect(refused(() => imp.accept(account))).toBeInstanceOf(LinkTransferInvalidError);
    expect(refused(() => imp.accept(messages))).toBeInstanceOf(LinkTransferInvalidError); // before its contact
    imp.accept(contacts);
    expect(refused(() => imp.accept(contacts))).toBeInstanceOf(LinkTransferInvalidError); // contacts twice
    // Cut short: the end counts messages that never came.
    expect(refused(() => imp.accept(end))).toBeInstanceOf(LinkTransferInvalidError);
    expect(imp.state).toEqual({ status: 'receiving', contacts: 2, messages: 0 });
    imp.accept(messages);
    expect(imp.accept(end)).toEqual({ kind: 'complete', contacts: 2, messages: 2 });
    expect(refused(() => imp.accept(messages))).toBeInstanceOf(LinkTransferFinishedError);
  });

  it('a record that is not a link record, or too large, is a WireError or RangeError, never a half-import', () => {
    expect(() => decodeLinkRecord(new Uint8Array([0xa0]))).toThrow();
    expect(() => encodeLinkRecord({ t: 'link.messages', ik: bo.publicKey, messages: Array.from({ length: 5 }, (_, i) => message(i, 'y'.repeat(16 * 1024))) })).toThrow(RangeError);
    // historyRecords packs the same five into records that each fit.
    const packed = historyRecords(bo.publicKey, Array.from({ length: 5 }, (_, i) => message(i, 'y'.repeat(16 * 1024))));
    expect(packed.length).toBeGreaterThan(1);
    for (const r of packed) expect(encodeLinkRecord(r).length).toBeLessThanOrEqual(MAX_LINK_RECORD_BYTES);
  });

  it("the account record carries the account's settings; the import hands them over; oversized or too many settings are refused by the codec", () => {
    const deviceKey = generateDeviceKey(seededRandom(9));
    const entry = { id: new Uint8Array(DEVICE_ID_BYTES).fill(9), key: deviceKey.publicKey };
    const [account, ...rest] = accountRecords(entry, []);
    const settings = [
      { k: 'notificationContent', v: 'name_only' },
      { k: 'theme', v: 'dark' },
    ];
    const withSettings = decodeLinkRecord(encodeLinkRecord({ ...(account as Extract<LinkRecord, { t: 'link.account' }>), settings }));
    expect(withSettings).toMatchObject({ t: 'link.account', settings });
    const importer = new LinkImport(entry);
    expect(importer.accept(withSettings)).toMatchObject({ kind: 'account', settings });
    for (const r of rest) importer.accept(r);
    expect(importer.state.status).toBe('complete');
    // Without settings (an account with none set): an empty list.
    expect(new LinkImport(entry).accept(account!)).toMatchObject({ kind: 'account', settings: [] });
    // A key or value too long, or too many settings: refused whole.
    const base = account as Extract<LinkRecord, { t: 'link.account' }>;
    expect(() => encodeLinkRecord({ ...base, settings: [{ k: 'k'.repeat(65), v: 'x' }] })).toThrow(WireError);
    expect(() => encodeLinkRecord({ ...base, settings: [{ k: 'theme', v: 'x'.repeat(257) }] })).toThrow(WireError);
    expect(() => encodeLinkRecord({ ...base, settings: Array.from({ length: 33 }, (_, i) => ({ k: `k${i}`, v: 'x' })) })).toThrow(WireError);
  });

  it('a group record carries one group.log frame from our account, in order; anything else in it is refused, the state unchanged', () => {
    const me = { id: new Uint8Array(16).fill(4), key: generateDeviceKey(seededRandom(4)).publicKey };
    const [account, contacts] = accountRecords(me, []) as [LinkRecord, LinkRecord];
    const group = new Uint8Array(16).fill(7);
    const log = encodeGroupFrame({ t: 'group.log', group, changes: [], names: [{ ik: ada.publicKey, name: 'Ada' }] });
    const imp = new LinkImport(me);
    expect(refused(() => imp.accept({ t: 'link.group', frame: log }))).toBeInstanceOf(LinkTransferInvalidError); // before the account
    imp.accept(account);
    imp.accept(contacts);
    const first = imp.accept(decodeLinkRecord(encodeLinkRecord({ t: 'link.group', frame: log })));
    expect(first).toEqual({ kind: 'group', account: ada.publicKey, frame: log, position: 0 });
    expect(imp.accept({ t: 'link.group', frame: log })).toMatchObject({ position: 1 });
    // Another group frame (a sender key), or bytes that are no frame at all.
    const skd = encodeGroupFrame({ t: 'group.keyreq', group, chain: 1 });
    expect(refused(() => imp.accept({ t: 'link.group', frame: skd }))).toBeInstanceOf(LinkTransferInvalidError);
    expect(refused(() => imp.accept({ t: 'link.group', frame: new Uint8Array([1, 2, 3]) }))).toBeInstanceOf(LinkTransferInvalidError);
    expect(imp.state).toEqual({ status: 'receiving', contacts: 2, messages: 0 });
    expect(imp.accept({ t: 'link.end', contacts: 2, messages: 0 })).toEqual({ kind: 'complete', contacts: 2, messages: 0 });
  });

  it("a group's messages follow its log, each incoming one naming its author; they count in the end's total; anything else is refused, the state unchanged", () => {
    const me = { id: new Uint8Array(16).fill(4), key: generateDeviceKey(seededRandom(4)).publicKey };
    const [account, contacts] = accountRecords(me, []) as [LinkRecord, LinkRecord];
    const group = new Uint8Array(16).fill(7);
    const other = new Uint8Array(16).fill(8);
    const log = encodeGroupFrame({ t: 'group.log', group, changes: [], names: [{ ik: ada.publicKey, name: 'Ada' }] });
    const gm = (i: number, dir: 'in' | 'out', text = `g${i}`): LinkGroupMessage => ({ ...message(i, text), dir, ...(dir === 'in' ? { from: bo.publicKey } : {}) });
    // 600 messages, some of them full size: packed into records that each fit a chunk, in order.
    const history = Array.from({ length: 600 }, (_, i) => gm(i, i % 3 ? 'in' : 'out', i % 50 === 0 ? 'x'.repeat(16 * 1024) : `g${i}`));
    const records = groupHistoryRecords(group, history);
    expect(records.length).toBeGreaterThan(2);
    for (const r of records) expect(encodeLinkRecord(r).length).toBeLessThanOrEqual(MAX_LINK_RECORD_BYTES);
    const decoded = records.map((r) => decodeLinkRecord(encodeLinkRecord(r)));
    expect(decoded.flatMap((r) => (r.t === 'link.groupMessages' ? r.messages : []))).toEqual(history);

    const imp = new LinkImport(me);
    imp.accept(account);
    imp.accept(contacts);
    // Before the group's log: refused.
    expect(refused(() => imp.accept(decoded[0]!))).toBeInstanceOf(LinkTransferInvalidError);
    imp.accept({ t: 'link.group', frame: log });
    // Another group's messages; an incoming one without its author; an outgoing one with one.
    expect(refused(() => imp.accept({ t: 'link.groupMessages', g: other, messages: [gm(1, 'in')] }))).toBeInstanceOf(LinkTransferInvalidError);
    expect(refused(() => imp.accept({ t: 'link.groupMessages', g: group, messages: [{ ...message(1), dir: 'in' }] }))).toBeInstanceOf(LinkTransferInvalidError);
    expect(refused(() => imp.accept({ t: 'link.groupMessages', g: group, messages: [{ ...gm(2, 'out'), from: bo.publicKey }] }))).toBeInstanceOf(LinkTransferInvalidError);
    expect(imp.state).toEqual({ status: 'receiving', contacts: 2, messages: 0 });
    const steps = decoded.map((r) => imp.accept(r));
    expect(steps.map((st) => (st.kind === 'groupMessages' ? st.position : -1))).toEqual(decoded.map((_, i) => i));
    expect(steps.flatMap((st) => (st.kind === 'groupMessages' ? st.messages : []))).toEqual(history);
    // The end must count them: a transfer cut short in a group's history never completes.
    expect(refused(() => imp.accept({ t: 'link.end', contacts: 2, messages: 0 }))).toBeInstanceOf(LinkTransferInvalidError);
    expect(imp.accept({ t: 'link.end', contacts: 2, messages: 600 })).toEqual({ kind: 'complete', contacts: 2, messages: 600 });
  });
});
