/**
 * A known name with another identity key: from an invite (a reinstall, an impostor, or a
 * damaged copy of the real invite) or from an unknown sender's profile. A contact's key
 * never changes: the other key is a contact of its own, flagged and blocked for sending
 * until the user acknowledges it, and the existing contact's session and conversation go
 * on untouched, nothing dropped.
 */
import { describe, expect, it, vi } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { isValidIdentityKey } from '../../src/core/crypto/index.ts';
import type { TestRelay } from '../relay/helpers/relay-harness.ts';
import { device, introduce, onboard, testWorld, texts, until, type Device } from './harness.ts';

const { relay, track } = testWorld();

function cryptoFailures(d: Device): number {
  return Object.entries(d.metrics.snapshot().counters)
    .filter(([k]) => k.startsWith('crypto.failure'))
    .reduce((n, [, v]) => n + v, 0);
}

/** Alice and Bob chatted both ways (one session each side, receipts exchanged). */
async function chatted(r: TestRelay) {
  const alice = track(device(r.url));
  const bob = track(device(r.url));
  await onboard(alice, 'Alice');
  await onboard(bob, 'Bob');
  const { aSeesB, bSeesA } = await introduce(alice, bob);
  await alice.messenger.openChat(aSeesB);
  await alice.messenger.send(aSeesB, 'hello old Bob');
  await until(alice, (s) => s.chat?.messages[0]?.status === 'delivered');
  await bob.messenger.send(bSeesA, 'hi Alice');
  await until(alice, (s) => s.chat?.messages.length === 2);
  expect(await alice.store.getSession(aSeesB)).toBeDefined();
  return { alice, bob, aSeesB };
}

describe('an invite with another key under a known name (issue 15, defect 4)', () => {
  it('is a contact of its own, flagged and blocked until acknowledged; the existing contact keeps its key, session and conversation', async () => {
    const r = await relay();
    const { alice, bob, aSeesB } = await chatted(r);
    const bobSeesA = bob.messenger.getState().contacts[0]!.id;
    const sessionBefore = (await alice.store.getSession(aSeesB))!;
    // A new identity under the same name: Bob on a new device, or someone posing as him.
    const bob2 = track(device(r.url));
    await onboard(bob2, 'Bob');

    const id = await alice.messenger.addContact(alice.messenger.parseInvite(bob2.messenger.getState().me!.inviteUrl)!);
    expect(id).not.toBe(aSeesB);
    const contacts = alice.messenger.getState().contacts;
    expect(contacts.find((c) => c.id === id)).toMatchObject({ keyChanged: true, possibleKeyChangeOf: aSeesB });
    expect(contacts.find((c) => c.id === aSeesB)).toMatchObject({ keyChanged: false, displayName: 'Bob' });
    expect(toHex((await alice.store.getContact(aSeesB))!.identityKey)).toBe(aSeesB);
    // The existing session is untouched, and the existing conversation keeps working both ways.
    expect((await alice.store.getSession(aSeesB))!.version).toBeGreaterThanOrEqual(sessionBefore.version);
    await alice.messenger.send(aSeesB, 'still you?');
    await bob.messenger.send(bobSeesA, 'still me');
    await until(alice, (s) => s.chat?.messages.some((m) => m.text === 'still me') ?? false);
    await until(alice, (s) => s.chat?.messages.find((m) => m.text === 'still you?')?.status === 'delivered');
    expect(await texts(alice, aSeesB)).toEqual(['out:hello old Bob', 'in:hi Alice', 'out:still you?', 'in:still me']);

    // Nothing goes to the new key before the user says so; then it is an ordinary contact.
    await expect(alice.messenger.send(id, 'too early')).rejects.toMatchObject({ kind: 'key_change_unacknowledged' });
    await alice.messenger.acknowledgeKeyChange(id);
    expect(alice.messenger.getState().contacts.find((c) => c.id === id)).toMatchObject({ keyChanged: false });
    await alice.messenger.send(id, 'hi new Bob');
    const s = await until(bob2, (st) => st.contacts.some((c) => c.displayName === 'Alice' && c.unread === 1));
    expect(await texts(bob2, s.contacts.find((c) => c.displayName === 'Alice')!.id)).toEqual(['in:hi new Bob']);
    expect(cryptoFailures(alice)).toBe(0);
    expect(cryptoFailures(bob2)).toBe(0);
  });

  it('a damaged copy of a contact’s invite (another key, same name) takes nothing over: the real contact’s next message is shown, none dropped', async () => {
    const r = await relay();
    const { alice, bob, aSeesB } = await chatted(r);
    const bobSeesA = bob.messenger.getState().contacts[0]!.id;
    const real = alice.messenger.parseInvite(bob.messenger.getState().me!.inviteUrl)!;
    // A key with a few bytes changed that still decodes as a point (the old format had no check).
    let damaged: Uint8Array | undefined;
    for (let i = 0; !damaged; i++) {
      const k = real.identityKey.slice();
      k[3]! ^= i + 1;
      k[4]! ^= 0x5a;
      if (isValidIdentityKey(k)) damaged = k;
    }
    const id = await alice.messenger.addContact({ ...real, identityKey: damaged });
    expect(id).not.toBe(aSeesB);
    expect(toHex((await alice.store.getContact(aSeesB))!.identityKey)).toBe(aSeesB);

    await bob.messenger.send(bobSeesA, 'the real Bob again');
    await vi.waitFor(async () => expect(await texts(alice, aSeesB)).toContain('in:the real Bob again'), { timeout: 10_000, interval: 20 });
    expect(alice.metrics.counter('crypto.failure', { reason: 'superseded_identity' })).toBe(0);
    expect(cryptoFailures(alice)).toBe(0);
  });

  it('an invite whose key can be nobody’s is refused with a typed error and changes nothing', async () => {
    const r = await relay();
    const { alice, aSeesB } = await chatted(r);
    const weak = new Uint8Array(32);
    weak[0] = 1;
    await expect(alice.messenger.addContact({ identityKey: weak, displayName: 'Bob', relay: r.url })).rejects.toMatchObject({ kind: 'invalid_invite_key' });
    expect(alice.messenger.getState().contacts.map((c) => c.id)).toEqual([aSeesB]);
  });
});

