/**
 * A copy to our own other devices refused as stale, when our own newer list no longer names
 * this device (it was unlinked meanwhile): the cover queues nothing for the devices that
 * remain, the copy fails with a reason, and it is counted. Before, it queued a copy for
 * each of them from a device that is no longer ours. The relay normally refuses such a
 * device at once (its mailbox closes with the list), so this guards the race where a
 * refusal still reaches it. StaleDeviceCover alone, over a real store, with our list given.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { generateIdentity } from '../../src/core/crypto/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import type { MessengerContext } from '../../src/core/messenger/context.ts';
import { StaleDeviceCover } from '../../src/core/messenger/stale-device-cover.ts';
import { seededRandom } from '../../src/core/random.ts';
import { ME } from '../../src/core/store/message-actions.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import type { DeviceListBody } from '../../src/core/wire/index.ts';
import { bytes, contact, contactId, MAILBOX, newId } from '../store/fixtures.ts';

describe('stale cover of a copy to our own devices', () => {
  it('queues nothing once our own newer list no longer names this device; the copy fails with a reason, counted', async () => {
    const random = seededRandom(7);
    const me = generateIdentity(random);
    const own = toHex(me.publicKey);
    const [self, other, third] = [1, 2, 3].map((n) => new Uint8Array(16).fill(n)) as [Uint8Array, Uint8Array, Uint8Array];
    const store = createMemoryStore({ now: () => 1_000 });
    await store.putContact(contact(1));
    const cid = contactId(1);
    const id = newId();
    await store.commitFanOut({ message: { id, contactId: cid, body: 'teh', sentAt: 900 }, sessionUpdates: [], ready: [], pending: [{ envelopeId: id, device: 'a'.repeat(32), mailbox: MAILBOX, plaintext: bytes(7), listVersion: 1 }], retain: bytes(7) });
    // Our edit, with its copy to our other device under our own list version 1.
    const editO = newId();
    await store.commitFanOutAction({
      contactId: cid,
      action: { kind: 'edit', id: newId(), target: id, by: ME, at: 950, text: 'the' },
      ownAccount: own,
      sessionUpdates: [],
      ready: [],
      pending: [{ envelopeId: editO, device: toHex(other), own: true, mailbox: MAILBOX, plaintext: bytes(9), listVersion: 1 }],
      retainOwn: bytes(9),
    });
    await store.commitSessionStart({ sessionUpdate: { contactId: own + toHex(other), expectedVersion: null, state: bytes(1) }, encrypted: [{ envelopeId: editO, envelope: bytes(9) }] });
    const refused = (await store.outboxHeads(10)).find((e) => e.envelopeId === editO)!;
    expect(refused).toMatchObject({ listVersion: 1, state: 'ready' });
    const before = await store.queueDepth();

    // Our list version 2 names the other device and a third one, not this one.
    const newer = { version: 2, issuedAt: 1_000, devices: [{ id: other, key: new Uint8Array(32).fill(2) }, { id: third, key: new Uint8Array(32).fill(3) }] } as unknown as DeviceListBody;
    const metrics = new InMemoryMetrics();
    const ctx = { store, metrics, log: silentLogger, random, identity: me, contacts: { byId: () => undefined }, devices: { sealDevice: self } } as unknown as MessengerContext;
    let covered = 0;
    const cover = new StaleDeviceCover({ ctx, judge: async () => true, refresh: async () => undefined, list: async () => newer, covered: () => covered++ });
    await cover.refused(refused, undefined);

    expect(metrics.snapshot().counters['devices.stale_cover_unlinked']).toBe(1);
    expect(metrics.snapshot().counters['devices.stale_copies_covered{kind="own_copy"}']).toBeUndefined();
    expect(covered).toBe(0);
    // Nothing new for the devices that remain, and the refused copy is no longer due.
    expect(await store.queueDepth()).toBe(before - 1);
    expect((await store.outboxHeads(10)).some((e) => e.envelopeId === editO)).toBe(false);
  });
});
