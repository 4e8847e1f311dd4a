/**
 * The rules of message actions (src/core/store/message-actions.ts), and the store applying
 * them atomically with the receive commit: refused actions change nothing, actions that
 * arrive before their message are held durably and applied when it is committed.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HELD_ACTIONS_KEY, MAX_HELD_ACTIONS, readHeld, writeHeld } from '../../src/core/store/held-actions.ts';
import { ACTION_WINDOW_MS, CLOCK_SKEW_MS, judgeAction, MAX_EDITS, ME, type MessageAction } from '../../src/core/store/message-actions.ts';
import { createMemoryStore, type IncomingCommit, type MessageRecord, type PetrelStore } from '../../src/core/store/index.ts';
import { openIdbStore } from '../../src/platform/idb/open-idb-store.ts';

/** A store and a way to reopen it (the page reloaded), on each engine. */
type Opened = { store: PetrelStore; reopen: () => Promise<PetrelStore> };
const ENGINES: Array<[string, (now: () => number) => Promise<Opened>]> = [
  [
    'in-memory',
    async (now) => {
      const store = createMemoryStore({ now });
      return { store, reopen: async () => store };
    },
  ],
  [
    'IndexedDB (fake-indexeddb)',
    async (now) => {
      const opts = { now, factory: new IDBFactory() };
      const { store } = await openIdbStore(opts);
      return {
        store,
        reopen: async () => {
          store.close();
          return (await openIdbStore(opts)).store;
        },
      };
    },
  ],
];

const BOB = 'b0'.repeat(32);
const CAROL = 'c0'.repeat(32);
const T0 = 1_700_000_000_000;
const id = (n: number) => n.toString(16).padStart(32, '0');

function row(partial: Partial<MessageRecord> = {}): MessageRecord {
  return { id: id(1), contactId: BOB, direction: 'in', body: 'hello', sentAt: T0, order: 0, status: 'delivered', updatedAt: T0, ...partial };
}
const edit = (n: number, at: number, text: string, by = BOB): MessageAction => ({ kind: 'edit', id: id(100 + n), target: id(1), by, at, text });
const del = (at: number, by = BOB): MessageAction => ({ kind: 'delete', id: id(200), target: id(1), by, at });
const react = (n: number, at: number, emoji: string, by = BOB): MessageAction => ({ kind: 'react', id: id(300 + n), target: id(1), by, at, emoji });

