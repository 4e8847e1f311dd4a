/**
 * The view projection alone: what the UI sees, projected from a store and a contact
 * directory — contacts most recent first with their conversation, the unnamed flag, the
 * open chat's window, and the connection as the relay and direct path report it.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { ContactDirectory } from '../../src/core/messenger/contact-directory.ts';
import { CHAT_PAGE_SIZE, ViewProjection } from '../../src/core/messenger/view-projection.ts';
import { createMemoryStore, type ContactRecord } from '../../src/core/store/index.ts';
import type { RelayConnectionState } from '../../src/core/transport/index.ts';

const key = (n: number) => new Uint8Array(32).fill(n);
const contact = (n: number, name: string, extra: Partial<ContactRecord> = {}): ContactRecord => ({
  id: toHex(key(n)),
  displayName: name,
  identityKey: key(n),
  verification: 'unverified',
  addedAt: n,
  ...extra,
});
const messageId = (n: number) => n.toString(16).padStart(32, '0');

async function setUp() {
  const clock = new FakeClock(1_000);
  const store = createMemoryStore({ now: () => clock.now() });
  const metrics = new InMemoryMetrics();
  for (const c of [contact(1, 'Ann'), contact(2, '', { unnamed: true }), contact(3, 'Cy', { verification: 'verified' })]) await store.putContact(c);
  const contacts = await ContactDirectory.load(store);
  const relay: { state: RelayConnectionState } = { state: { kind: 'offline' } };
  let open: string[] = [];
  const view = new ViewProjection({ clock, metrics, log: silentLogger });
  view.attach({ store, contacts, relay, direct: { openChannels: () => open.map((contactId) => ({ contactId })) } });
  return { clock, store, metrics, relay, view, setOpen: (ids: string[]) => (open = ids) };
}

describe('view projection', () => {
  it('lists contacts most recent first with their last message, the unnamed flag and the queue depth', async () => {
    const { store, view, metrics } = await setUp();
    const mailbox = new Uint8Array(32);
    await store.commitPendingOutgoing({ message: { id: messageId(1), contactId: toHex(key(1)), body: 'hello Ann', sentAt: 5_000 }, job: { envelopeId: messageId(1), mailbox, plaintext: new Uint8Array([1]) } });
    let notified = 0;
    view.subscribe(() => notified++);
    await view.refresh();
    const s = view.getState();
    expect(s.contacts.map((c) => c.id)).toEqual([toHex(key(1)), toHex(key(3)), toHex(key(2))]);
    expect(s.contacts[0]).toMatchObject({ displayName: 'Ann', lastMessage: { text: 'hello Ann', direction: 'out' }, unread: 0 });
    expect(s.contacts[1]).toMatchObject({ displayName: 'Cy', verified: true });
    expect(s.contacts[1]!.unnamed).toBeUndefined();
    expect(s.contacts[2]).toMatchObject({ displayName: '', unnamed: true });
    expect(s.queueDepth).toBe(1);
    expect(metrics.snapshot().gauges['queue.depth']).toBe(1);
    expect(notified).toBe(1);
  });

  it('the open chat holds the newest page, oldest first, and grows a page at a time', async () => {
    const { store, view } = await setUp();
    const ann = toHex(key(1));
    for (let i = 1; i <= CHAT_PAGE_SIZE + 5; i++) {
      await store.commitPendingOutgoing({ message: { id: messageId(i), contactId: ann, body: `m${i}`, sentAt: i }, job: { envelopeId: messageId(i), mailbox: new Uint8Array(32), plaintext: new Uint8Array([1]) } });
    }
    await view.openChat(ann);
    let chat = view.getState().chat!;
    expect(chat.messages).toHaveLength(CHAT_PAGE_SIZE);
    expect(chat.messages.at(-1)!.text).toBe(`m${CHAT_PAGE_SIZE + 5}`);
    expect(chat.hasOlder).toBe(true);
    await view.loadOlder();
    chat = view.getState().chat!;
    expect(chat.messages.map((m) => m.text).slice(0, 2)).toEqual(['m1', 'm2']);
    expect(chat.hasOlder).toBe(false);
    await view.openChat(undefined);
    expect(view.getState().chat).toBeUndefined();
  });

  it('derives the connection from the relay and the direct channels', async () => {
    const { relay, view, setOpen } = await setUp();
    expect(view.connectionState()).toEqual({ kind: 'offline' });
    relay.state = { kind: 'connecting' };
    expect(view.connectionState()).toEqual({ kind: 'connecting' });
    relay.state = { kind: 'reconnecting', at: 9 };
    expect(view.connectionState()).toEqual({ kind: 'reconnecting', at: 9 });
    setOpen([toHex(key(3))]);
    expect(view.connectionState()).toEqual({ kind: 'online', direct: 1 });
    relay.state = { kind: 'online' };
    view.connectionChanged();
    expect(view.getState().connection).toEqual({ kind: 'online', direct: 1 });
  });

  it('a channel change moves the contacts\' direct marks with the connection, in the same state', async () => {
    const { relay, view, setOpen } = await setUp();
    await view.refresh();
    relay.state = { kind: 'online' };
    const cy = toHex(key(3));
    const before = view.getState().contacts;
    setOpen([cy]);
    view.connectionChanged(); // no refresh awaited: the patch alone must agree with itself
    let s = view.getState();
    expect(s.connection).toEqual({ kind: 'online', direct: 1 });
    expect(s.contacts.filter((c) => c.direct).map((c) => c.id)).toEqual([cy]);
    // Contacts whose mark did not move keep their object (memoized rows do not re-render).
    expect(s.contacts.find((c) => c.id === toHex(key(1)))).toBe(before.find((c) => c.id === toHex(key(1))));
    setOpen([]);
    view.connectionChanged();
    s = view.getState();
    expect(s.connection).toEqual({ kind: 'online', direct: 0 });
    expect(s.contacts.some((c) => c.direct)).toBe(false);
  });

  it('coalesces refresh requests and stops refreshing once detached', async () => {
    const { clock, view } = await setUp();
    let notified = 0;
    view.subscribe(() => notified++);
    view.changed();
    view.changed();
    clock.advance(0);
    await view.refresh();
    expect(notified).toBe(2); // the coalesced refresh and the awaited one
    view.detach();
    view.changed();
    clock.advance(0);
    await view.refresh();
    expect(notified).toBe(2);
  });
});

describe('view projection before and after the core runs', () => {
  it('says connecting (never offline) before a relay connection exists, offline once stopped', () => {
    const view = new ViewProjection({ clock: new FakeClock(1_000), metrics: new InMemoryMetrics(), log: silentLogger });
    expect(view.getState().connection).toEqual({ kind: 'connecting' });
    expect(view.connectionState()).toEqual({ kind: 'connecting' });
    view.detach();
    expect(view.connectionState()).toEqual({ kind: 'offline' });
  });
});

describe('view projection: receipts shown while their commit runs (preview)', () => {
  async function withQueued() {
    const rig = await setUp();
    const ann = toHex(key(1));
    await rig.store.commitPendingOutgoing({ message: { id: messageId(7), contactId: ann, body: 'hi Ann', sentAt: 5_000 }, job: { envelopeId: messageId(70), mailbox: new Uint8Array(32), plaintext: new Uint8Array([1]) } });
    await rig.view.openChat(ann);
    return { ...rig, ann };
  }
  const status = (view: ViewProjection) => view.getState().chat?.messages[0]?.status;

  it('shows an authentic receipt at once, keeps it over a projection that reads the store before the commit, and takes it back when the commit fails', async () => {
    const { view, ann, store } = await withQueued();
    expect(status(view)).toBe('queued');
    // From another contact, or backwards: nothing moves.
    view.preview([{ from: toHex(key(3)), at: 6_000, updates: [{ messageId: messageId(7), status: 'delivered' }] }]);
    expect(status(view)).toBe('queued');
    const moves = [{ from: ann, at: 6_000, updates: [{ messageId: messageId(7), status: 'delivered' as const }] }];
    view.preview(moves);
    expect(status(view)).toBe('delivered');
    // A projection meanwhile (the store does not have it yet) keeps showing it.
    await view.refresh();
    expect(status(view)).toBe('delivered');
    expect((await store.getMessage(messageId(7)))?.status).toBe('queued');
    // The commit failed: the row as stored again.
    view.settled(moves, false);
    await view.refresh();
    expect(status(view)).toBe('queued');
  });

  it('after a commit that succeeded, the stored row shows it (the preview is dropped)', async () => {
    const { view, ann, store } = await withQueued();
    const moves = [{ from: ann, at: 6_000, updates: [{ messageId: messageId(7), status: 'delivered' as const }] }];
    view.preview(moves);
    await store.commitIncomingBatch([{ envelopeId: messageId(99), from: ann, receivedAt: 6_000, statusUpdates: moves[0]!.updates }]);
    view.settled(moves, true);
    await view.openChat(ann); // read whole from the store
    expect(status(view)).toBe('delivered');
  });
});
