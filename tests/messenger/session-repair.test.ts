/**
 * Session repair (issue 17, PROTOCOL.md §12.8) through the public API over the real relay:
 * Ada's sessions are wiped mid-conversation while Bo keeps sending. Every message Bo sent
 * reaches Ada exactly once (the ones she could not decrypt are asked for and sent again
 * from Bo's kept copies under a fresh session), Bo's messages all end delivered, and the
 * conversation goes on both ways. The bounds of a resend are tested on their own below.
 */
import { describe, expect, it, vi } from 'vitest';
import { MemoryBackend } from '../../src/core/store/memory-backend.ts';
import { BackendPetrelStore } from '../../src/core/store/petrel-store.ts';
import { ME } from '../../src/core/store/message-actions.ts';
import { createMemoryStore, MAX_RESENDS, RESEND_RETENTION_MS, RESENDABLE_MAX, type PetrelStore } from '../../src/core/store/index.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { createLogger } from '../../src/core/log.ts';
import { toHex } from '../../src/core/bytes.ts';
import { admitRetryRequest } from '../../src/core/messenger/session-repair.ts';
import type { MessengerContext } from '../../src/core/messenger/context.ts';
import { device, introduce, onboard, testWorld, until, type Device } from './harness.ts';

const { relay, track } = testWorld();

/** Ada's store over a backend the test holds, so it can lose her sessions as a broken profile would. */
function storeWithBackend(): { store: PetrelStore; wipeSessions: () => Promise<number> } {
  const backend = new MemoryBackend();
  const store = new BackendPetrelStore(backend, { now: () => Date.now() });
  const wipeSessions = () =>
    backend.transaction(['sessions'], 'readwrite', async (tx) => {
      const t = tx.table('sessions');
      const all = await t.query();
      await Promise.all(all.map((s) => t.delete(s.contactId)));
      return all.length;
    });
  return { store, wipeSessions };
}

async function incomingBodies(d: Device, contactId: string): Promise<string[]> {
  const page = await d.store.pageMessages(contactId, { limit: 200 });
  return page.messages.filter((m) => m.direction === 'in').map((m) => m.body);
}

async function outgoing(d: Device, contactId: string) {
  const page = await d.store.pageMessages(contactId, { limit: 200 });
  return page.messages.filter((m) => m.direction === 'out');
}

function sorted(xs: readonly string[]): string[] {
  return [...xs].sort();
}

/** Ada (on a store whose sessions the test can wipe) and Bo, each the other's contact, after one message from Ada. */
async function adaAndBo() {
  const r = await relay();
  const { store, wipeSessions } = storeWithBackend();
  const ada = track(device(r.url, store));
  const bo = track(device(r.url));
  await onboard(ada, 'Ada');
  await onboard(bo, 'Bo');
  const { aSeesB: boId, bSeesA: adaId } = await introduce(ada, bo);
  await ada.messenger.send(boId, 'hello Bo');
  await until(bo, (s) => s.contacts.some((c) => c.id === adaId && c.lastMessage?.text === 'hello Bo'));
  return { ada, bo, boId, adaId, wipeSessions };
}

describe('session repair', () => {
  it("Ada loses every session while Bo keeps sending: 0 lost, 0 duplicated, all delivered, and both go on writing", async () => {
    const { wipeSessions, bo, boId, adaId, ...start } = await adaAndBo();
    let { ada } = start;
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(`before ${i}`);
      await bo.messenger.send(adaId, `before ${i}`);
    }
    await until(ada, (s) => s.contacts.some((c) => c.id === boId && c.lastMessage?.text === 'before 4'));

    // Ada's profile loses its sessions (a bug, a partial restore) while she is away.
    await ada.stop();
    expect(await wipeSessions()).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) {
      sent.push(`away ${i}`);
      await bo.messenger.send(adaId, `away ${i}`);
    }
    await vi.waitFor(async () => expect((await outgoing(bo, adaId)).filter((m) => m.body.startsWith('away') && m.status === 'sent')).toHaveLength(10), { timeout: 10_000, interval: 20 });

    // She comes back while Bo keeps writing.
    ada = track(await ada.reload());
    for (let i = 0; i < 10; i++) {
      sent.push(`back ${i}`);
      await bo.messenger.send(adaId, `back ${i}`);
    }
    await vi.waitFor(async () => expect((await outgoing(bo, adaId)).filter((m) => m.status !== 'delivered' && m.status !== 'read')).toEqual([]), { timeout: 30_000, interval: 50 });
    expect(await outgoing(bo, adaId)).toHaveLength(sent.length);
    await ada.messenger.idle();
    const got = await incomingBodies(ada, boId);
    expect(sorted(got)).toEqual(sorted(sent));
    expect(new Set(got).size).toBe(got.length);

    // The repair went through a retry request and a resend, each counted.
    expect(ada.metrics.counter('repair.requested', { reason: 'no_session' })).toBeGreaterThan(0);
    expect(bo.metrics.counter('repair.resent')).toBeGreaterThan(0);
    expect(bo.metrics.counter('repair.resend_refused', { reason: 'limit' })).toBe(0);

    // And the conversation goes on, both ways.
    await ada.messenger.send(boId, 'still here');
    await until(bo, (s) => s.contacts.some((c) => c.id === adaId && c.lastMessage?.text === 'still here'));
    await bo.messenger.send(adaId, 'good');
    await until(ada, (s) => s.contacts.some((c) => c.id === boId && c.lastMessage?.text === 'good'));
    expect((await incomingBodies(ada, boId)).filter((b) => b === 'good')).toHaveLength(1);
  }, 60_000);
});

