/**
 * Message actions between two real cores through a real relay: a reply carries its quote,
 * an edit and a delete for everyone change the other side's stored row, reactions show on
 * both sides, delete for me stays local; refusals are typed and change nothing. The
 * receiving side's own check is exercised directly (a forged action cannot be sent through
 * a well-behaved core).
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/bytes.ts';
import { createLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import type { MessengerContext } from '../../src/core/messenger/context.ts';
import { admitReceivedAction } from '../../src/core/messenger/receive-action.ts';
import { ACTION_WINDOW_MS } from '../../src/core/store/message-actions.ts';
import { createMemoryStore, type ContactRecord } from '../../src/core/store/index.ts';
import { device, introduce, onboard, testWorld, until } from './harness.ts';

const { relay, track } = testWorld();

async function pair() {
  const r = await relay();
  const alice = track(device(r.url));
  const bob = track(device(r.url));
  await onboard(alice, 'Alice');
  await onboard(bob, 'Bob');
  const ids = await introduce(alice, bob);
  await alice.messenger.openChat(ids.aSeesB);
  await bob.messenger.openChat(ids.bSeesA);
  return { alice, bob, ...ids };
}

describe('message actions between two devices', () => {
  it('reply, edit, react and delete for everyone reach the other side; delete for me stays local', async () => {
    const { alice, bob, aSeesB, bSeesA } = await pair();
    const M = 'a1'.repeat(16);
    await alice.messenger.send(aSeesB, 'see you at 5', { id: M });
    await until(bob, (s) => s.chat?.messages.some((m) => m.id === M) === true);

    // Reply with a quote.
    const R = 'b1'.repeat(16);
    await bob.messenger.send(bSeesA, 'make it 6', { id: R, replyTo: M });
    const withReply = await until(alice, (s) => s.chat?.messages.some((m) => m.id === R) === true);
    expect(withReply.chat!.messages.find((m) => m.id === R)!.quote).toEqual({ id: M, text: 'see you at 5' });

    // Edit: Bob's stored row changes, with its history.
    await alice.messenger.editMessage(M, 'see you at 6', { id: 'e1'.repeat(16) });
    await until(bob, (s) => s.chat?.messages.find((m) => m.id === M)?.text === 'see you at 6');
    expect((await bob.store.getMessage(M))?.versions?.map((v) => v.text)).toEqual(['see you at 5', 'see you at 6']);
    expect(alice.messenger.getState().chat!.messages.find((m) => m.id === M)!.versions).toHaveLength(2);
    // The same edit id again (a resent command) does nothing more.
    await alice.messenger.editMessage(M, 'see you at 6', { id: 'e1'.repeat(16) });
    expect((await alice.store.getMessage(M))?.versions).toHaveLength(2);

    // Reactions, one per person, on both sides.
    await bob.messenger.react(M, '👍');
    await until(alice, (s) => s.chat?.messages.find((m) => m.id === M)?.reactions?.[0]?.emoji === '👍');
    await alice.messenger.react(M, '❤️');
    const both = await until(bob, (s) => s.chat?.messages.find((m) => m.id === M)?.reactions?.length === 2);
    expect(both.chat!.messages.find((m) => m.id === M)!.reactions).toEqual([
      { emoji: '👍', mine: true },
      { emoji: '❤️', mine: false },
    ]);
    await bob.messenger.react(M, '😂');
    await until(alice, (s) => s.chat?.messages.find((m) => m.id === M)?.reactions?.find((x) => !x.mine)?.emoji === '😂');

    // Delete for everyone: the text leaves both stores.
    await alice.messenger.deleteForEveryone(M);
    await until(bob, (s) => s.chat?.messages.find((m) => m.id === M)?.deleted === true);
    for (const d of [alice, bob]) {
      const row = await d.store.getMessage(M);
      expect(row).toMatchObject({ body: '', deleted: true });
      expect(JSON.stringify(row)).not.toContain('see you');
    }
    expect(bob.metrics.counter('receive.action', { kind: 'delete' })).toBe(1);
    // The reply's quoted excerpt of it is gone from both stores too.
    for (const d of [alice, bob]) expect((await d.store.getMessage(R))?.quote).toEqual({ id: M, text: '' });

    // Delete for me: gone here, still there.
    await bob.messenger.deleteForMe(R);
    expect(await bob.store.getMessage(R)).toBeUndefined();
    expect(await alice.store.getMessage(R)).toBeDefined();
  });

  it('refuses with typed errors and changes nothing: not own, over 10 edits, not one emoji, unknown message', async () => {
    const { alice, bob, aSeesB } = await pair();
    const M = 'a2'.repeat(16);
    await alice.messenger.send(aSeesB, 'v0', { id: M });
    await until(bob, (s) => s.chat?.messages.some((m) => m.id === M) === true);
    await expect(bob.messenger.editMessage(M, 'mine now')).rejects.toMatchObject({ kind: 'action_refused', reason: 'not_author' });
    await expect(bob.messenger.deleteForEveryone(M)).rejects.toMatchObject({ kind: 'action_refused', reason: 'not_author' });
    await expect(bob.messenger.react(M, 'ab')).rejects.toMatchObject({ kind: 'action_refused', reason: 'invalid' });
    await expect(bob.messenger.react(M, '👍👍')).rejects.toMatchObject({ kind: 'action_refused', reason: 'invalid' });
    await expect(alice.messenger.editMessage('ff'.repeat(16), 'x')).rejects.toMatchObject({ kind: 'action_refused', reason: 'unknown_message' });
    await expect(alice.messenger.editMessage(M, '   ')).rejects.toMatchObject({ kind: 'action_refused', reason: 'invalid' });
    for (let i = 1; i <= 10; i++) await alice.messenger.editMessage(M, `v${i}`);
    await expect(alice.messenger.editMessage(M, 'v11')).rejects.toMatchObject({ kind: 'action_refused', reason: 'too_many_edits' });
    await until(bob, (s) => s.chat?.messages.find((m) => m.id === M)?.text === 'v10');
    expect((await alice.store.getMessage(M))?.body).toBe('v10');
  });
});

describe('the receiving side judges every action', () => {
  const BOB = 'b0'.repeat(32);
  const T0 = 1_700_000_000_000;
  const contact: ContactRecord = { id: BOB, displayName: 'Bob', identityKey: fromHex(BOB), verification: 'unverified', addedAt: T0 };

  async function rig() {
    const store = createMemoryStore({ now: () => T0 });
    const metrics = new InMemoryMetrics();
    await store.commitIncomingBatch([{ envelopeId: '01'.repeat(16), from: BOB, receivedAt: T0, message: { id: '11'.repeat(16), contactId: BOB, body: 'hers', sentAt: T0 } }]);
    await store.commitPendingOutgoing({ message: { id: '22'.repeat(16), contactId: BOB, body: 'mine', sentAt: T0 }, job: { envelopeId: '02'.repeat(16), mailbox: new Uint8Array(32), plaintext: new Uint8Array(1) } });
    const ctx = { store, metrics, log: createLogger(() => {}) } as unknown as MessengerContext;
    return { ctx, metrics };
  }
  const edit = (to: string, ts: number, text = 'x') => ({ t: 'edit' as const, id: fromHex('33'.repeat(16)), ts, to: fromHex(to), text, fallback: '' });

  it('refuses (typed, counted) an edit of our own message, a late one, a forged reaction; holds one for an unknown message', async () => {
    const { ctx, metrics } = await rig();
    expect(await admitReceivedAction(ctx, contact, edit('22'.repeat(16), T0 + 1), T0 + 2)).toBeUndefined();
    expect(metrics.counter('receive.action.refused', { reason: 'not_author' })).toBe(1);
    expect(await admitReceivedAction(ctx, contact, edit('11'.repeat(16), T0 + ACTION_WINDOW_MS + 1), T0 + ACTION_WINDOW_MS + 1)).toBeUndefined();
    expect(metrics.counter('receive.action.refused', { reason: 'too_late' })).toBe(1);
    const badEmoji = { t: 'react' as const, id: fromHex('44'.repeat(16)), ts: T0, to: fromHex('11'.repeat(16)), emoji: 'not an emoji', fallback: '' };
    expect(await admitReceivedAction(ctx, contact, badEmoji, T0)).toBeUndefined();
    expect(metrics.counter('receive.action.refused', { reason: 'invalid' })).toBe(1);
    expect(await admitReceivedAction(ctx, contact, edit('11'.repeat(16), T0 + 1), T0 + 2)).toMatchObject({ kind: 'edit', by: BOB });
    expect(await admitReceivedAction(ctx, contact, edit('99'.repeat(16), T0 + 1), T0 + 2)).toMatchObject({ kind: 'edit' });
    expect(metrics.counter('receive.action.held', { kind: 'edit' })).toBe(1);
  });
});
