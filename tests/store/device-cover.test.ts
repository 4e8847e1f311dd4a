/**
 * `coverDevices` (PROTOCOL.md §13.5, "A send to a stale device set"): a message whose copy
 * was refused as fanned out under an old device list gets a copy for each device of the
 * new list that has none — never a second one for a device whose copy is queued or already
 * sent — its queued copies carry the new version, and an account-mailbox copy goes once
 * device copies take its place. Bad input changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore, InvalidStoreInputError, type PetrelStore } from '../../src/core/store/index.ts';
import { bytes, contact, contactId, MAILBOX, newId } from './fixtures.ts';

const DEV_A = 'a'.repeat(32);
const DEV_B = 'b'.repeat(32);
const DEV_C = 'c'.repeat(32);

async function outbox(store: PetrelStore, cid: string) {
  const heads = await store.outboxHeads(50);
  const pending = await store.pendingJobs(cid);
  return { heads, pending };
}

describe('coverDevices', () => {
  it('adds copies only for devices without one (queued or sent), re-marks the queued copies, and never doubles', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    await store.putContact(contact(1));
    const cid = contactId(1);
    const id = newId();
    const sentCopy = newId();
    const queuedCopy = newId();
    // Fanned out under version 1 to devices A and B (sessions not started: pending jobs).
    await store.commitFanOut({
      message: { id, contactId: cid, body: 'hello', sentAt: 5_000 },
      sessionUpdates: [],
      ready: [],
      pending: [
        { envelopeId: sentCopy, device: DEV_A, mailbox: MAILBOX, plaintext: bytes(7), listVersion: 1 },
        { envelopeId: queuedCopy, device: DEV_B, mailbox: MAILBOX, plaintext: bytes(7), listVersion: 1 },
      ],
      retain: bytes(7),
    });
    // A's copy went out (its kept record stays); B's is still queued.
    await store.commitSessionStart({ sessionUpdate: { contactId: cid + DEV_A, expectedVersion: null, state: bytes(1) }, encrypted: [{ envelopeId: sentCopy, envelope: bytes(9) }] });
    expect(await store.markSent(sentCopy, { at: 1_500 })).toMatchObject({ removed: true });

    const cover = { messageId: id, contactId: cid, listVersion: 2, plaintext: bytes(7), devices: [DEV_A, DEV_B, DEV_C].map((device) => ({ device, mailbox: MAILBOX, envelopeId: newId() })) };
    expect(await store.coverDevices(cover)).toEqual({ added: 1, requeued: 1, dropped: 0 });
    const jobs = (await store.pendingJobs(cid)).filter((j) => j.messageId === id);
    expect(jobs.map((j) => [j.device, j.listVersion]).sort()).toEqual([
      [DEV_B, 2],
      [DEV_C, 2],
    ]);
    // Its new copy is kept for resend like the others.
    expect((await store.resendable([cover.devices[2]!.envelopeId]))[0]).toMatchObject({ messageId: id, device: DEV_C });
    // Again (another copy refused under the same list): nothing new.
    expect(await store.coverDevices({ ...cover, devices: cover.devices.map((d) => ({ ...d, envelopeId: newId() })) })).toEqual({ added: 0, requeued: 2, dropped: 0 });
    expect((await store.pendingJobs(cid)).filter((j) => j.messageId === id)).toHaveLength(2);
  });

  it('replaces a copy to the account mailbox by one per device, never leaving the message without a copy', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    await store.putContact(contact(1));
    const cid = contactId(1);
    const id = newId();
    await store.commitPendingOutgoing({ message: { id, contactId: cid, body: 'hi', sentAt: 5_000 }, job: { envelopeId: id, mailbox: MAILBOX, plaintext: bytes(7) } });
    const result = await store.coverDevices({ messageId: id, contactId: cid, listVersion: 1, plaintext: bytes(7), devices: [DEV_A, DEV_B].map((device) => ({ device, mailbox: MAILBOX, envelopeId: newId() })) });
    expect(result).toEqual({ added: 2, requeued: 0, dropped: 1 });
    const { pending } = await outbox(store, cid);
    expect(pending.map((j) => j.device).sort()).toEqual([DEV_A, DEV_B]);
    expect((await store.getMessage(id))?.status).toBe('queued');
  });

  it('a failed account-mailbox copy replaced by device copies is no longer named on the row', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    await store.putContact(contact(1));
    const cid = contactId(1);
    const id = newId();
    const copyA = newId();
    // The account copy and a copy to device A (queued); the account copy is given up on, A's then refused as stale.
    await store.commitFanOut({ message: { id, contactId: cid, body: 'hi', sentAt: 5_000 }, sessionUpdates: [], ready: [], pending: [{ envelopeId: id, mailbox: MAILBOX, plaintext: bytes(7) }, { envelopeId: copyA, device: DEV_A, mailbox: MAILBOX, plaintext: bytes(7), listVersion: 1 }] });
    await store.markFailed(id, 'gave up');
    expect(await store.getMessage(id)).toMatchObject({ status: 'queued', failedAccountCopy: true });
    const result = await store.coverDevices({ messageId: id, contactId: cid, listVersion: 2, plaintext: bytes(7), refused: copyA, devices: [DEV_A, DEV_B].map((device) => ({ device, mailbox: MAILBOX, envelopeId: newId() })) });
    expect(result).toEqual({ added: 1, requeued: 1, dropped: 1 });
    const row = await store.getMessage(id);
    expect(row?.status).toBe('queued');
    expect(row?.failedAccountCopy).toBeUndefined();
    expect(await store.retry(id, 2_000)).toBe(0);
  });

  it('refuses bad input with a typed error and changes nothing', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    await store.putContact(contact(1));
    const cid = contactId(1);
    const id = newId();
    await store.commitPendingOutgoing({ message: { id, contactId: cid, body: 'hi', sentAt: 5_000 }, job: { envelopeId: id, mailbox: MAILBOX, plaintext: bytes(7) } });
    const base = { messageId: id, contactId: cid, listVersion: 1, plaintext: bytes(7), devices: [{ device: DEV_A, mailbox: MAILBOX, envelopeId: newId() }] };
    for (const bad of [
      { ...base, listVersion: -1 },
      { ...base, devices: [base.devices[0]!, { ...base.devices[0]!, envelopeId: newId() }] },
      { ...base, devices: [{ ...base.devices[0]!, device: 'zz' }] },
      { ...base, devices: [{ ...base.devices[0]!, envelopeId: id }] },
    ]) {
      await expect(store.coverDevices(bad)).rejects.toBeInstanceOf(InvalidStoreInputError);
    }
    expect((await store.pendingJobs(cid)).map((j) => j.envelopeId)).toEqual([id]);
  });
});
