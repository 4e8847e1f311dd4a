/**
 * The whole core end to end in Node: two people, real crypto, real relay on loopback.
 */
import { describe, expect, it, vi } from 'vitest';
import { deserializePreKeyPool, limits } from '../../src/core/crypto/index.ts';
import { startTestRelay } from '../relay/helpers/relay-harness.ts';
import { device, introduce, onboard, testWorld, texts, until } from './harness.ts';

const { relay, track, defer } = testWorld();

describe('messenger over the real relay', () => {
  it('a new identity starts with a few one-time prekeys and tops up to the target in the background', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    await alice.messenger.start();
    await alice.messenger.createIdentity('Alice');
    const published = () => alice.logs.recent().filter((l) => l.msg === 'prekeys published' || l.msg === 'prekeys replenished');
    await until(alice, () => published().length === 2);
    const initial = limits.INITIAL_ONE_TIME_PREKEYS;
    const topUp = limits.ONE_TIME_PREKEY_TARGET - initial;
    // First the few keys made before the first screen, then the rest, once, as one upload.
    expect(published().map((l) => [l.msg, l.fields])).toEqual([
      ['prekeys published', { opks: initial, pqopks: initial }],
      ['prekeys replenished', { opks: topUp, pqopks: topUp }],
    ]);
    const pool = deserializePreKeyPool((await alice.store.loadIdentity())!.preKeyPool!).data;
    expect(pool.oneTimePreKeys).toHaveLength(limits.ONE_TIME_PREKEY_TARGET);
    expect(pool.pqOneTimePreKeys).toHaveLength(limits.ONE_TIME_PREKEY_TARGET);
  });

  it('a new user never sees "offline" before a connection attempt failed: connecting, then online', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const seen: string[] = [];
    const note = () => {
      const kind = alice.messenger.getState().connection.kind;
      if (seen.at(-1) !== kind) seen.push(kind);
    };
    note();
    const unsubscribe = alice.messenger.subscribe(note);
    await alice.messenger.start();
    await alice.messenger.createIdentity('Alice');
    await until(alice, (s) => s.connection.kind === 'online');
    unsubscribe();
    expect(seen).toEqual(['connecting', 'online']);
  });

  it('two people chat both ways; statuses reach delivered and read; nothing shown twice', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB, bSeesA } = await introduce(alice, bob);

    await alice.messenger.openChat(aSeesB);
    await alice.messenger.send(aSeesB, 'hello Bob');
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 1);
    await until(alice, (s) => s.chat?.messages[0]?.status === 'delivered');

    await bob.messenger.openChat(bSeesA);
    await bob.messenger.markRead(bSeesA);
    await until(alice, (s) => s.chat?.messages[0]?.status === 'read');

    for (let i = 0; i < 5; i++) await bob.messenger.send(bSeesA, `reply ${i}`);
    await until(alice, (s) => (s.chat?.messages.length ?? 0) === 6);
    await until(bob, (s) => s.chat?.messages.filter((m) => m.status === 'delivered').length === 5);

    expect(await texts(alice, aSeesB)).toEqual(['out:hello Bob', 'in:reply 0', 'in:reply 1', 'in:reply 2', 'in:reply 3', 'in:reply 4']);
    expect(await texts(bob, bSeesA)).toEqual(['in:hello Bob', 'out:reply 0', 'out:reply 1', 'out:reply 2', 'out:reply 3', 'out:reply 4']);
    expect(alice.metrics.counter('crypto.failure')).toBe(0);
    expect(bob.metrics.counter('crypto.failure')).toBe(0);
    const sa = await alice.messenger.safetyNumber(aSeesB);
    const sb = await bob.messenger.safetyNumber(bSeesA);
    expect(sa.digits).toMatch(/^\d{60}$/);
    expect(sa.digits).toBe(sb.digits);
  });

  it('delivery latency is observed once per delivered message, whether or not its chat is open', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB } = await introduce(alice, bob);
    // Alice never opens the chat: the receipts still reach her store and her metrics.
    for (let i = 0; i < 4; i++) await alice.messenger.send(aSeesB, `m${i}`);
    const latency = () => alice.metrics.snapshot().histograms['delivery.latency'];
    await vi.waitFor(() => expect(latency()?.count).toBe(4), { timeout: 10_000 });
    const page = await alice.store.pageMessages(aSeesB, { limit: 10 });
    expect(page.messages.map((m) => m.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect(latency()!.max).toBeLessThan(10_000);
  });

  it('a first message to someone who never added us names us through the profile', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const aSeesB = await alice.messenger.addContact(alice.messenger.parseInvite(bob.messenger.getState().me!.inviteUrl)!);
    await alice.messenger.send(aSeesB, 'hi, it is Alice');
    const s = await until(bob, (st) => st.contacts.some((c) => c.displayName === 'Alice' && c.unread === 1));
    const contact = s.contacts.find((c) => c.displayName === 'Alice')!;
    expect(await texts(bob, contact.id)).toEqual(['in:hi, it is Alice']);
  });

  it('messages composed while the recipient is away arrive in order when they come back, after a reload', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    let bob = device(r.url);
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB, bSeesA } = await introduce(alice, bob);
    await bob.stop();
    for (let i = 0; i < 20; i++) await alice.messenger.send(aSeesB, `m${i}`);
    await alice.messenger.openChat(aSeesB);
    await until(alice, (s) => s.chat?.messages.filter((m) => m.status === 'sent').length === 20);
    bob = track(await bob.reload());
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 20);
    expect(await texts(bob, bSeesA)).toEqual(Array.from({ length: 20 }, (_, i) => `in:m${i}`));
    await until(alice, (s) => s.chat?.messages.every((m) => m.status === 'delivered') ?? false);
  });

  it('messages composed offline wait in the outbox and go when the relay is back', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB, bSeesA } = await introduce(alice, bob);
    await alice.messenger.send(aSeesB, 'before');
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 1);
    await r.stop({ keepData: true });
    await until(alice, (s) => s.connection.kind !== 'online');
    for (let i = 0; i < 3; i++) await alice.messenger.send(aSeesB, `offline ${i}`);
    await alice.messenger.openChat(aSeesB);
    expect(alice.messenger.getState().chat!.messages.slice(1).map((m) => m.status)).toEqual(['queued', 'queued', 'queued']);
    const again = await startTestRelay({ PETREL_LOG_LEVEL: 'silent', PORT: String(new URL(r.url).port) }, r.dataDir);
    defer(() => again.stop());
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 4, 15_000);
    expect(await texts(bob, bSeesA)).toEqual(['in:before', 'in:offline 0', 'in:offline 1', 'in:offline 2']);
  });

  it('an invite with another key under a known name is a separate contact, flagged and blocked until acknowledged', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const bob = track(device(r.url));
    const bob2 = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    await onboard(bob2, 'Bob');
    const id = await alice.messenger.addContact(alice.messenger.parseInvite(bob.messenger.getState().me!.inviteUrl)!);
    const other = await alice.messenger.addContact(alice.messenger.parseInvite(bob2.messenger.getState().me!.inviteUrl)!);
    expect(other).not.toBe(id);
    expect(alice.messenger.getState().contacts.find((c) => c.id === other)).toMatchObject({ keyChanged: true, possibleKeyChangeOf: id });
    expect(alice.messenger.getState().contacts.find((c) => c.id === id)!.keyChanged).toBe(false);
    await expect(alice.messenger.send(other, 'hi')).rejects.toMatchObject({ kind: 'key_change_unacknowledged' });
    await alice.messenger.acknowledgeKeyChange(other);
    expect(alice.messenger.getState().contacts.find((c) => c.id === other)!.keyChanged).toBe(false);
    await alice.messenger.send(other, 'hi new Bob');
    await until(bob2, (s) => s.contacts.some((c) => c.unread === 1));
  });
});
