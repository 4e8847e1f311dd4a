/**
 * Stored state at rest (issue 15, defect 5): rows written before the integrity tag are
 * rewritten in the checked formats when the core starts, and a damaged session row is never
 * used (counted as storage.corrupt_state): it is removed and repaired like a lost session
 * (issue 17, PROTOCOL.md §12.8) — what it should have opened is asked for again, a send
 * waits for a fresh session — while other contacts go on as usual.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../src/core/bytes.ts';
import { secureRandom } from '../../src/core/random.ts';
import { STATE_INTEGRITY_BYTES } from '../../src/core/crypto/index.ts';
import { device, introduce, onboard, testWorld, texts, until } from './harness.ts';

const { relay, track } = testWorld();

describe('stored state integrity in the running core', () => {
  it('rows of the formats without an integrity tag are rewritten on start, and the chat goes on', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    let bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB, bSeesA } = await introduce(alice, bob);
    await alice.messenger.send(aSeesB, 'one');
    await until(bob, (s) => s.contacts.some((c) => c.unread === 1));
    await bob.stop();

    // As an earlier build stored them: session set format 2 (0x54, no tag), prekey pool format 1 (no tag).
    const row = (await bob.store.getSession(bSeesA))!;
    const legacySet = concatBytes(Uint8Array.of(0x54), row.state.subarray(1, row.state.length - STATE_INTEGRITY_BYTES));
    await bob.store.commitSession({ contactId: bSeesA, expectedVersion: row.version, state: legacySet });
    const self = (await bob.store.loadIdentity())!;
    const legacyPool = concatBytes(Uint8Array.of(1), self.preKeyPool!.subarray(1, self.preKeyPool!.length - STATE_INTEGRITY_BYTES));
    await bob.store.savePreKeyPool(legacyPool);

    bob = track(await bob.reload());
    expect((await bob.store.getSession(bSeesA))!.state[0]).toBe(0x55);
    expect((await bob.store.loadIdentity())!.preKeyPool![0]).toBe(2);
    await alice.messenger.send(aSeesB, 'two');
    await bob.messenger.send(bSeesA, 'back');
    await until(bob, (s) => s.contacts.some((c) => c.lastMessage?.text === 'two'));
    await until(alice, (s) => s.contacts.some((c) => c.lastMessage?.text === 'back'));
  });

  it('contacts stored before `unnamed` existed still load; the old placeholder name becomes `unnamed` and a profile names it', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    let bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    await bob.stop();
    // As an earlier build stored them: no `unnamed` field; an unknown sender carried the placeholder as its name.
    const aliceKey = Uint8Array.from(Buffer.from(alice.messenger.getState().me!.id, 'hex'));
    const carolKey = secureRandom.bytes(32);
    await bob.store.putContact({ id: toHex(aliceKey), displayName: 'Unknown contact', identityKey: aliceKey, verification: 'unverified', addedAt: 1 });
    await bob.store.putContact({ id: toHex(carolKey), displayName: 'Carol', identityKey: carolKey, verification: 'verified', addedAt: 2 });

    bob = track(await bob.reload());
    const stored = (await bob.store.getContact(toHex(aliceKey)))!;
    expect(stored.unnamed).toBe(true);
    expect(stored.displayName).toBe('');
    expect(await bob.store.getContact(toHex(carolKey))).toEqual({ id: toHex(carolKey), displayName: 'Carol', identityKey: carolKey, verification: 'verified', addedAt: 2 });
    const before = bob.messenger.getState().contacts;
    expect(before.find((c) => c.id === toHex(aliceKey))).toMatchObject({ displayName: '', unnamed: true });
    expect(before.find((c) => c.id === toHex(carolKey))).toMatchObject({ displayName: 'Carol', verified: true });
    expect(before.find((c) => c.id === toHex(carolKey))!.unnamed).toBeUndefined();

    // Alice writes first: her profile names the contact, as it named unknown senders before.
    const aSeesB = await alice.messenger.addContact(alice.messenger.parseInvite(bob.messenger.getState().me!.inviteUrl)!);
    await alice.messenger.send(aSeesB, 'hi, it is Alice');
    const s = await until(bob, (st) => st.contacts.some((c) => c.id === toHex(aliceKey) && c.displayName === 'Alice' && c.unread === 1));
    expect(s.contacts.find((c) => c.id === toHex(aliceKey))!.unnamed).toBeUndefined();
    expect((await bob.store.getContact(toHex(aliceKey)))!.unnamed).toBeUndefined();
  });

  it('a damaged session row is never used: it is removed, the message it should have opened is asked for again, and both directions work again', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const carol = track(device(r.url));
    let bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(carol, 'Carol');
    await onboard(bob, 'Bob');
    const ab = await introduce(alice, bob);
    const cb = await introduce(carol, bob);
    await alice.messenger.send(ab.aSeesB, 'hello');
    await carol.messenger.send(cb.aSeesB, 'hi');
    await until(bob, (s) => s.contacts.filter((c) => c.unread === 1).length === 2);
    await bob.messenger.send(ab.bSeesA, 'hello back');
    await until(alice, (s) => s.contacts.some((c) => c.lastMessage?.text === 'hello back'));
    await bob.stop();

    const row = (await bob.store.getSession(ab.bSeesA))!;
    const damaged = row.state.slice();
    damaged[Math.floor(damaged.length / 2)]! ^= 0x10;
    await bob.store.commitSession({ contactId: ab.bSeesA, expectedVersion: row.version, state: damaged });

    bob = track(await bob.reload());
    // Found when the core starts (it reads every contact's sessions), removed, counted once.
    await until(bob, () => bob.metrics.counter('storage.corrupt_state', { what: 'session' }) === 1);
    expect(await bob.store.getSession(ab.bSeesA)).toBeUndefined();

    // Alice still writes on the session Bob lost: Bob asks for it again, Alice re-sends it under a fresh session.
    await alice.messenger.send(ab.aSeesB, 'after the damage');
    await carol.messenger.send(cb.aSeesB, 'carol again');
    await until(bob, (s) => s.contacts.some((c) => c.id === cb.bSeesA && c.lastMessage?.text === 'carol again'));
    await until(bob, (s) => s.contacts.some((c) => c.id === ab.bSeesA && c.lastMessage?.text === 'after the damage'));
    expect(bob.metrics.counter('repair.requested', { reason: 'no_session' })).toBeGreaterThanOrEqual(1);
    expect(alice.metrics.counter('repair.resent')).toBe(1);
    // And Bob can write to Alice again (no corrupt_state refusal).
    await bob.messenger.send(ab.bSeesA, 'to Alice');
    await until(alice, (s) => s.contacts.some((c) => c.lastMessage?.text === 'to Alice'));
    expect(await texts(bob, ab.bSeesA)).toEqual(['in:hello', 'out:hello back', 'in:after the damage', 'out:to Alice']);
    expect(await texts(alice, ab.aSeesB)).toEqual(['out:hello', 'in:hello back', 'out:after the damage', 'in:to Alice']);
    // The damaged bytes are gone for good: the row now holds the fresh session, intact.
    const now = (await bob.store.getSession(ab.bSeesA))!;
    expect(now.state).not.toEqual(damaged);
    expect(bob.metrics.counter('storage.corrupt_state', { what: 'session' })).toBe(1);
    expect(bob.metrics.counter('crypto.failure', { reason: 'authentication_failed' })).toBe(0);
  });
});
