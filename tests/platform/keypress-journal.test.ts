/**
 * The keypress journal in front of the real messenger (in-memory store, real relay):
 * a pressed message left in the journal by a page that went away is sent once when
 * the next page's core is ready, never twice, and a final refusal becomes a draft.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { secureRandom } from '../../src/core/random.ts';
import { DraftStore } from '../../src/platform/keypress/draft-store.ts';
import type { MessengerApi } from '../../src/core/messenger/messenger-api.ts';
import { JournaledMessenger, RETRY_FIRST_MS, RETRY_MAX_MS, SendPostponedError, type JournalTimers } from '../../src/platform/keypress/journaled-messenger.ts';
import { SendJournal } from '../../src/platform/keypress/send-journal.ts';
import { MemorySyncStorage } from '../../src/platform/keypress/sync-storage.ts';
import { device, introduce, onboard, testWorld, texts, until, type Device } from '../messenger/harness.ts';

const { relay, track } = testWorld();

function journalOver(storage: MemorySyncStorage, now = () => Date.now()) {
  return new SendJournal({ storage, profile: 'p', newId: () => toHex(secureRandom.bytes(16)), now });
}

async function pair(): Promise<{ url: string; alice: Device; bob: Device; aSeesB: string; bSeesA: string }> {
  const r = await relay();
  const alice = track(device(r.url));
  const bob = track(device(r.url));
  await onboard(alice, 'Alice');
  await onboard(bob, 'Bob');
  return { url: r.url, alice, bob, ...(await introduce(alice, bob)) };
}

/** Timers the test fires by hand: what is waiting, and for how long it asked to wait. */
function manualTimers() {
  const pending: Array<{ fn: () => void; ms: number }> = [];
  const timers: JournalTimers = {
    setTimeout: (fn, ms) => {
      const t = { fn, ms };
      pending.push(t);
      return t;
    },
    clearTimeout: (h) => {
      const i = pending.indexOf(h as (typeof pending)[number]);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return { timers, pending, fire: () => pending.shift()!.fn() };
}

/** The real messenger, except that its next `failures` sends fail the way a full or failing IndexedDB does. */
function storageTrouble(inner: MessengerApi, failures: { n: number }): MessengerApi {
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'send') {
        return (...args: Parameters<MessengerApi['send']>) => {
          if (failures.n > 0) {
            failures.n--;
            return Promise.reject(new DOMException('the quota has been exceeded', 'QuotaExceededError'));
          }
          return target.send(...args);
        };
      }
      const v = (target as unknown as Record<PropertyKey, unknown>)[key];
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Alice and Bob introduced; Alice's journaled messenger whose next `n` sends fail as a full IndexedDB does, retries fired by hand. */
async function journalWithStorageTrouble(n: number) {
  const world = await pair();
  const storage = new MemorySyncStorage();
  const journal = journalOver(storage);
  const failures = { n };
  const clock = manualTimers();
  const m = new JournaledMessenger(storageTrouble(world.alice.messenger, failures), journal, new DraftStore(storage, 'p'), undefined, clock.timers);
  return { ...world, journal, failures, clock, m };
}

describe('keypress journal', () => {
  it('keeps entries oldest first, one key each, and drops unreadable ones', () => {
    const storage = new MemorySyncStorage();
    let t = 100;
    const journal = journalOver(storage, () => t);
    const a = journal.record('c1', 'one')!;
    const b = journal.record('c1', 'two')!; // same millisecond: seq orders them
    t = 50;
    const c = new SendJournal({ storage, profile: 'p', newId: () => 'c'.repeat(32), now: () => t }).record('c2', 'earlier clock')!;
    storage.setItem('petrel:p:journal:' + 'd'.repeat(32), '{not json');
    storage.setItem('petrel:p:journal:nothex', JSON.stringify({ contactId: 'x', text: 'y', at: 1, seq: 0 }));
    storage.setItem('petrel:other:journal:' + 'e'.repeat(32), JSON.stringify({ contactId: 'x', text: 'other profile', at: 1, seq: 0 }));
    expect(journal.entries().map((e) => e.id)).toEqual([c.id, a.id, b.id]);
    // Unreadable entries of this profile are gone; the other profile's is untouched.
    expect(storage.length).toBe(4);
    journal.remove(a.id);
    expect(journal.entries().map((e) => e.text)).toEqual(['earlier clock', 'two']);
  });

  it('a live send is journaled before the core is asked, and leaves the journal once committed', async () => {
    const { alice, aSeesB } = await pair();
    const storage = new MemorySyncStorage();
    const journal = journalOver(storage);
    const m = new JournaledMessenger(alice.messenger, journal, new DraftStore(storage, 'p'));
    const sending = m.send(aSeesB, 'hello');
    // Synchronously on the call: the words are on record before any commit.
    expect(journal.entries().map((e) => e.text)).toEqual(['hello']);
    await sending;
    expect(journal.entries()).toEqual([]);
    expect(await texts(alice, aSeesB)).toEqual(['out:hello']);
  });

  it('after a reload, entries the core never saw are sent once, in order; one it already committed is not doubled', async () => {
    const { alice, bob, aSeesB, bSeesA } = await pair();
    const storage = new MemorySyncStorage();
    const journal = journalOver(storage);
    // Page 1: three presses; the first committed but the page went away before the journal was cleared,
    // the other two were pressed in the instant before the reload.
    const committed = journal.record(aSeesB, 'm1')!;
    await alice.messenger.send(aSeesB, 'm1', { id: committed.id });
    journal.record(aSeesB, 'm2');
    journal.record(aSeesB, 'm3');

    // Page 2: a new core over the same store; the journal drains once the core is ready.
    const next = track(await alice.reload());
    const m = new JournaledMessenger(next.messenger, journalOver(storage), new DraftStore(storage, 'p'));
    await until(next, () => journal.entries().length === 0);
    expect(await texts(next, aSeesB)).toEqual(['out:m1', 'out:m2', 'out:m3']);
    await m.drain(); // a second drain finds nothing to do
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 3);
    expect(await texts(bob, bSeesA)).toEqual(['in:m1', 'in:m2', 'in:m3']);
  });

  it('a reply pressed just before a reload is resent with its quote; a damaged reply id makes the entry unreadable', async () => {
    const { alice, bob, aSeesB, bSeesA } = await pair();
    await bob.messenger.send(bSeesA, 'dinner at eight?');
    await until(alice, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    const quoted = (await alice.store.pageMessages(aSeesB, { limit: 10 })).messages[0]!;
    const storage = new MemorySyncStorage();
    const journal = journalOver(storage);
    const entry = journal.record(aSeesB, 'yes!', quoted.id)!;
    expect(journal.entries()).toEqual([expect.objectContaining({ text: 'yes!', replyTo: quoted.id })]);
    storage.setItem('petrel:p:journal:' + 'a'.repeat(32), JSON.stringify({ contactId: aSeesB, text: 'bad', replyTo: 'not-an-id', at: 1, seq: 0 }));

    const next = track(await alice.reload());
    new JournaledMessenger(next.messenger, journalOver(storage), new DraftStore(storage, 'p'));
    await until(next, () => journal.entries().length === 0);
    const sent = await next.store.getMessage(entry.id);
    expect(sent?.body).toBe('yes!');
    expect(sent?.quote?.id).toBe(quoted.id);
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.lastMessage?.text === 'yes!');
    expect((await bob.store.getMessage(entry.id))?.quote?.id).toBe(quoted.id);
    expect(await texts(bob, bSeesA)).toEqual(['out:dinner at eight?', 'in:yes!']);
  });

  it('an entry the core refuses for good becomes the draft of its conversation', async () => {
    const { alice, aSeesB } = await pair();
    const storage = new MemorySyncStorage();
    const drafts = new DraftStore(storage, 'p');
    drafts.set(aSeesB, 'typing…');
    const unknown = 'ff'.repeat(32);
    const journal = journalOver(storage);
    journal.record(unknown, 'to nobody');
    journal.record(aSeesB, 'fine');
    const heard: Array<[string, string]> = [];
    drafts.subscribe((c, t) => heard.push([c, t]));
    const m = new JournaledMessenger(alice.messenger, journal, drafts);
    await m.drain();
    expect(journal.entries()).toEqual([]);
    expect(drafts.get(unknown)).toBe('to nobody');
    expect(heard).toEqual([[unknown, 'to nobody']]);
    expect(drafts.get(aSeesB)).toBe('typing…');
    expect(await texts(alice, aSeesB)).toEqual(['out:fine']);
  });

  it('keeps entries while the core is not running, and sends them once it is ready', async () => {
    const { url, alice, aSeesB } = await pair();
    await alice.stop();
    const storage = new MemorySyncStorage();
    const journal = journalOver(storage);
    journal.record(aSeesB, 'later');
    const next = track(device(url, alice.store));
    const m = new JournaledMessenger(next.messenger, journal, new DraftStore(storage, 'p'));
    await m.drain(); // not started: refused for now, kept
    expect(journal.entries().map((e) => e.text)).toEqual(['later']);
    await next.messenger.start(); // ready: the journal drains by itself
    await until(next, () => journal.entries().length === 0);
    expect(await texts(next, aSeesB)).toEqual(['out:later']);
  });

  it('a live send the core cannot store now stays in the journal, shows as unsaved, and is sent once when a retry succeeds', async () => {
    const { alice, bob, aSeesB, bSeesA, journal, clock, m } = await journalWithStorageTrouble(2);
    let notified = 0;
    m.subscribe(() => notified++);

    await expect(m.send(aSeesB, 'kept')).rejects.toBeInstanceOf(SendPostponedError);
    expect(journal.entries().map((e) => e.text)).toEqual(['kept']);
    expect(m.getState().unsaved).toEqual([expect.objectContaining({ contactId: aSeesB, text: 'kept' })]);
    expect(m.getState()).toBe(m.getState()); // a stable snapshot while nothing changed
    expect(notified).toBeGreaterThan(0);
    expect(await texts(alice, aSeesB)).toEqual([]);

    // The first retry fails too (waits doubled), the second saves it.
    expect(clock.pending.map((t) => t.ms)).toEqual([RETRY_FIRST_MS]);
    clock.fire();
    await until(alice, () => clock.pending.length === 1);
    expect(clock.pending[0]!.ms).toBe(2 * RETRY_FIRST_MS);
    expect(m.getState().unsaved).toHaveLength(1);
    clock.fire();
    await until(alice, () => journal.entries().length === 0);
    expect(m.getState().unsaved).toBeUndefined();
    expect(clock.pending).toEqual([]);
    expect(await texts(alice, aSeesB)).toEqual(['out:kept']);
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.lastMessage?.text === 'kept');
    expect(await texts(bob, bSeesA)).toEqual(['in:kept']);
  });

  it('a press made while an earlier one waits to be saved goes after it, and both are sent once, in order', async () => {
    const { alice, bob, aSeesB, bSeesA, journal, m } = await journalWithStorageTrouble(1);
    await expect(m.send(aSeesB, 'first')).rejects.toBeInstanceOf(SendPostponedError);
    // Storage works again, but 'second' must not overtake 'first': it goes through the drain, behind it.
    await m.send(aSeesB, 'second');
    expect(journal.entries()).toEqual([]);
    expect(m.getState().unsaved).toBeUndefined();
    expect(await texts(alice, aSeesB)).toEqual(['out:first', 'out:second']);
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 2);
    expect(await texts(bob, bSeesA)).toEqual(['in:first', 'in:second']);
  });

  it('waits longer after each failed retry, up to RETRY_MAX_MS, and keeps the order of what waits', async () => {
    const { alice, aSeesB, journal, failures, clock, m } = await journalWithStorageTrouble(100);
    await expect(m.send(aSeesB, 'a')).rejects.toBeInstanceOf(SendPostponedError);
    await expect(m.send(aSeesB, 'b')).rejects.toBeInstanceOf(SendPostponedError);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      waits.push(clock.pending[0]!.ms);
      clock.fire();
      await until(alice, () => clock.pending.length === 1);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 30, 30].map((x) => Math.min(x * RETRY_FIRST_MS, RETRY_MAX_MS)));
    expect(m.getState().unsaved?.map((u) => u.text)).toEqual(['a', 'b']);
    expect(journal.entries().map((e) => e.text)).toEqual(['a', 'b']);
    failures.n = 0;
    clock.fire();
    await until(alice, () => journal.entries().length === 0);
    expect(await texts(alice, aSeesB)).toEqual(['out:a', 'out:b']);
  });

  it('a live send refused for good leaves the journal and rethrows the typed error (the composer gives the text back)', async () => {
    const { alice } = await pair();
    const storage = new MemorySyncStorage();
    const journal = journalOver(storage);
    const m = new JournaledMessenger(alice.messenger, journal, new DraftStore(storage, 'p'));
    await expect(m.send('ff'.repeat(32), 'to nobody')).rejects.toMatchObject({ kind: 'unknown_contact' });
    expect(journal.entries()).toEqual([]);
    expect(m.getState().unsaved).toBeUndefined();
  });
});