describe('session repair of message actions', () => {
  it('an edit, a reaction and a delete for everyone Ada could not read are sent again and applied once', async () => {
    const { wipeSessions, bo, boId, adaId, ...start } = await adaAndBo();
    let { ada } = start;
    for (const t of ['one', 'two', 'three']) await bo.messenger.send(adaId, t);
    await until(ada, (s) => s.contacts.some((c) => c.id === boId && c.lastMessage?.text === 'three'));
    const [one, two, three] = await outgoing(bo, adaId);

    // Ada's sessions are lost while she is away; Bo edits, reacts and deletes meanwhile.
    await ada.stop();
    expect(await wipeSessions()).toBeGreaterThan(0);
    await bo.messenger.editMessage(one!.id, 'one, edited');
    await bo.messenger.react(two!.id, '🎉');
    await bo.messenger.deleteForEveryone(three!.id);
    await vi.waitFor(async () => expect((await bo.store.queueDepth())).toBe(0), { timeout: 10_000, interval: 20 });

    ada = track(await ada.reload());
    await vi.waitFor(
      async () => {
        const rows = (await ada.store.pageMessages(boId, { limit: 200 })).messages.filter((m) => m.direction === 'in');
        expect(rows.map((m) => [m.body, m.reactions?.map((x) => x.emoji) ?? [], m.deleted ?? false])).toEqual([
          ['one, edited', [], false],
          ['two', ['🎉'], false],
          ['', [], true],
        ]);
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(ada.metrics.counter('repair.requested', { reason: 'no_session' })).toBe(3);
    expect(bo.metrics.counter('repair.resent')).toBe(3);
    expect(bo.metrics.counter('repair.resend_refused', { reason: 'deleted' })).toBe(0);
    expect(bo.metrics.counter('repair.resend_refused', { reason: 'not_retained' })).toBe(0);
    const versions = (await ada.store.getMessage(one!.id))?.versions;
    expect(versions?.map((v) => v.text)).toEqual(['one', 'one, edited']);
  }, 60_000);
});

describe('answering a retry request (the kept copies and their bounds)', () => {
  const contact = 'a'.repeat(64);
  const other = 'b'.repeat(64);
  const device = 'c'.repeat(32);

  async function world() {
    let now = 1_000_000;
    const store = createMemoryStore({ now: () => now });
    const metrics = new InMemoryMetrics();
    const ctx = { store, metrics, log: createLogger(() => undefined) } as unknown as MessengerContext;
    return { store, metrics, ctx, at: (t: number) => (now = t), now: () => now };
  }

  /** Queues one message to `to` (pending: no session), kept for resend under its id. */
  async function keep(store: PetrelStore, id: string, to: string): Promise<void> {
    await store.commitPendingOutgoing({ message: { id, contactId: to, body: 'hi', sentAt: 1 }, job: { envelopeId: id, mailbox: new Uint8Array(32), plaintext: new Uint8Array([1, 2, 3]) } });
  }

  const id = (n: number) => n.toString(16).padStart(32, '0');
  const bytes = (hex: string) => Uint8Array.from(hex.match(/../gu)!.map((h) => parseInt(h, 16)));

  it('sends a kept copy once per request, never one that went to someone else, nor an unknown one', async () => {
    const { store, metrics, ctx, now } = await world();
    await keep(store, id(1), contact);
    await keep(store, id(2), other);
    const claimed = new Set<string>();
    const admitted = await admitRetryRequest(ctx, { contactId: contact, sessionKey: contact, ids: [bytes(id(1)), bytes(id(2)), bytes(id(3)), bytes(id(1))], now: now() }, claimed);
    expect(admitted.map((r) => r.envelopeId)).toEqual([id(1)]);
    expect(admitted[0]!.plaintext).toEqual(new Uint8Array([1, 2, 3]));
    expect(metrics.counter('repair.resend_refused', { reason: 'not_yours' })).toBe(1);
    expect(metrics.counter('repair.resend_refused', { reason: 'not_retained' })).toBe(1);
    // The same id again in the same lane turn (its move not committed yet): not sent twice.
    expect(await admitRetryRequest(ctx, { contactId: contact, sessionKey: contact, ids: [bytes(id(1))], now: now() }, claimed)).toEqual([]);
  });

  it('refuses a copy past the retention, one sent again MAX_RESENDS times, one deleted for everyone, and one for another device', async () => {
    const { store, metrics, ctx, at } = await world();
    await keep(store, id(1), contact);
    at(1_000_000 + RESEND_RETENTION_MS + 1);
    expect(await admitRetryRequest(ctx, { contactId: contact, sessionKey: contact, ids: [bytes(id(1))], now: 1_000_000 + RESEND_RETENTION_MS + 1 }, new Set())).toEqual([]);
    expect(metrics.counter('repair.resend_refused', { reason: 'expired' })).toBe(1);

    // A copy already sent again MAX_RESENDS times (moved to its latest envelope id by each resend).
    const record = (await store.resendable([id(1)]))[0]!;
    await store.commitIncomingBatch([{ envelopeId: id(50), from: contact, receivedAt: 5, resent: [{ from: id(1), record: { ...record, envelopeId: id(9), resends: MAX_RESENDS } }] }]);
    expect(await store.resendable([id(1)])).toEqual([]);
    expect(await admitRetryRequest(ctx, { contactId: contact, sessionKey: contact, ids: [bytes(id(9))], now: 1_000_001 }, new Set())).toEqual([]);
    expect(metrics.counter('repair.resend_refused', { reason: 'limit' })).toBe(1);

    // Sent to one device of the contact: another device of it may not have it.
    await store.commitIncomingBatch([{ envelopeId: id(51), from: contact, receivedAt: 6, resent: [{ from: id(9), record: { ...record, envelopeId: id(10), device, resends: 0 } }] }]);
    expect(await admitRetryRequest(ctx, { contactId: contact, sessionKey: `${contact}${'d'.repeat(32)}`, ids: [bytes(id(10))], now: 1_000_001 }, new Set())).toEqual([]);
    expect(metrics.counter('repair.resend_refused', { reason: 'not_yours' })).toBe(1);
    expect(await admitRetryRequest(ctx, { contactId: contact, sessionKey: `${contact}${device}`, ids: [bytes(id(10))], now: 1_000_001 }, new Set())).toHaveLength(1);

    // Deleted for everyone: its text is not sent again.
    await keep(store, id(20), contact);
    await store.commitPendingOutgoing({ action: { kind: 'delete', id: id(21), target: id(20), by: ME, at: 2 }, job: { envelopeId: id(21), mailbox: new Uint8Array(32), plaintext: new Uint8Array([9]) } });
    expect(await admitRetryRequest(ctx, { contactId: contact, sessionKey: contact, ids: [bytes(id(20))], now: 1_000_001 }, new Set())).toEqual([]);
    expect(metrics.counter('repair.resend_refused', { reason: 'deleted' })).toBe(1);
  });

  it('keeps copies within the retention and the count bound (pruneResendable)', async () => {
    const { store, at } = await world();
    for (let i = 1; i <= 3; i++) await keep(store, id(i), contact);
    expect(await store.pruneResendable(1_000_000)).toBe(0);
    expect(await store.resendable([id(1), id(2), id(3)])).toHaveLength(3);
    at(1_000_000 + RESEND_RETENTION_MS + 1);
    await keep(store, id(4), contact);
    expect(await store.pruneResendable(1_000_000 + RESEND_RETENTION_MS + 1)).toBe(3);
    expect((await store.resendable([id(1), id(2), id(3), id(4)])).map((r) => r.envelopeId)).toEqual([id(4)]);
    expect(RESENDABLE_MAX).toBeGreaterThanOrEqual(1_000);
    expect(toHex(bytes(id(4)))).toBe(id(4));
  });
});
