/**
 * Delivery receipts to the other devices of a multi-device contact (sibling-receipts.ts,
 * issue 16): they are their own transactions after the receive commit, so one that fails
 * is tried again, not lost. On the real relay: Ada on two devices, Bo on one whose store
 * refuses the first sibling receipt's commit.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore, type PetrelStore } from '../../src/core/store/index.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { expectEventually, testWorld, until } from './harness.ts';

const world = testWorld();

/** A memory store whose next `failOutgoing` commitOutgoing calls throw (a storage error), changing nothing. */
function flakyStore(): { store: PetrelStore; failOutgoing: { n: number } } {
  const store = createMemoryStore({ now: () => Date.now() });
  const failOutgoing = { n: 0 };
  const commitOutgoing = store.commitOutgoing.bind(store);
  store.commitOutgoing = (...args) => {
    if (failOutgoing.n > 0) {
      failOutgoing.n--;
      return Promise.reject(new Error('storage unavailable'));
    }
    return commitOutgoing(...args);
  };
  return { store, failOutgoing };
}

async function statusOf(store: PetrelStore, contactId: string, body: string): Promise<string | undefined> {
  return (await store.pageMessages(contactId, { limit: 50 })).messages.find((m) => m.body === body)?.status;
}

describe('delivery receipts to a contact’s other devices', () => {
  it('a sibling receipt whose commit failed is tried again: Ada’s first device shows her second one’s message delivered', { timeout: 60_000 }, async () => {
    const { store, failOutgoing } = flakyStore();
    const { ada1, ada2, bo, aSeesB, bSeesA } = await adaOnTwoDevices(world, store);
    // Bo writes first: he then has a session with each of Ada's devices (a device without one gets no sibling receipt).
    await bo.messenger.send(bSeesA, 'hello both');
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await expectEventually(async () => (await bo.store.queueDepth()) === 0);
    failOutgoing.n = 1;
    await ada2.messenger.send(aSeesB, 'from my laptop');
    await expectEventually(async () => (await statusOf(bo.store, bSeesA, 'from my laptop')) !== undefined);
    await until(ada1, () => ada1.metrics.counter('devices.transcript_received') === 1);
    await until(bo, () => bo.metrics.counter('devices.sibling_receipts') >= 1, 15_000);
    expect(bo.metrics.counter('devices.sibling_receipt_failed')).toBe(1);
    expect(bo.metrics.counter('devices.sibling_receipt_given_up')).toBe(0);
    expect(failOutgoing.n).toBe(0);
    await expectEventually(async () => (await statusOf(ada1.store, aSeesB, 'from my laptop')) === 'delivered');
    await expectEventually(async () => (await statusOf(ada2.store, aSeesB, 'from my laptop')) === 'delivered');
  });
});