describe('judgeAction', () => {
  it('applies an edit by the author and keeps every version', () => {
    const v = judgeAction(row(), edit(1, T0 + 1000, 'hi'), T0 + 2000);
    expect(v).toMatchObject({ ok: true, changed: true });
    if (!v.ok) return;
    expect(v.row.body).toBe('hi');
    expect(v.row.versions).toEqual([{ text: 'hello', at: T0 }, { text: 'hi', at: T0 + 1000, editId: id(101) }]);
  });

  it('refuses an edit or delete of a message its sender did not write', () => {
    expect(judgeAction(row(), edit(1, T0 + 1, 'x', CAROL), T0 + 2)).toEqual({ ok: false, reason: 'not_author' });
    expect(judgeAction(row({ direction: 'out' }), edit(1, T0 + 1, 'x'), T0 + 2)).toEqual({ ok: false, reason: 'not_author' });
    expect(judgeAction(row(), del(T0 + 1, ME), T0 + 2)).toEqual({ ok: false, reason: 'not_author' });
    expect(judgeAction(row({ direction: 'out' }), del(T0 + 1, ME), T0 + 2)).toMatchObject({ ok: true, changed: true });
  });

  it('allows 24 h by the sender clock, refuses later, and refuses actions from the future beyond the skew', () => {
    expect(judgeAction(row(), edit(1, T0 + ACTION_WINDOW_MS, 'x'), T0 + ACTION_WINDOW_MS)).toMatchObject({ ok: true });
    expect(judgeAction(row(), edit(1, T0 + ACTION_WINDOW_MS + 1, 'x'), T0 + ACTION_WINDOW_MS + 1)).toEqual({ ok: false, reason: 'too_late' });
    expect(judgeAction(row(), del(T0 + ACTION_WINDOW_MS + 1), T0 + ACTION_WINDOW_MS + 1)).toEqual({ ok: false, reason: 'too_late' });
    expect(judgeAction(row(), del(T0 - CLOCK_SKEW_MS - 1), T0)).toEqual({ ok: false, reason: 'too_late' });
    expect(judgeAction(row(), edit(1, T0 + CLOCK_SKEW_MS + 1, 'x'), T0)).toEqual({ ok: false, reason: 'from_future' });
    expect(judgeAction(row(), edit(1, T0 + CLOCK_SKEW_MS, 'x'), T0)).toMatchObject({ ok: true });
  });

  it('allows 10 edits and refuses the 11th; a resent edit changes nothing', () => {
    let r = row();
    for (let i = 1; i <= MAX_EDITS; i++) {
      const v = judgeAction(r, edit(i, T0 + i, `v${i}`), T0 + 100);
      if (!v.ok) throw new Error(v.reason);
      r = v.row;
    }
    expect(r.body).toBe('v10');
    expect(judgeAction(r, edit(11, T0 + 11, 'v11'), T0 + 100)).toEqual({ ok: false, reason: 'too_many_edits' });
    expect(judgeAction(r, edit(3, T0 + 3, 'v3'), T0 + 100)).toEqual({ ok: true, row: r, changed: false });
  });

  it('orders edits that arrive out of order by the sender clock', () => {
    const later = judgeAction(row(), edit(2, T0 + 20, 'second'), T0 + 30);
    if (!later.ok) throw new Error();
    const both = judgeAction(later.row, edit(1, T0 + 10, 'first'), T0 + 30);
    if (!both.ok) throw new Error();
    expect(both.row.body).toBe('second');
    expect(both.row.versions?.map((v) => v.text)).toEqual(['hello', 'first', 'second']);
  });

  it('deletes for everyone: text, file, quote, versions and reactions leave the row; then no edit or reaction', () => {
    const r = row({ quote: { id: id(9), text: 'q' }, reactions: [{ by: ME, emoji: '👍', at: T0 }], attachment: { blobId: 'ab', key: new Uint8Array(32), digest: new Uint8Array(32), size: 1, mime: 'a/b', name: 'n' } });
    const v = judgeAction(r, del(T0 + 5), T0 + 6);
    if (!v.ok) throw new Error();
    expect(v.row).toEqual({ ...row(), body: '', deleted: true, updatedAt: T0 + 6 });
    expect(judgeAction(v.row, del(T0 + 7), T0 + 8)).toMatchObject({ ok: true, changed: false });
    expect(judgeAction(v.row, edit(1, T0 + 7, 'x'), T0 + 8)).toEqual({ ok: false, reason: 'deleted' });
    expect(judgeAction(v.row, react(1, T0 + 7, '👍'), T0 + 8)).toEqual({ ok: false, reason: 'deleted' });
  });

  it('keeps one reaction per person: replaced, removed, never overwritten by an older one', () => {
    let r = row({ direction: 'out' });
    const step = (a: MessageAction) => {
      const v = judgeAction(r, a, T0 + 1000);
      if (!v.ok) throw new Error(v.reason);
      r = v.row;
    };
    step(react(1, T0 + 1, '👍'));
    step(react(2, T0 + 2, '❤️', ME));
    step(react(3, T0 + 3, '😂'));
    expect(r.reactions?.map((x) => [x.by, x.emoji])).toEqual([
      [ME, '❤️'],
      [BOB, '😂'],
    ]);
    step(react(4, T0 + 1, '👎')); // older than Bob's current one: ignored
    expect(r.reactions?.find((x) => x.by === BOB)?.emoji).toBe('😂');
    step(react(5, T0 + 5, ''));
    expect(r.reactions).toEqual([{ by: ME, emoji: '❤️', at: T0 + 2 }]);
    expect(judgeAction(r, react(6, T0 + 6, '👍', CAROL), T0 + 7)).toEqual({ ok: false, reason: 'not_in_chat' });
  });

  it('property: whatever actions arrive, in any order, a message has at most 10 edits and only its author changes its text', () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('edit' as const), n: fc.nat(30), at: fc.integer({ min: T0 - 2 * CLOCK_SKEW_MS, max: T0 + ACTION_WINDOW_MS + CLOCK_SKEW_MS }), by: fc.constantFrom(BOB, CAROL, ME) }),
      fc.record({ kind: fc.constant('delete' as const), n: fc.nat(3), at: fc.integer({ min: T0, max: T0 + 2 * ACTION_WINDOW_MS }), by: fc.constantFrom(BOB, CAROL, ME) }),
      fc.record({ kind: fc.constant('react' as const), n: fc.nat(30), at: fc.integer({ min: T0, max: T0 + 1000 }), by: fc.constantFrom(BOB, CAROL, ME) }),
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
        let r = row();
        let deletedByAuthor = false;
        for (const a of actions) {
          const built: MessageAction =
            a.kind === 'edit' ? edit(a.n, a.at, `t${a.n}`, a.by) : a.kind === 'delete' ? { ...del(a.at, a.by), id: id(400 + a.n) } : react(a.n, a.at, a.n % 2 ? '👍' : '', a.by);
          const v = judgeAction(r, built, T0 + 2 * ACTION_WINDOW_MS);
          if (!v.ok) continue;
          if (v.changed && built.kind !== 'react') expect(built.by).toBe(BOB);
          if (built.kind === 'delete' && v.changed) deletedByAuthor = true;
          r = v.row;
        }
        expect((r.versions?.length ?? 1) - 1).toBeLessThanOrEqual(MAX_EDITS);
        expect(r.deleted === true).toBe(deletedByAuthor);
        if (r.deleted) expect(r.body).toBe('');
        expect(new Set((r.reactions ?? []).map((x) => x.by)).size).toBe(r.reactions?.length ?? 0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('held actions record', () => {
  it('reads back what it wrote and drops junk, expired and excess entries', () => {
    const a = edit(1, T0, 'x');
    expect(readHeld(writeHeld([{ action: a, heldAt: T0 }], T0))).toEqual([{ action: a, heldAt: T0 }]);
    for (const junk of [undefined, 3, '', '{', '{}', '[1,null,{"action":{"kind":"edit"},"heldAt":1}]']) expect(readHeld(junk)).toEqual([]);
    expect(readHeld(writeHeld([{ action: a, heldAt: T0 }], T0 + ACTION_WINDOW_MS + CLOCK_SKEW_MS + 1))).toEqual([]);
    const many = Array.from({ length: MAX_HELD_ACTIONS + 5 }, (_, i) => ({ action: edit(i, T0, 'x'), heldAt: T0 + i }));
    const kept = readHeld(writeHeld(many, T0));
    expect(kept).toHaveLength(MAX_HELD_ACTIONS);
    expect(kept[0]!.heldAt).toBe(T0 + 5);
  });
});

describe.each(ENGINES)('store (%s): actions in the receive commit', (_engine, open) => {
  const message = (envelope: number, over: Partial<IncomingCommit> = {}): IncomingCommit => ({
    envelopeId: id(envelope),
    from: BOB,
    receivedAt: T0 + 100,
    message: { id: id(1), contactId: BOB, body: 'hello', sentAt: T0 },
    ...over,
  });
  const actionCommit = (envelope: number, action: MessageAction): IncomingCommit => ({ envelopeId: id(envelope), from: BOB, receivedAt: T0 + 100, action });

  it('applies an edit atomically with its commit, and the conversation preview follows', async () => {
    const { store } = await open(() => T0 + 100);
    await store.commitIncomingBatch([message(50)]);
    expect((await store.commitIncomingBatch([actionCommit(51, edit(1, T0 + 10, 'hi'))])).results).toEqual(['committed']);
    expect((await store.getMessage(id(1)))?.body).toBe('hi');
    expect((await store.getConversation(BOB))?.lastMessage?.text).toBe('hi');
    expect(await store.processedEnvelopes([id(51)])).toEqual(new Set([id(51)]));
  });

  it('a refused action is recorded as processed and changes nothing else', async () => {
    const { store } = await open(() => T0 + 100);
    await store.commitIncomingBatch([message(50)]);
    const before = await store.getMessage(id(1));
    await store.commitIncomingBatch([actionCommit(52, edit(1, T0 + ACTION_WINDOW_MS + 1, 'late'))]);
    expect(await store.getMessage(id(1))).toEqual(before);
  });

  it('holds a delete that arrives before its message, durably (across a reopen), and applies it when the message comes', async () => {
    const opened = await open(() => T0 + 100);
    let { store } = opened;
    await store.commitIncomingBatch([actionCommit(60, del(T0 + 5))]);
    expect(await store.getMessage(id(1))).toBeUndefined();
    store = await opened.reopen();
    expect(readHeld(await store.getMeta(HELD_ACTIONS_KEY))).toHaveLength(1);
    await store.commitIncomingBatch([message(61)]);
    const r = await store.getMessage(id(1));
    expect(r).toMatchObject({ body: '', deleted: true });
    expect((await store.getConversation(BOB))?.lastMessage?.text).toBe('This message was deleted');
    expect(readHeld(await store.getMeta(HELD_ACTIONS_KEY))).toEqual([]);
  });

  it('a delete for everyone also empties the excerpt replies quoted from it', async () => {
    const { store } = await open(() => T0 + 100);
    await store.commitIncomingBatch([
      message(100),
      { envelopeId: id(101), from: BOB, receivedAt: T0 + 100, message: { id: id(2), contactId: BOB, body: 're', sentAt: T0 + 1, quote: { id: id(1), text: 'hello' } } },
    ]);
    await store.commitIncomingBatch([actionCommit(102, del(T0 + 5))]);
    expect((await store.getMessage(id(2)))?.quote).toEqual({ id: id(1), text: '' });
    expect(JSON.stringify(await store.pageMessages(BOB, { limit: 10 }))).not.toContain('hello');
  });

  it('an edit and its message in the same batch, edit first: the message arrives edited', async () => {
    const { store } = await open(() => T0 + 100);
    await store.commitIncomingBatch([actionCommit(70, edit(1, T0 + 5, 'edited')), message(71)]);
    expect((await store.getMessage(id(1)))?.body).toBe('edited');
  });

  it('refuses an action whose author is not the commit sender before any transaction', async () => {
    const { store } = await open(() => T0 + 100);
    await expect(store.commitIncomingBatch([actionCommit(80, edit(1, T0, 'x', CAROL))])).rejects.toMatchObject({ name: 'InvalidStoreInputError' });
    expect(await store.processedEnvelopes([id(80)])).toEqual(new Set());
  });

  it('delete for me removes the row and the preview on this device only', async () => {
    const { store } = await open(() => T0 + 100);
    await store.commitIncomingBatch([message(90)]);
    expect(await store.deleteMessageLocally(id(1))).toBe(true);
    expect(await store.getMessage(id(1))).toBeUndefined();
    const conv = await store.getConversation(BOB);
    expect(conv?.lastMessage).toBeUndefined();
    expect(conv?.unread).toBe(0);
    expect(await store.deleteMessageLocally(id(1))).toBe(false);
  });
});
