/**
 * Session repair between our own devices (issue 17, PROTOCOL.md §12.8): Ada's second device
 * loses its session with her first while she goes on writing on the first. The transcripts
 * it cannot read are asked for again and re-sent from the copies the first device kept, so
 * the second device ends with every message Ada wrote, once, and can write again itself.
 * Real relay.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { sessionKey } from '../../src/core/store/session-key.ts';
import type { PetrelStore } from '../../src/core/store/index.ts';
import { testWorld, until } from './harness.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';

const world = testWorld();

async function eventually(check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function outgoingBodies(store: PetrelStore, contactId: string): Promise<string[]> {
  return (await store.pageMessages(contactId, { limit: 200 })).messages.filter((m) => m.direction === 'out').map((m) => m.body);
}

describe('session repair between our own devices', () => {
  it("the second device loses its session with the first: Ada's transcripts and an edit are asked for again and arrive once", async () => {
    const { ada1, ada2, bo, aSeesB, bSeesA, identity, one } = await adaOnTwoDevices(world);
    await ada1.messenger.send(aSeesB, 'first');
    await eventually(async () => (await outgoingBodies(ada2.store, aSeesB)).includes('first'));

    // Ada's second device loses its session with her first device (a bug, a damaged profile).
    const key = sessionKey(toHex(identity.publicKey), toHex(one.id));
    await ada2.messenger.stop();
    const row = (await ada2.store.getSession(key))!;
    expect(await ada2.store.discardCorruptSession(key, row.version)).toBe(true);

    for (const t of ['second', 'third']) await ada1.messenger.send(aSeesB, t);
    const second = (await ada1.store.pageMessages(aSeesB, { limit: 10 })).messages.find((m) => m.body === 'second')!;
    await ada1.messenger.editMessage(second.id, 'second, edited');
    await until(bo, (s) => s.contacts.some((c) => c.id === bSeesA && c.lastMessage?.text === 'third'));

    await ada2.messenger.start();
    await eventually(async () => {
      const bodies = await outgoingBodies(ada2.store, aSeesB);
      return bodies.length === 3 && bodies.includes('second, edited') && bodies.includes('third');
    });
    expect(await outgoingBodies(ada2.store, aSeesB)).toEqual(['first', 'second, edited', 'third']);
    // Asked for (the reason depends on whether the first device's session still awaited its first answer).
    const asked = Object.entries(ada2.metrics.snapshot().counters).filter(([k]) => k.startsWith('repair.requested'));
    expect(asked.reduce((n, [, v]) => n + Number(v), 0)).toBe(3);
    expect(ada1.metrics.counter('repair.resent')).toBe(3);
    expect(ada1.metrics.counter('repair.resend_refused', { reason: 'not_retained' })).toBe(0);

    // And the second device writes again: Bo and the first device see it, once.
    await ada2.messenger.send(aSeesB, 'from the second device');
    await eventually(async () => (await outgoingBodies(ada1.store, aSeesB)).includes('from the second device'));
    await until(bo, (s) => s.contacts.some((c) => c.id === bSeesA && c.lastMessage?.text === 'from the second device'));
    expect((await outgoingBodies(ada1.store, aSeesB)).filter((b) => b === 'from the second device')).toHaveLength(1);
  }, 60_000);
});
