/**
 * Two tabs of one profile with real cores (one shared in-memory store standing in for
 * IndexedDB, the real relay): the tab that does not host the core is a full client —
 * it adds a contact, sends, opens its own conversation — and when the hosting tab
 * closes in the middle of a burst, the other takes over and every message is stored
 * and delivered once, in order.
 */
import { describe, expect, it, vi } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { TabLeadership, type LeadershipMessage } from '../../src/core/leadership.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { secureRandom } from '../../src/core/random.ts';
import type { BackendTx, StoreBackend, TxMode } from '../../src/core/store/backend.ts';
import { StorageClosedError } from '../../src/core/store/errors.ts';
import { MemoryBackend } from '../../src/core/store/memory-backend.ts';
import { BackendPetrelStore } from '../../src/core/store/petrel-store.ts';
import type { StoreName } from '../../src/core/store/schema.ts';
import { storeChatReader } from '../../src/platform/core-protocol/chat-reader.ts';
import { TabbedMessenger } from '../../src/platform/tabbed-messenger.ts';
import { fetchBlobHttp } from '../../src/platform/fetch-blob-http.ts';
import { fileBytes } from '../attachments/helpers.ts';
import { device, onboard, testWorld, texts } from '../messenger/harness.ts';
import { FakeBus, FakeLocks } from '../store/leadership-fakes.ts';

const { relay, track, defer } = testWorld();

async function until(what: string, predicate: () => boolean, timeout = 10_000): Promise<void> {
  await vi.waitFor(() => expect(predicate(), what).toBe(true), { timeout, interval: 10 });
}

/** One tab's connection to the shared database: after `close` nothing it runs commits. */
class Connection implements StoreBackend {
  private closed = false;
  constructor(private readonly database: MemoryBackend) {}
  get health() {
    return this.database.health;
  }
  transaction<T>(stores: readonly StoreName[], mode: TxMode, body: (tx: BackendTx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StorageClosedError());
    return this.database.transaction(stores, mode, async (tx) => {
      const result = await body(tx);
      if (this.closed) throw new StorageClosedError();
      return result;
    });
  }
  close(): void {
    this.closed = true;
  }
}

