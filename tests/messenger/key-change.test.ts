/**
 * A contact reinstalls (new identity key, same name). Nothing may go to the new key on
 * the old Double Ratchet session, nothing may go before the user acknowledges the
 * change, and after the acknowledgement the next message starts a fresh session with
 * the new key's bundle and is delivered to the new device.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { mailboxAddress } from '../../src/core/wire/index.ts';
import { startTestRelay, type TestRelay } from '../relay/helpers/relay-harness.ts';
import { device, introduce, onboard, testWorld, texts, until, type Device } from './harness.ts';

const { relay, track, defer } = testWorld();

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

describe('identity key change of a contact with a session', () => {
  it('blocks sending until acknowledged, then a fresh session with the new key delivers to the new device', async () => {
    const r = await relay();
    const { alice, bob, aSeesB } = await chatted(r);
    // Bob reinstalls: a new identity under the same name; the old device is gone.
    await bob.stop();
    const bob2 = track(device(r.url));
    await onboard(bob2, 'Bob');

    const id = await alice.messenger.addContact(alice.messenger.parseInvite(bob2.messenger.getState().me!.inviteUrl)!);
    expect(id).toBe(aSeesB);
    const view = alice.messenger.getState().contacts.find((c) => c.id === id)!;
    expect(view).toMatchObject({ keyChanged: true });
    // The old session is gone with the key change (one transaction): nothing can be encrypted to the new key with it.
    expect(await alice.store.getSession(id)).toBeUndefined();
    await expect(alice.messenger.send(id, 'too early')).rejects.toMatchObject({ kind: 'key_change_unacknowledged' });

    await alice.messenger.acknowledgeKeyChange(id);
    expect(alice.messenger.getState().contacts.find((c) => c.id === id)).toMatchObject({ keyChanged: false });
    await alice.messenger.send(id, 'hi new Bob');

    const s = await until(bob2, (st) => st.contacts.some((c) => c.displayName === 'Alice' && c.unread === 1));
    const bob2SeesA = s.contacts.find((c) => c.displayName === 'Alice')!.id;
    expect(await texts(bob2, bob2SeesA)).toEqual(['in:hi new Bob']);
    await until(alice, (st) => st.chat?.messages.at(-1)?.status === 'delivered');
    expect(cryptoFailures(bob2)).toBe(0);
    expect(cryptoFailures(alice)).toBe(0);
  });

  it('a message still queued for the old key waits for the acknowledgement and is re-encrypted for the new key', async () => {
    const r = await relay();
    const { alice, bob, aSeesB } = await chatted(r);
    await bob.stop();
    const bob2 = track(device(r.url));
    await onboard(bob2, 'Bob');
    const invite = alice.messenger.parseInvite(bob2.messenger.getState().me!.inviteUrl)!;

    // Alice goes offline; a message is encrypted on the old session and waits in her outbox.
    await r.stop({ keepData: true });
    await until(alice, (s) => s.connection.kind !== 'online');
    await alice.messenger.send(aSeesB, 'queued for Bob');
    const [queued] = await alice.store.dueOutbox(Number.MAX_SAFE_INTEGER, 10);
    expect(queued?.state).toBe('ready');

    await alice.messenger.addContact(invite);
    const [requeued] = await alice.store.pendingJobs(aSeesB);
    // Back to waiting for a session, no old-session bytes kept, addressed to the new key's mailbox.
    expect(requeued).toMatchObject({ envelopeId: queued!.envelopeId, state: 'pending_session' });
    expect(requeued!.envelope).toBeUndefined();
    expect(toHex(requeued!.mailbox)).toBe(toHex(mailboxAddress(invite.identityKey)));

    const again = await startTestRelay({ PETREL_LOG_LEVEL: 'silent', PORT: String(new URL(r.url).port) }, r.dataDir);
    defer(() => again.stop());
    await until(alice, (s) => s.connection.kind === 'online', 15_000);
    await until(bob2, (s) => s.connection.kind === 'online', 15_000);
    // Online, but not acknowledged: nothing leaves for the new key.
    await alice.messenger.openChat(aSeesB);
    await alice.messenger.idle();
    expect(alice.messenger.getState().chat!.messages.at(-1)).toMatchObject({ text: 'queued for Bob', status: 'queued' });
    expect((await alice.store.pendingJobs(aSeesB)).map((j) => j.state)).toEqual(['pending_session']);

    await alice.messenger.acknowledgeKeyChange(aSeesB);
    await alice.messenger.send(aSeesB, 'and this one');
    const s = await until(bob2, (st) => st.contacts.some((c) => c.displayName === 'Alice' && c.unread === 2), 15_000);
    expect(await texts(bob2, s.contacts[0]!.id)).toEqual(['in:queued for Bob', 'in:and this one']);
    await until(alice, (st) => st.chat?.messages.slice(-2).every((m) => m.status === 'delivered') ?? false);
    expect(cryptoFailures(bob2)).toBe(0);
  });

  it('the old device writing after the change is refused: no second contact, nothing shown, counted', async () => {
    const r = await relay();
    const { alice, bob, aSeesB } = await chatted(r);
    const bobSeesA = bob.messenger.getState().contacts[0]!.id;
    const bob2 = track(device(r.url));
    await onboard(bob2, 'Bob');
    await alice.messenger.addContact(alice.messenger.parseInvite(bob2.messenger.getState().me!.inviteUrl)!);

    await bob.messenger.send(bobSeesA, 'from the old phone');
    await until(alice, () => alice.metrics.counter('crypto.failure', { reason: 'superseded_identity' }) === 1);
    await alice.messenger.idle();
    expect(alice.messenger.getState().contacts.map((c) => c.id)).toEqual([aSeesB]);
    expect(await texts(alice, aSeesB)).toEqual(['out:hello old Bob', 'in:hi Alice']);
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
    expect(alice.messenger.getState().contacts.find((c) => c.id === newcomer.id)).toMatchObject({ keyChanged: false });
    expect(alice.messenger.getState().contacts.find((c) => c.id === newcomer.id)!.possibleKeyChangeOf).toBeUndefined();
    await alice.messenger.send(newcomer.id, 'welcome back');
    await until(bob2, (st) => st.contacts.find((c) => c.id === b2SeesA)?.unread === 1);
    expect(await texts(bob2, b2SeesA)).toEqual(['out:new phone, it is me', 'in:welcome back']);
  });
});
