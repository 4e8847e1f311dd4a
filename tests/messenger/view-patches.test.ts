/**
 * The open chat patched from the store's reported writes (view-changes.ts) instead of
 * read again whole: after any sequence of writes — sends, receives, receipts, sent and
 * failed marks, retries, reads, reactions, deletes for me, paging, another chat opened —
 * the patched window equals a fresh read of the store, and rows no write touched keep
 * their view objects (the UI tells what changed by identity).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { ContactDirectory } from '../../src/core/messenger/contact-directory.ts';
import { ViewChanges, trackViewChanges } from '../../src/core/messenger/view-changes.ts';
import { CHAT_PAGE_SIZE, ViewProjection } from '../../src/core/messenger/view-projection.ts';
import { createMemoryStore, type PetrelStore } from '../../src/core/store/index.ts';
import { contact, contactId, incoming, newId, outgoing, pending } from '../store/fixtures.ts';

type Op =
  | { k: 'send'; c: 1 | 2 }
  | { k: 'sendReady'; c: 1 | 2 }
  | { k: 'receive'; c: 1 | 2 }
  | { k: 'receipt'; pick: number; status: 'sent' | 'delivered' | 'read' }
  | { k: 'markSent'; pick: number }
  | { k: 'markFailed'; pick: number }
  | { k: 'retry'; pick: number }
  | { k: 'react'; pick: number }
  | { k: 'read'; c: 1 | 2 }
  | { k: 'deleteForMe'; pick: number }
  | { k: 'unknownWrite'; pick: number }
  | { k: 'open'; c: 1 | 2 | 0 }
  | { k: 'older' };

const who = fc.constantFrom<1 | 2>(1, 2);
const pick = fc.nat(1_000);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('send' as const), c: who }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('sendReady' as const), c: who }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('receive' as const), c: who }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('receipt' as const), pick, status: fc.constantFrom('sent' as const, 'delivered' as const, 'read' as const) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('markSent' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('markFailed' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('retry' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('react' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('read' as const), c: who }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteForMe' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('unknownWrite' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('open' as const), c: fc.constantFrom<0 | 1 | 2>(0, 1, 2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('older' as const) }) },
);

async function world(preloaded: number) {
  const clock = new FakeClock(20_000);
  const raw = createMemoryStore({ now: () => clock.now() });
  for (const n of [1, 2]) await raw.putContact(contact(n));
  const out: { messageId: string; envelopeId: string; contactId: string }[] = [];
  const all: { id: string; contactId: string }[] = [];
  for (let i = 0; i < preloaded; i++) {
    const p = pending(1, `old ${i}`);
    await raw.commitPendingOutgoing(p);
    out.push({ messageId: p.messageId, envelopeId: p.envelopeId, contactId: contactId(1) });
    all.push({ id: p.messageId, contactId: contactId(1) });
  }
  const deps = { clock, metrics: new InMemoryMetrics(), log: silentLogger };
  const contacts = await ContactDirectory.load(raw);
  const relay = { state: { kind: 'offline' as const } };
  const patched = new ViewProjection(deps);
  const store = patched.track(raw);
  patched.attach({ store, contacts, relay });
  const fresh = new ViewProjection(deps);
  fresh.attach({ store: raw, contacts, relay });
  const versions = new Map<number, number>();
  return { raw, store, patched, fresh, out, all, versions };
}

async function apply(w: Awaited<ReturnType<typeof world>>, o: Op): Promise<void> {
  const { store, out, all } = w;
  const nth = <T>(list: readonly T[], n: number): T | undefined => (list.length ? list[n % list.length] : undefined);
  const ignore = () => undefined; // a write the store refuses changes nothing: still a valid step
  switch (o.k) {
    case 'send': {
      const p = pending(o.c, `to ${o.c}`);
      await store.commitPendingOutgoing(p);
      out.push({ messageId: p.messageId, envelopeId: p.envelopeId, contactId: contactId(o.c) });
      all.push({ id: p.messageId, contactId: contactId(o.c) });
      return;
    }
    case 'sendReady': {
      // Encrypted at once (a session exists): its entry is ready, so sent/failed marks move it.
      const c = outgoing({ contact: o.c, expectedVersion: w.versions.get(o.c) ?? null, body: `now to ${o.c}`, sentAt: 7_000 });
      const { sessionVersion } = await store.commitOutgoing(c);
      w.versions.set(o.c, sessionVersion);
      out.push({ messageId: c.messageId, envelopeId: c.envelopeId, contactId: contactId(o.c) });
      all.push({ id: c.messageId, contactId: contactId(o.c) });
      return;
    }
    case 'receive': {
      const c = incoming({ contact: o.c, body: `from ${o.c}` });
      await store.commitIncoming(c);
      all.push({ id: c.messageId, contactId: contactId(o.c) });
      return;
    }
    case 'receipt': {
      const m = nth(out, o.pick);
      if (!m) return;
      const n = m.contactId === contactId(1) ? 1 : 2;
      // A receipt's commit as the receive pipeline makes it (no fixture-only fields): the status-only case.
      const { messageId: _id, ...receipt } = incoming({ contact: n, withMessage: false, statusUpdates: [{ messageId: m.messageId, status: o.status }] });
      await store.commitIncoming(receipt).catch(ignore);
      return;
    }
    case 'markSent': {
      const m = nth(out, o.pick);
      if (m) await store.markSent(m.envelopeId, { at: 21_000, via: 'relay' }).catch(ignore);
      return;
    }
    case 'markFailed': {
      const m = nth(out, o.pick);
      if (m) await store.markFailed(m.envelopeId, 'gave up').catch(ignore);
      return;
    }
    case 'retry': {
      const m = nth(out, o.pick);
      if (m) await store.retry(m.messageId, 22_000).catch(ignore);
      return;
    }
    case 'react': {
      const m = nth(all, o.pick);
      if (!m) return;
      const n = m.contactId === contactId(1) ? 1 : 2;
      const action = { kind: 'react' as const, id: newId(), target: m.id, by: m.contactId, at: 19_000, emoji: '👍' };
      await store.commitIncoming(incoming({ contact: n, withMessage: false, action })).catch(ignore);
      return;
    }
    case 'read': {
      const ids = await store.unreadIncoming(contactId(o.c));
      await store.commitRead({ contactId: contactId(o.c), at: 23_000, messageIds: ids }).catch(ignore);
      return;
    }
    case 'deleteForMe': {
      const m = nth(all, o.pick);
      if (m) await store.deleteMessageLocally(m.id).catch(ignore);
      return;
    }
    case 'unknownWrite': {
      // A write the tracker knows no rows of (here: a conversation deleted) reads the window whole.
      if (o.pick % 7 === 0) await store.deleteConversation(contactId(2)).catch(ignore);
      return;
    }
    case 'open': {
      const id = o.c === 0 ? undefined : contactId(o.c);
      await Promise.all([w.patched.openChat(id), w.fresh.openChat(id)]);
      return;
    }
    case 'older':
      await Promise.all([w.patched.loadOlder(), w.fresh.loadOlder()]);
      return;
  }
}

describe('the open chat patched from reported writes', () => {
  it('equals a fresh read of the store after any sequence of writes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.constantFrom(0, CHAT_PAGE_SIZE - 3), async (ops, preloaded) => {
        const w = await world(preloaded);
        await Promise.all([w.patched.openChat(contactId(1)), w.fresh.openChat(contactId(1))]);
        for (const o of ops) {
          await apply(w, o);
          await Promise.all([w.patched.refresh(), w.fresh.refresh()]);
          expect(w.patched.getState().chat).toEqual(w.fresh.getState().chat);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reads only the rows a write changed and keeps the other rows’ view objects', async () => {
    const w = await world(10);
    await w.patched.openChat(contactId(1));
    const before = w.patched.getState().chat!.messages;
    let pages = 0;
    let reads = 0;
    const raw = w.raw as PetrelStore;
    const counting = Object.create(raw) as PetrelStore;
    counting.pageMessages = (id, o) => (pages++, raw.pageMessages(id, o));
    counting.getMessage = (id) => (reads++, raw.getMessage(id));
    const target = w.out[3]!;
    // The same projection over a counting store: one status move, one row read, no page.
    const view = new ViewProjection({ clock: new FakeClock(20_000), metrics: new InMemoryMetrics(), log: silentLogger });
    const store = view.track(counting);
    view.attach({ store, contacts: await ContactDirectory.load(raw), relay: { state: { kind: 'offline' } } });
    await view.openChat(contactId(1));
    const shown = view.getState().chat!.messages;
    pages = 0;
    reads = 0;
    await store.markFailed(target.envelopeId, 'gave up');
    await view.refresh();
    const after = view.getState().chat!.messages;
    expect(pages).toBe(0);
    expect(reads).toBe(1);
    expect(after.find((m) => m.id === target.messageId)?.status).toBe('failed');
    for (const [i, m] of after.entries()) {
      if (m.id === target.messageId) expect(m).not.toBe(shown[i]);
      else expect(m).toBe(shown[i]);
    }
    expect(before).toHaveLength(10);
  });

  it('a write it does not know, or one that failed, is handled safely', async () => {
    const changes = new ViewChanges();
    changes.take();
    const raw = createMemoryStore({ now: () => 1 });
    const store = trackViewChanges(raw, changes);
    await store.putContact(contact(1));
    expect(changes.take().all).toBe(false);
    await store.changeContact(contactId(1), { localName: 'Ann' });
    expect(changes.take().all).toBe(true);
    await expect(store.markSent('00'.repeat(16), { at: 1 })).resolves.toEqual({ removed: false });
    // Failed writes report nothing: the transaction changed nothing.
    await expect(store.commitIncoming({ envelopeId: 'not hex' } as never)).rejects.toThrow();
    const t = changes.take();
    expect(t.all).toBe(false);
    expect([...t.envelopeIds]).toEqual(['00'.repeat(16)]);
  });
});

/** Lets the coalesced projection (`changed()`: a 0 ms timer, then memory-store reads) and any follow-up run. */
async function settle(clock: FakeClock): Promise<void> {
  for (let i = 0; i < 4; i++) {
    clock.advance(1);
    await new Promise((r) => setTimeout(r, 0));
  }
}

