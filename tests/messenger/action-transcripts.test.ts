/**
 * Our edits, deletes for everyone and reactions reach our own other devices (issue 16,
 * docs/PROTOCOL.md §13.5): an action made on Ada's second device goes to Bo AND, as an
 * action transcript, to her first device, which applies it as hers. Real relay.
 */
import { describe, expect, it } from 'vitest';
import { ME } from '../../src/core/store/message-actions.ts';
import type { PetrelStore } from '../../src/core/store/index.ts';
import { testWorld, until } from './harness.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';

const world = testWorld();

async function eventually(check: () => Promise<boolean>, timeout = 10_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function byBody(store: PetrelStore, contactId: string, body: string) {
  return (await store.pageMessages(contactId, { limit: 50 })).messages.find((m) => m.body === body);
}

describe('action transcripts', () => {
  it("an edit, a reaction and a delete made on Ada's second device show on her first device as hers, and at Bo", async () => {
    const { ada1, ada2, bo, aSeesB, bSeesA } = await adaOnTwoDevices(world);
    await ada2.messenger.send(aSeesB, 'typo here');
    await eventually(async () => !!(await byBody(ada1.store, aSeesB, 'typo here')));
    const mine = (await byBody(ada2.store, aSeesB, 'typo here'))!;
    await bo.messenger.send(bSeesA, 'a message to react to');
    await eventually(async () => !!(await byBody(ada1.store, aSeesB, 'a message to react to')) && !!(await byBody(ada2.store, aSeesB, 'a message to react to')));
    const theirs = (await byBody(ada2.store, aSeesB, 'a message to react to'))!;

    await ada2.messenger.editMessage(mine.id, 'no typo here');
    await ada2.messenger.react(theirs.id, '👍');
    await eventually(async () => (await ada1.store.getMessage(mine.id))?.body === 'no typo here');
    await eventually(async () => (await bo.store.getMessage(mine.id))?.body === 'no typo here');
    await eventually(async () => !!(await ada1.store.getMessage(theirs.id))?.reactions?.some((r) => r.by === ME && r.emoji === '👍'));
    await eventually(async () => !!(await bo.store.getMessage(theirs.id))?.reactions?.some((r) => r.emoji === '👍'));

    await ada2.messenger.deleteForEveryone(mine.id);
    await eventually(async () => !!(await ada1.store.getMessage(mine.id))?.deleted);
    await eventually(async () => !!(await bo.store.getMessage(mine.id))?.deleted);
    expect(ada1.metrics.counter('devices.action_transcript_received{kind="edit"}')).toBe(1);
    expect(ada1.metrics.counter('devices.action_transcript_received{kind="react"}')).toBe(1);
    expect(ada1.metrics.counter('devices.action_transcript_received{kind="delete"}')).toBe(1);
    // Bo, who has one device, got each action once and no transcript of anything.
    await until(bo, (s) => s.connection.kind === 'online');
    expect(bo.metrics.counter('devices.transcript_received')).toBe(0);
  });
});