describe('every tab a full client', () => {
  it('the second tab adds a contact, sends and opens its own chat; the host closes mid-burst, nothing is lost or doubled and its chat stays on screen', async () => {
    const r = await relay();
    const bob = track(device(r.url));
    await onboard(bob, 'Bob');

    // One database; each tab's core opens its own connection, closed when the core stops
    // (as browser-messenger.ts does), so a stopped core's late work cannot write.
    const database = new MemoryBackend();
    const store = new BackendPetrelStore(database, { now: () => Date.now() });
    const locks = new FakeLocks();
    const tabsBus = new FakeBus<LeadershipMessage<MessengerState>>();
    const coreBus = new FakeBus<unknown>();
    const boots: string[] = [];
    const open = (tab: string) => {
      const leadership = new TabLeadership<MessengerState>({ lockName: 'petrel:p:core', tabId: tab, locks: locks.forTab(tab), channel: tabsBus.channel(tab), logger: silentLogger });
      const tabbed = new TabbedMessenger(
        leadership,
        async () => {
          boots.push(tab);
          const connection = new Connection(database);
          const tabStore = new BackendPetrelStore(connection, { now: () => Date.now() });
          const d = device(r.url, tabStore);
          await d.messenger.start();
          return { api: d.messenger, readChat: storeChatReader(tabStore), stop: () => d.messenger.stop().finally(() => connection.close()) };
        },
        { coreChannel: coreBus.channel(tab), clientId: `client-${tab}` },
      );
      defer(() => tabbed.stop());
      void tabbed.start();
      return tabbed;
    };

    const a = open('a');
    await until('step 1', () => a.getState().phase === 'onboarding');
    await a.createIdentity('Alice');
    await until('step 2', () => a.getState().phase === 'ready' && a.getState().connection.kind === 'online');
    const b = open('b');
    // A full client, not a read-only follower: the leader's phase and identity.
    await until('step 3', () => b.getState().phase === 'ready' && b.getState().me?.displayName === 'Alice');
    expect(boots).toEqual(['a']);

    // The invite lands in the second tab: it is added there (on the core tab a hosts).
    const bobId = await b.addContact(b.parseInvite(bob.messenger.getState().me!.inviteUrl)!);
    await bob.messenger.addContact(bob.messenger.parseInvite(a.getState().me!.inviteUrl)!);
    await until('step 4', () => a.getState().contacts.some((c) => c.id === bobId));
    expect((await b.safetyNumber(bobId)).digits).toMatch(/^\d{60}$/);

    // Both tabs send; b shows its own chat window, a has none open.
    await b.openChat(bobId);
    await b.send(bobId, 'from b', { id: toHex(secureRandom.bytes(16)) });
    await a.send(bobId, 'from a');
    await until('step 5', () => b.getState().chat?.messages.map((m) => m.text).join() === 'from b,from a');
    expect(a.getState().chat).toBeUndefined();

    // A burst from b; the hosting tab closes while it is in flight.
    const burst = Array.from({ length: 10 }, (_, i) => `burst ${i}`);
    const sends = burst.map((text) => b.send(bobId, text, { id: toHex(secureRandom.bytes(16)) }));
    // The host goes away with the whole burst unanswered (some of it may have run there).
    expect(b.commandsInFlight).toBe(burst.length);
    // Through the takeover b keeps showing its chat (and so its composer): never a state without it.
    const gaps: string[] = [];
    const unwatch = b.subscribe(() => {
      const s = b.getState();
      if (s.chat?.contactId !== bobId) gaps.push(s.phase);
    });
    await a.stop();
    await Promise.all(sends);
    expect(boots).toEqual(['a', 'b']);
    expect(b.getState().phase).toBe('ready');

    const expected = ['out:from b', 'out:from a', ...burst.map((t) => `out:${t}`)];
    expect(await store.pageMessages(bobId, { limit: 50 }).then((p) => p.messages.map((m) => `${m.direction}:${m.body}`))).toEqual(expected);
    const bSeesA = bob.messenger.getState().contacts[0]!.id;
    await until('step 6', () => bob.messenger.getState().contacts[0]?.unread === expected.length);
  
    expect(await texts(bob, bSeesA)).toEqual(expected.map((t) => t.replace('out:', 'in:')));
    // b's chat window, now from its own core, still shows the conversation once.
    await until('step 7', () => b.getState().chat?.messages.length === expected.length);
    unwatch();
    expect(gaps).toEqual([]);
  });

  it('a file sent from the tab that does not host the core crosses as a Blob, once; its download comes back as a Blob', async () => {
    const r = await relay();
    const bob = track(device(r.url, undefined, { blobHttp: fetchBlobHttp(r.http) }));
    await onboard(bob, 'Bob');
    const database = new MemoryBackend();
    const locks = new FakeLocks();
    const tabsBus = new FakeBus<LeadershipMessage<MessengerState>>();
    const coreBus = new FakeBus<unknown>();
    const open = (tab: string) => {
      const leadership = new TabLeadership<MessengerState>({ lockName: 'petrel:p:core', tabId: tab, locks: locks.forTab(tab), channel: tabsBus.channel(tab), logger: silentLogger });
      const tabbed = new TabbedMessenger(
        leadership,
        async () => {
          const tabStore = new BackendPetrelStore(new Connection(database), { now: () => Date.now() });
          const d = device(r.url, tabStore, { blobHttp: fetchBlobHttp(r.http) });
          await d.messenger.start();
          return { api: d.messenger, readChat: storeChatReader(tabStore), stop: () => d.messenger.stop() };
        },
        { coreChannel: coreBus.channel(tab), clientId: `client-${tab}` },
      );
      defer(() => tabbed.stop());
      void tabbed.start();
      return tabbed;
    };
    const a = open('a');
    await until('onboarding', () => a.getState().phase === 'onboarding');
    await a.createIdentity('Alice');
    await until('online', () => a.getState().phase === 'ready' && a.getState().connection.kind === 'online');
    const b = open('b');
    await until('b a client', () => b.getState().phase === 'ready');
    const bobId = await b.addContact(b.parseInvite(bob.messenger.getState().me!.inviteUrl)!);
    await bob.messenger.addContact(bob.messenger.parseInvite(a.getState().me!.inviteUrl)!);

    const bytes = fileBytes(600_000) as Uint8Array<ArrayBuffer>;
    const id = await b.sendFile(bobId, new Blob([bytes], { type: 'text/csv' }), { name: 'table.csv', caption: 'numbers' });
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const store = new BackendPetrelStore(database, { now: () => Date.now() });
    expect(await store.getMessage(id)).toMatchObject({ body: 'numbers', attachment: { name: 'table.csv', mime: 'text/csv', size: bytes.length } });
    expect(await store.pageMessages(bobId, { limit: 10 }).then((p) => p.messages.length)).toBe(1);

    // The sender's own copy, through the hosting tab, before Bob acknowledges it.
    const mine = await b.downloadAttachment(id);
    expect(Buffer.from(await mine.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    await vi.waitFor(async () => expect((await bob.store.getMessage(id))?.attachment).toBeDefined(), { timeout: 10_000 });
    const his = await bob.messenger.downloadAttachment(id);
    expect(Buffer.from(await his.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });
});