describe('the lists read again only when a write may change them (issue 22)', () => {
  it('projected from reported writes alone, the whole state equals a fresh read after any sequence of writes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const w = await world(3);
        const clock = (w.patched as unknown as { deps: { clock: FakeClock } }).deps.clock;
        await Promise.all([w.patched.openChat(contactId(1)), w.fresh.openChat(contactId(1))]);
        for (const o of ops) {
          if (o.k === 'open' || o.k === 'older') continue; // commands refresh whole (covered above)
          await apply(w, o);
          // Only the tracked writes tell the projection (as the outbox and receive pipeline do).
          w.patched.changed();
          await settle(clock);
          await w.fresh.refresh();
          const { connection: _a, ...patched } = w.patched.getState();
          const { connection: _b, ...fresh } = w.fresh.getState();
          expect(patched).toEqual(fresh);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("a receipt's status move reads its row alone; the queue is counted in the projection right after", async () => {
    const clock = new FakeClock(20_000);
    const raw = createMemoryStore({ now: () => clock.now() });
    await raw.putContact(contact(1));
    const sent = outgoing({ contact: 1, expectedVersion: null, body: 'hi', sentAt: 7_000 });
    await raw.commitOutgoing(sent);
    const calls = { lists: 0, queue: 0, rows: 0 };
    const counting = Object.create(raw) as PetrelStore;
    counting.listConversations = () => (calls.lists++, raw.listConversations());
    counting.queueDepth = () => (calls.queue++, raw.queueDepth());
    counting.getMessage = (id) => (calls.rows++, raw.getMessage(id));
    const view = new ViewProjection({ clock, metrics: new InMemoryMetrics(), log: silentLogger });
    const store = view.track(counting);
    view.attach({ store, contacts: await ContactDirectory.load(raw), relay: { state: { kind: 'offline' } } });
    await view.openChat(contactId(1));
    expect(view.getState().queueDepth).toBe(1);
    const states: { status?: string; queueDepth: number }[] = [];
    view.subscribe(() => states.push({ status: view.getState().chat?.messages[0]?.status, queueDepth: view.getState().queueDepth }));
    calls.lists = calls.queue = calls.rows = 0;
    // Delivered while still queued (the relay's `sent` was lost): the receipt takes the outbox entry too.
    const { messageId: _id, ...receipt } = incoming({ contact: 1, withMessage: false, statusUpdates: [{ messageId: sent.messageId, status: 'delivered' }] });
    await store.commitIncoming(receipt);
    view.changed();
    await settle(clock);
    // First the row (no list, no count), then the count.
    expect(states[0]).toEqual({ status: 'delivered', queueDepth: 1 });
    expect(states.at(-1)).toEqual({ status: 'delivered', queueDepth: 0 });
    expect(calls).toEqual({ lists: 0, queue: 1, rows: 1 });
    // A new message changes the conversation: the lists are read again.
    const next = outgoing({ contact: 1, expectedVersion: 1, body: 'again', sentAt: 8_000 });
    await store.commitOutgoing(next);
    view.changed();
    await settle(clock);
    expect(calls.lists).toBe(1);
    expect(view.getState().contacts[0]?.lastMessage?.text).toBe('again');
  });
});