describe('an unknown sender claiming the name of an existing contact', () => {
  it('is its own contact, flagged as possibly the other one, and blocked for sending until acknowledged', async () => {
    const r = await relay();
    const { alice, bob, aSeesB } = await chatted(r);
    await bob.stop();
    const bob2 = track(device(r.url));
    await onboard(bob2, 'Bob');
    // New Bob writes first: Alice never saw his invite.
    const b2SeesA = await bob2.messenger.addContact(bob2.messenger.parseInvite(alice.messenger.getState().me!.inviteUrl)!);
    await bob2.messenger.send(b2SeesA, 'new phone, it is me');

    const s = await until(alice, (st) => st.contacts.some((c) => c.id !== aSeesB && c.displayName === 'Bob'));
    const newcomer = s.contacts.find((c) => c.id !== aSeesB)!;
    expect(newcomer).toMatchObject({ displayName: 'Bob', keyChanged: true, possibleKeyChangeOf: aSeesB, unread: 1 });
    // The existing Bob is untouched.
    expect(s.contacts.find((c) => c.id === aSeesB)).toMatchObject({ displayName: 'Bob', keyChanged: false });
    expect(s.contacts.find((c) => c.id === aSeesB)!.possibleKeyChangeOf).toBeUndefined();
    expect(await texts(alice, newcomer.id)).toEqual(['in:new phone, it is me']);
    await expect(alice.messenger.send(newcomer.id, 'hi?')).rejects.toMatchObject({ kind: 'key_change_unacknowledged' });

    await alice.messenger.acknowledgeKeyChange(newcomer.id);
    expect(alice.messenger.getState().contacts.find((c) => c.id === newcomer.id)).toMatchObject({ keyChanged: false, request: true });
    expect(alice.messenger.getState().contacts.find((c) => c.id === newcomer.id)!.possibleKeyChangeOf).toBeUndefined();
    // New Bob wrote first, so he is a message request (issue 20): replying waits for Accept.
    await expect(alice.messenger.send(newcomer.id, 'hi?')).rejects.toMatchObject({ kind: 'message_request_pending' });
    await alice.messenger.acceptRequest(newcomer.id);
    // The reset leaves the old conversation marked ended, and the two Bobs apart.
    const after = alice.messenger.getState().contacts;
    expect(after.find((c) => c.id === aSeesB)).toMatchObject({ displayName: 'Bob', ended: true, nameDetail: 'ended' });
    expect(after.find((c) => c.id === newcomer.id)).toMatchObject({ displayName: 'Bob', nameDetail: 'new' });
    expect(after.find((c) => c.id === newcomer.id)!.request).toBeUndefined();
    await alice.messenger.send(newcomer.id, 'welcome back');
    await until(bob2, (st) => st.contacts.find((c) => c.id === b2SeesA)?.unread === 1);
    expect(await texts(bob2, b2SeesA)).toEqual(['out:new phone, it is me', 'in:welcome back']);
  });
});
