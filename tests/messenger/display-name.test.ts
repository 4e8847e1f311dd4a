/**
 * Changing our display name (issue 20, Settings): the identity row, `me` and new invites
 * say the new name; a bad name is refused and changes nothing. Contacts who already have
 * us learn it (an encrypted profile update), applied once; a contact's own local name for
 * us still wins; a blocked contact is not told.
 */
import { describe, expect, it } from 'vitest';
import type { MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { device, introduce, onboard, testWorld, until } from './harness.ts';

const { relay, track } = testWorld();

describe('setDisplayName', () => {
  it('changes what me and new invites say, durably; a bad name changes nothing', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    await onboard(alice, 'Alice');
    const before = alice.messenger.getState().me!;

    await alice.messenger.setDisplayName('  Alicia  ');
    const me = alice.messenger.getState().me!;
    expect(me.displayName).toBe('Alicia');
    expect(me.id).toBe(before.id);
    expect(me.inviteUrl).not.toBe(before.inviteUrl);
    expect(alice.messenger.parseInvite(me.inviteUrl)?.displayName).toBe('Alicia');
    expect((await alice.store.loadIdentity())?.displayName).toBe('Alicia');

    await expect(alice.messenger.setDisplayName('   ')).rejects.toMatchObject({ kind: 'invalid_text' });
    await expect(alice.messenger.setDisplayName('x'.repeat(65))).rejects.toMatchObject({ kind: 'invalid_text' });
    expect(alice.messenger.getState().me!.displayName).toBe('Alicia');
    expect((await alice.store.loadIdentity())?.displayName).toBe('Alicia');
  });
});

const contact = (s: MessengerState, id: string) => s.contacts.find((c) => c.id === id);

describe('a rename reaches the contacts who already have us', () => {
  it('sent encrypted to each contact with a session; applied idempotently; a local name wins; a blocked contact is not told', async () => {
    const r = await relay();
    const [alice, bob, carol, dan] = [track(device(r.url)), track(device(r.url)), track(device(r.url)), track(device(r.url))];
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    await onboard(carol, 'Carol');
    await onboard(dan, 'Dan');
    const ab = await introduce(alice, bob);
    const ac = await introduce(alice, carol);
    const ad = await introduce(alice, dan);
    // A message each way: sessions exist (without one, the session's introduction says the name).
    for (const [other, ids] of [[bob, ab], [carol, ac], [dan, ad]] as const) {
      await alice.messenger.send(ids.aSeesB, 'hi');
      await other.messenger.openChat(ids.bSeesA);
      await until(other, (s) => (s.chat?.messages ?? []).some((m) => m.text === 'hi'));
    }
    await carol.messenger.renameContact(ac.bSeesA, 'Mum');
    await alice.messenger.setBlocked(ad.aSeesB, true);

    await alice.messenger.setDisplayName('Alicia');
    await until(bob, (s) => contact(s, ab.bSeesA)?.displayName === 'Alicia');
    const onCarol = await until(carol, (s) => contact(s, ac.bSeesA)?.profileName === 'Alicia');
    expect(contact(onCarol, ac.bSeesA)?.displayName).toBe('Mum');
    expect(alice.metrics.counter('contacts.profile_sent')).toBe(2);
    // Kept: a reload still says it.
    const bob2 = track(await bob.reload());
    expect((await bob2.store.listContacts()).find((c) => c.id === ab.bSeesA)?.displayName).toBe('Alicia');

    // The same name again: sent again, changes nothing (a message sent after it arrives after it).
    await alice.messenger.setDisplayName('Alicia');
    await alice.messenger.send(ab.aSeesB, 'after');
    await bob2.messenger.openChat(ab.bSeesA);
    await until(bob2, (s) => (s.chat?.messages ?? []).some((m) => m.text === 'after'));
    expect(bob2.metrics.counter('contacts.profile_updated')).toBe(0);
    expect(contact(bob2.messenger.getState(), ab.bSeesA)?.displayName).toBe('Alicia');
    // Blocked by Alice: Dan was never told.
    expect(dan.metrics.counter('contacts.profile_updated')).toBe(0);
    expect(contact(dan.messenger.getState(), ad.bSeesA)?.displayName).toBe('Alice');
    // Carol clears her local name: Alice's own new name shows.
    await carol.messenger.renameContact(ac.bSeesA, '');
    expect(contact(carol.messenger.getState(), ac.bSeesA)?.displayName).toBe('Alicia');
  }, 60_000);
});

describe('a rename reaches our own other devices', () => {
  it("Ada renames on her second device: her first device takes the name (me, identity row), and Bo hears it once", async () => {
    const { ada1, ada2, bo, aSeesB, bSeesA } = await adaOnTwoDevices({ relay, track });
    // Sessions between all three: a message from each of Ada's devices reaches Bo (and the other device).
    await ada1.messenger.send(aSeesB, 'from one');
    await ada2.messenger.send(aSeesB, 'from two');
    await bo.messenger.openChat(bSeesA);
    await until(bo, (s) => ['from one', 'from two'].every((t) => (s.chat?.messages ?? []).some((m) => m.text === t)), 20_000);
    await until(ada1, () => ada1.metrics.counter('devices.transcript_received') >= 1, 20_000);

    await ada2.messenger.setDisplayName('Adaline');
    expect(ada2.metrics.counter('devices.own_profile_sent')).toBe(1);
    await until(ada1, (s) => s.me?.displayName === 'Adaline', 20_000);
    expect((await ada1.store.loadIdentity())?.displayName).toBe('Adaline');
    expect(ada1.messenger.parseInvite(ada1.messenger.getState().me!.inviteUrl)?.displayName).toBe('Adaline');
    await until(bo, (s) => contact(s, bSeesA)?.displayName === 'Adaline', 20_000);
    expect(bo.metrics.counter('contacts.profile_updated')).toBe(1);
  }, 90_000);
});
