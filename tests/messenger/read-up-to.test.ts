/**
 * Reading up to a message: only what the reader saw is marked read and reported to the
 * sender; newer messages stay unread until seen too.
 */
import { describe, expect, it } from 'vitest';
import { introduce, device, onboard, testWorld, until } from './harness.ts';

const { relay, track } = testWorld();

describe('markRead up to a message', () => {
  it('marks read and reports only the messages up to the one seen', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB, bSeesA } = await introduce(alice, bob);

    await alice.messenger.openChat(aSeesB);
    for (const text of ['one', 'two', 'three']) await alice.messenger.send(aSeesB, text);
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 3);
    await bob.messenger.openChat(bSeesA);
    await until(bob, (s) => s.chat?.messages.length === 3);
    const [one, two, three] = bob.messenger.getState().chat!.messages;

    await bob.messenger.markRead(bSeesA, two!.id);
    expect(bob.messenger.getState().contacts.find((c) => c.id === bSeesA)!.unread).toBe(1);
    expect(bob.messenger.getState().chat!.messages.map((m) => m.status)).toEqual(['read', 'read', 'delivered']);
    await until(alice, (s) => s.chat?.messages.filter((m) => m.status === 'read').length === 2);
    expect(alice.messenger.getState().chat!.messages.map((m) => m.status)).toEqual(['read', 'read', 'delivered']);

    // An id that is already read (or not an unread incoming one) marks nothing more.
    await bob.messenger.markRead(bSeesA, one!.id);
    await bob.messenger.markRead(bSeesA, 'ff'.repeat(16));
    expect(bob.messenger.getState().contacts.find((c) => c.id === bSeesA)!.unread).toBe(1);

    await bob.messenger.markRead(bSeesA, three!.id);
    expect(bob.messenger.getState().contacts.find((c) => c.id === bSeesA)!.unread).toBe(0);
    await until(alice, (s) => s.chat?.messages.every((m) => m.status === 'read') ?? false);
  });
});
