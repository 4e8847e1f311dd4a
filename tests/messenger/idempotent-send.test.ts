/**
 * `send` with a caller-chosen id (the keypress journal's entry id) is idempotent: the
 * same id sent again — after it committed, or concurrently — leaves one message, and
 * the other side receives it once.
 */
import { describe, expect, it } from 'vitest';
import { device, introduce, onboard, testWorld, texts, until } from './harness.ts';

const { relay, track } = testWorld();

const ID_A = 'a1'.repeat(16);
const ID_B = 'b2'.repeat(16);

describe('send with an idempotency id', () => {
  it('stores and delivers a message once however often (and however concurrently) its id is sent', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB, bSeesA } = await introduce(alice, bob);

    await alice.messenger.send(aSeesB, 'first', { id: ID_A });
    await alice.messenger.send(aSeesB, 'first', { id: ID_A });
    // Concurrent: both pass the existence check before either commits.
    await Promise.all([alice.messenger.send(aSeesB, 'second', { id: ID_B }), alice.messenger.send(aSeesB, 'second', { id: ID_B })]);
    await alice.messenger.send(aSeesB, 'second', { id: ID_B });

    expect(await texts(alice, aSeesB)).toEqual(['out:first', 'out:second']);
    expect((await alice.store.getMessage(ID_A))?.body).toBe('first');
    expect(alice.metrics.counter('messages.composed')).toBe(2);
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 2);
    expect(await texts(bob, bSeesA)).toEqual(['in:first', 'in:second']);
    await alice.messenger.openChat(aSeesB);
    await until(alice, (s) => s.chat?.messages.every((m) => m.status === 'delivered') === true);
  });

  it('refuses a malformed id with a typed error and stores nothing', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB } = await introduce(alice, bob);
    for (const id of ['', 'xyz', 'A1'.repeat(16), 'a1'.repeat(15)]) {
      await expect(alice.messenger.send(aSeesB, 'hi', { id })).rejects.toMatchObject({ kind: 'invalid_text' });
    }
    expect(await texts(alice, aSeesB)).toEqual([]);
  });
});
