/**
 * The existing device's export, read from a real (in-memory) store and imported by the
 * new device's state machine: every contact, every message of every conversation in
 * conversation order across store pages, the totals matching.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { signDeviceList } from '../../src/core/devices/device-list.ts';
import { LinkImport } from '../../src/core/devices/link-import.ts';
import { linkExportRecords } from '../../src/core/messenger/link-export.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { decodeLinkRecord, encodeLinkRecord, MAX_LINK_RECORD_BYTES } from '../../src/core/wire/index.ts';
import { device, identity } from '../devices/fixtures.ts';

describe('link export', () => {
  it('carries every contact and all 1,203 messages, oldest first per conversation, and the new device imports them', async () => {
    const store = createMemoryStore({ now: () => 0 });
    const ada = identity(1);
    const people = [identity(2), identity(3)];
    for (const [i, p] of people.entries()) {
      await store.putContact({ id: toHex(p.publicKey), displayName: `P${i}`, identityKey: p.publicKey, verification: i ? 'unverified' : 'verified', addedAt: 10 + i });
    }
    const counts = [1_200, 3];
    for (const [i, p] of people.entries()) {
      for (let n = 0; n < counts[i]!; n++) {
        const id = `${i.toString(16).padStart(2, '0')}${n.toString(16).padStart(30, '0')}`;
        await store.commitIncoming({ envelopeId: id, from: toHex(p.publicKey), receivedAt: 1_000 + n, message: { id, contactId: toHex(p.publicKey), body: `m${i}.${n}`, sentAt: 1_000 + n } });
      }
    }
    const list = signDeviceList(ada, { version: 2, issuedAt: 5, devices: [device(1), device(2)] });
    const importer = new LinkImport(device(2));
    const got = new Map<string, string[]>();
    let records = 0;
    for await (const r of linkExportRecords(store, { identity: ada, name: 'Ada', list })) {
      const bytes = encodeLinkRecord(r);
      expect(bytes.length).toBeLessThanOrEqual(MAX_LINK_RECORD_BYTES);
      const step = importer.accept(decodeLinkRecord(bytes));
      records++;
      if (step.kind === 'contacts') for (const c of step.contacts) got.set(toHex(c.ik), []);
      if (step.kind === 'messages') got.get(toHex(step.contact))!.push(...step.messages.map((m) => m.text));
    }
    expect(importer.state).toEqual({ status: 'complete', contacts: 2, messages: 1_203 });
    expect(records).toBeGreaterThan(4);
    expect(got.get(toHex(people[0]!.publicKey))).toEqual(Array.from({ length: 1_200 }, (_, n) => `m0.${n}`));
    expect(got.get(toHex(people[1]!.publicKey))).toEqual(['m1.0', 'm1.1', 'm1.2']);
  });
});
