/**
 * Crash consistency at the messenger level: the core is stopped and a new one started
 * over the same store (all that survives a crash or reload) between the steps of a send
 * and of a receive. Afterwards the same envelope bytes are resent (never re-encrypted),
 * the receiver shows the message exactly once, and the statuses end where they should.
 * (tests/store/crash-consistency.test.ts cuts inside single store transactions.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { identityFromSeed } from '../../src/core/crypto/index.ts';
import { mailboxAddress } from '../../src/core/wire/index.ts';
import type { IdentityRecord, PetrelStore, SentCommitted, SentReport } from '../../src/core/store/index.ts';
import { befriend, bodies, ClockedWorld, makeIdentity, type ClockedDevice } from './clocked-world.ts';

let ALICE: IdentityRecord;
let BOB: IdentityRecord;
beforeAll(() => {
  ALICE = makeIdentity('Alice', 31);
  BOB = makeIdentity('Bob', 32);
}, 60_000);

/** Alice and Bob with a session both ways (a first message each, delivered). */
async function chatting(world: ClockedWorld, options: { alice?: (s: PetrelStore) => PetrelStore } = {}) {
  const alice = await world.device(ALICE, options.alice ? { wrapStore: options.alice } : {});
  const bob = await world.device(BOB);
  const { aSeesB, bSeesA } = await befriend(alice, bob);
  await alice.messenger.send(aSeesB, 'hi');
  await bob.messenger.send(bSeesA, 'hello');
  await world.until(async () => (await status(alice, aSeesB, 'hi')) === 'delivered' && (await status(bob, bSeesA, 'hello')) === 'delivered');
  return { alice, bob, aSeesB, bSeesA };
}

async function status(d: ClockedDevice, contactId: string, body: string): Promise<string | undefined> {
  return (await d.store.pageMessages(contactId, { limit: 50 })).messages.find((m) => m.body === body)?.status;
}

async function shownIncoming(d: ClockedDevice, contactId: string): Promise<string[]> {
  return (await bodies(d, contactId)).filter((b) => b.startsWith('in:'));
}

/** The stored envelope of the message `body` (its outbox entry). */
async function storedEnvelope(d: ClockedDevice, contactId: string, body: string): Promise<{ id: string; bytes: Uint8Array }> {
  const m = (await d.store.pageMessages(contactId, { limit: 50 })).messages.find((x) => x.body === body)!;
  const entry = (await d.store.dueOutbox(Number.MAX_SAFE_INTEGER, 500)).find((e) => e.envelopeId === m.envelopeId)!;
  return { id: entry.envelopeId, bytes: entry.envelope! };
}

function depositsOf(world: ClockedWorld, envelopeId: string): string[] {
  return world.relay.deposits.filter((e) => toHex(e.id) === envelopeId).map((e) => toHex(e.body));
}

describe('a send interrupted by a restart', () => {
  it('after the commit, before anything was transmitted: the new core sends the stored bytes once', async () => {
    const world = new ClockedWorld(41);
    const c = await chatting(world);
    const { bob, aSeesB, bSeesA } = c;
    let alice = c.alice;
    await alice.messenger.send(aSeesB, 'interrupted');
    const stored = await storedEnvelope(alice, aSeesB, 'interrupted');
    alice = await alice.restart(); // the clock has not moved: nothing reached the relay
    expect(depositsOf(world, stored.id)).toEqual([]);

    await world.until(async () => (await status(alice, aSeesB, 'interrupted')) === 'delivered');
    expect(depositsOf(world, stored.id)).toEqual([toHex(stored.bytes)]);
    expect(await shownIncoming(bob, bSeesA)).toEqual(['in:hi', 'in:interrupted']);
    await alice.messenger.stop();
    await bob.messenger.stop();
  });

  it('after the relay answered `sent`, before markSent committed: the same bytes go again, shown once, delivered', async () => {
    const world = new ClockedWorld(42);
    let blockMarkSent = false;
    const blocking = (inner: PetrelStore): PetrelStore => {
      const store = Object.create(inner) as PetrelStore;
      store.markSent = (envelopeId: string, report: SentReport) => (blockMarkSent ? new Promise<SentCommitted>(() => {}) : inner.markSent(envelopeId, report));
      return store;
    };
    const c = await chatting(world, { alice: blocking });
    const { bob, aSeesB, bSeesA } = c;
    let alice = c.alice;
    blockMarkSent = true; // the core "dies" inside markSent: the relay has it, the outbox still says queued
    // Bob's delivery receipt would end the entry on its own (a receipt lifts a queued row): keep it away until after the restart.
    const aliceMailbox = mailboxAddress(identityFromSeed(ALICE.seed).publicKey);
    world.relay.holdPushes.add(toHex(aliceMailbox));
    await alice.messenger.send(aSeesB, 'twice?');
    const stored = await storedEnvelope(alice, aSeesB, 'twice?');
    await world.until(() => depositsOf(world, stored.id).length === 1);
    await world.until(async () => (await shownIncoming(bob, bSeesA)).length === 2);
    expect(await status(alice, aSeesB, 'twice?')).toBe('queued');

    blockMarkSent = false;
    alice = await alice.restart();
    // The new core resends the stored bytes (and records `sent`) before any receipt can arrive.
    await world.until(async () => (await status(alice, aSeesB, 'twice?')) === 'sent');
    world.relay.releasePushes(aliceMailbox);
    await world.until(async () => (await status(alice, aSeesB, 'twice?')) === 'delivered');
    // Resent byte for byte (never re-encrypted); Bob shows it once.
    expect(depositsOf(world, stored.id)).toHaveLength(2);
    expect(new Set(depositsOf(world, stored.id))).toEqual(new Set([toHex(stored.bytes)]));
    await world.run(10_000, 500);
    expect(await shownIncoming(bob, bSeesA)).toEqual(['in:hi', 'in:twice?']);
    expect(await alice.store.queueDepth()).toBe(0);
    await alice.messenger.stop();
    await bob.messenger.stop();
  });
});

describe('a receive interrupted by a restart', () => {
  it('after the commit, before the ack reached the relay: redelivered, a duplicate, shown once; the sender still sees delivered', async () => {
    const world = new ClockedWorld(43);
    const c = await chatting(world);
    const { alice, aSeesB, bSeesA } = c;
    let bob = c.bob;
    world.relay.holdAcks = true;
    await alice.messenger.send(aSeesB, 'ack lost');
    const stored = await storedEnvelope(alice, aSeesB, 'ack lost');
    await world.until(async () => (await shownIncoming(bob, bSeesA)).length === 2);
    const bobMailbox = world.relay.deposits.find((e) => toHex(e.id) === stored.id)!.to;
    expect(world.relay.box(bobMailbox).has(stored.id)).toBe(true); // committed, not acknowledged

    bob = await bob.restart();
    world.relay.releaseAcks(); // the old connection's ack is lost with it
    await world.until(async () => (await status(alice, aSeesB, 'ack lost')) === 'delivered' && world.relay.box(bobMailbox).size === 0);
    expect(await shownIncoming(bob, bSeesA)).toEqual(['in:hi', 'in:ack lost']);
    // The redelivery was recognised by the new core's dedup marks (committed before the restart).
    expect(bob.metrics.counter('packet.replay', { transport: 'relay' })).toBe(1);
    expect(bob.state().contacts.find((c) => c.id === bSeesA)?.unread).toBe(2);
    await alice.messenger.stop();
    await bob.messenger.stop();
  });
});
