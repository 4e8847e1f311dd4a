/**
 * The state the UI sees (`MessengerState`), projected from the store: the contact list
 * with its conversations, the open chat's pages, the queue depth and the connection.
 * `getState`/`subscribe` read it; the core's parts only ever ask for a refresh (`changed`),
 * never write it. Refreshes are serialised: one asked during another runs after it.
 *
 * The open chat is patched, not re-read: the running core's store reports which rows
 * each write changed (`track`, view-changes.ts) and a refresh reads only those, keeping
 * every other row's view object as it was (so the UI can tell what changed by identity).
 * Opening a chat, paging, a removed row or a write not known row by row read the whole
 * window again. Either way the window equals a fresh read of the store.
 *
 * The lists (conversations, groups) and the queue count are read again only when a write
 * may have changed them: a status move (sent, delivered, read by the contact) reads its
 * rows alone, and a receipt that may have taken an outbox entry with it has the queue
 * counted again in the projection right after (issue 22: the tick waited for both lists).
 *
 * Before an identity exists (loading, onboarding, failed) there is no running core to
 * project; `attach` hands it the running core's sources and `detach` takes them back.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { STAGES, type StageTrace } from '../stage-trace.ts';
import { receiptMove, type PetrelStore } from '../store/index.ts';
import type { RelayConnectionState } from '../transport/index.ts';
import type { ContactDirectory } from './contact-directory.ts';
import { openContacts, type DirectPath } from './direct-path.ts';
import { contactViews } from './contact-views.ts';
import type { ChatDevice, ChatWindow, ConnectionState, GroupView, MessageView, MessengerState } from './messenger-api.ts';
import { messageView } from './message-view.ts';
import { trackViewChanges, ViewChanges, type TakenChanges } from './view-changes.ts';
import type { ConversationRecord, MessageRecord } from '../store/records.ts';
import { ACTION_WINDOW_MS } from '../store/message-actions.ts';
import type { ReceiptMoves } from './receive-ack.ts';

/** Messages loaded per page into the open chat. */
export const CHAT_PAGE_SIZE = 100;
/** Messages read per store page while filling the chat window. */
const STORE_PAGE_MAX = 200;

/**
 * Before the relay connection exists (loading, onboarding) nothing has failed yet: the
 * status says "Connecting…", never a red "Offline" on a new user's first screen.
 */
const NOT_YET_CONNECTED: ConnectionState = { kind: 'connecting' };

const INITIAL: MessengerState = {
  phase: 'loading',
  connection: NOT_YET_CONNECTED,
  storage: { state: 'ok' },
  contacts: [],
  queueDepth: 0,
};

/** What a running core lends the projection. */
export interface ProjectionSources {
  readonly store: PetrelStore;
  readonly contacts: ContactDirectory;
  readonly relay: { readonly state: RelayConnectionState };
  readonly direct?: Pick<DirectPath, 'openChannels'>;
  /** Groups (groups.ts): their list, and a group's rows as the open chat when a group id is open. */
  readonly groups?: { views(): Promise<GroupView[]>; messages(groupId: string): Promise<MessageView[]> };
  /** The devices (hex ids) a contact's device list names, in its order; undefined for a single-device contact. */
  readonly devicesOf?: (contactId: string) => Promise<readonly ChatDevice[] | undefined>;
}

export interface ProjectionDeps {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Timing marks for the e2e benchmark (stage-trace.ts); absent in normal use. */
  readonly trace?: StageTrace;
}

export class ViewProjection {
  private state: MessengerState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private sources: ProjectionSources | undefined;
  private openContactId: string | undefined;
  private chatLimit = CHAT_PAGE_SIZE;
  private refreshQueued = false;
  private refreshing: Promise<void> | undefined;
  private stopped = false;
  private readonly changes = new ViewChanges();
  /** Stores whose writes are reported here; over any other the window is read whole every time. */
  private readonly tracked = new WeakSet<PetrelStore>();
  /** The open chat's rows as last read, oldest first, beside the window made of them. */
  private rows: MessageRecord[] = [];
  private window: ChatWindow | undefined;
  /** The lists as last read (from `store`): a projection that need not read them again reuses them. */
  private lists: { readonly store: PetrelStore; readonly conversations: readonly ConversationRecord[]; readonly groups: GroupView[] | undefined } | undefined;
  /** Authenticated receipts whose commit is in flight: shown over the rows as read (`preview`). */
  private readonly previews = new Set<readonly ReceiptMoves[]>();

  constructor(private readonly deps: ProjectionDeps) {}

  /** `store` with its writes reported to this projection: give the running core this one. */
  track<S extends PetrelStore>(store: S): S {
    const tracked = trackViewChanges(store, this.changes);
    this.tracked.add(tracked);
    return tracked;
  }

  getState(): MessengerState {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Merges `p` into the state and tells the listeners. */
  patch(p: Partial<MessengerState>): void {
    this.state = { ...this.state, ...p };
    this.notify();
  }

  attach(sources: ProjectionSources): void {
    this.sources = sources;
    this.changes.everything();
    // A core started again on this projection (a device becoming listed starts the core again).
    this.stopped = false;
  }

  /** The core stopped: no more refreshes. */
  detach(): void {
    this.sources = undefined;
    this.stopped = true;
  }

  /**
   * The relay or the direct path changed: re-derive the connection state now, and the
   * contacts' direct marks with it, so one state never shows a contact counted as direct
   * in the status line but not in the list (the full projection that follows may lag).
   */
  connectionChanged(): void {
    const open = openContacts(this.sources?.direct?.openChannels() ?? []);
    const moved = this.state.contacts.some((c) => c.direct !== open.has(c.id));
    const contacts = moved ? this.state.contacts.map((c) => (c.direct === open.has(c.id) ? c : { ...c, direct: open.has(c.id) })) : this.state.contacts;
    this.patch({ connection: this.connectionState(), contacts });
  }

  async openChat(contactId: string | undefined): Promise<void> {
    this.openContactId = contactId;
    this.chatLimit = CHAT_PAGE_SIZE;
    this.changes.everything();
    await this.refresh();
  }

  async loadOlder(): Promise<void> {
    if (!this.state.chat?.hasOlder) return;
    this.chatLimit += CHAT_PAGE_SIZE;
    this.changes.everything();
    await this.refresh();
  }

  /**
   * Receipts were authenticated and their commit is in flight: the open chat shows their
   * status moves now, the same moves the commit makes (store receipt-move.ts), until
   * `settled`. Only the device's own view runs ahead of its storage: nothing leaves the
   * device before the commit (the envelopes are acknowledged after it), and a receipt that
   * is authentic says something true about the contact's device whether or not it is
   * stored here yet.
   */
  preview(moves: readonly ReceiptMoves[]): void {
    if (this.stopped) return;
    this.previews.add(moves);
    const window = this.window;
    const shown = this.withPreviews(window);
    if (!shown || shown === window || this.state.chat?.contactId !== shown.contactId || this.state.chat.group) return;
    this.state = { ...this.state, chat: { ...this.state.chat, messages: shown.messages } };
    this.deps.trace?.mark(STAGES.viewPreviewed);
    this.notify();
  }

  /** The commit of previewed `moves` resolved: stored (the projection it causes reads the rows), or failed (the rows are read again: the preview is taken back). */
  settled(moves: readonly ReceiptMoves[], committed: boolean): void {
    if (!this.previews.delete(moves) || committed) return;
    for (const m of moves) for (const u of m.updates) this.changes.message(u.messageId);
    this.changed();
  }

  /** The core's tracked store wrote something the views may show: project what its writes changed, soon (coalesced). */
  changed(): void {
    if (this.refreshQueued || this.stopped) return;
    this.refreshQueued = true;
    this.deps.clock.setTimeout(() => {
      this.refreshQueued = false;
      void this.run();
    }, 0);
  }

  /** Re-reads what the views show from the store, the lists included. Serialised; a refresh asked during one runs after it. */
  async refresh(): Promise<void> {
    this.changes.listsChanged();
    await this.run();
  }

  private async run(): Promise<void> {
    if (this.refreshing) {
      await this.refreshing;
    }
    const run = this.project().catch((err) => this.deps.log.warn('state refresh failed', { error: err instanceof Error ? err.name : 'unknown' }));
    this.refreshing = run;
    await run;
    if (this.refreshing === run) this.refreshing = undefined;
  }

  connectionState(): ConnectionState {
    const s = this.sources;
    // Not started yet: nothing has failed. Stopped: the connection is gone for good.
    if (!s) return this.stopped ? { kind: 'offline' } : NOT_YET_CONNECTED;
    const relay = s.relay.state;
    // Contacts, not devices: a contact with two linked devices on channels is one (direct-path.ts).
    const direct = openContacts(s.direct?.openChannels() ?? []).size;
    switch (relay.kind) {
      case 'online':
        return { kind: 'online', direct };
      case 'reconnecting':
        return direct ? { kind: 'online', direct } : { kind: 'reconnecting', at: relay.at };
      case 'connecting':
      case 'authenticating':
        return direct ? { kind: 'online', direct } : { kind: 'connecting' };
      case 'offline':
        return { kind: 'offline' };
    }
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  private async project(): Promise<void> {
    const s = this.sources;
    if (!s) return;
    const { store } = s;
    const taken = this.changes.take();
    const changes = this.tracked.has(store) ? taken : { ...taken, all: true, lists: true, queue: true };
    const open = this.openContactId;
    const group = s.groups && open !== undefined && /^[0-9a-f]{32}$/u.test(open) ? s.groups : undefined;
    // A status move (sent, delivered, read) reads its rows alone: the lists and the queue
    // count are read again only when a write may have changed them (view-changes.ts).
    const lists = changes.lists || this.lists === undefined || this.lists.store !== store;
    const queue = lists || changes.queue;
    const [conversations, queueDepth, window, groups, devices] = await Promise.all([
      lists ? store.listConversations() : this.lists!.conversations,
      queue ? store.queueDepth() : this.state.queueDepth,
      group ? this.groupWindow(group, open!) : this.chatWindow(store, changes).then((w) => this.withPreviews(w)),
      lists ? s.groups?.views() : this.lists!.groups,
      !group && open !== undefined && s.devicesOf ? s.devicesOf(open) : undefined,
    ]);
    if (lists) this.lists = { store, conversations, groups };
    // A 1:1 chat with a multi-device contact names its devices (for a message's Details).
    const chat = window && devices && devices.length > 1 && window.contactId === open ? { ...window, devices } : window;
    const conv = new Map(conversations.map((c) => [c.contactId, c]));
    const contacts = contactViews(s.contacts.all(), conv, openContacts(s.direct?.openChannels() ?? []));
    if (queue) this.deps.metrics.set('queue.depth', queueDepth);
    const { chat: _previous, ...rest } = this.state;
    const { groups: _g, ...others } = rest;
    this.state = { ...others, contacts, queueDepth, connection: this.connectionState(), ...(chat ? { chat } : {}), ...(groups?.length ? { groups } : {}) };
    this.deps.trace?.mark(STAGES.viewProjected);
    this.notify();
    if (changes.queueSoon) {
      // Shown first; the count follows in the next projection.
      this.changes.queueChanged();
      this.changed();
    }
  }

  /**
   * The chat window (when it is the current one) with the previewed receipts' moves over
   * its rows; the same window when they move nothing. A row the store already moved is
   * not moved again (receipts move forward only), so this holds until the commit's own
   * projection, whatever order the two come in.
   */
  private withPreviews(window: ChatWindow | undefined): ChatWindow | undefined {
    if (!this.previews.size || !window || window !== this.window) return window;
    const shown = new Map(this.rows.map((r, i) => [r.id, i]));
    let rows: MessageRecord[] | undefined;
    let views: MessageView[] | undefined;
    const now = this.deps.clock.now();
    for (const moves of this.previews) {
      for (const m of moves) {
        for (const u of m.updates) {
          const at = shown.get(u.messageId);
          const moved = at === undefined ? undefined : receiptMove((rows ?? this.rows)[at]!, u, m.from, m.at);
          if (!moved) continue;
          rows ??= [...this.rows];
          views ??= [...window.messages];
          rows[at!] = moved.row;
          views[at!] = messageView(moved.row, now);
        }
      }
    }
    if (!rows || !views) return window;
    this.rows = rows;
    this.window = { ...window, messages: views };
    return this.window;
  }

  /** A group's newest `chatLimit` rows as the open chat (read whole: a group's rows are few per refresh). */
  private async groupWindow(source: NonNullable<ProjectionSources['groups']>, groupId: string): Promise<ChatWindow> {
    const all = await source.messages(groupId);
    this.window = undefined;
    this.rows = [];
    return { contactId: groupId, group: true, messages: all.slice(-this.chatLimit), hasOlder: all.length > this.chatLimit };
  }

  /** The open chat's window: patched with the rows `changes` names, or read whole. */
  private async chatWindow(store: PetrelStore, changes: TakenChanges): Promise<ChatWindow | undefined> {
    const contactId = this.openContactId;
    if (contactId === undefined) {
      this.window = undefined;
      this.rows = [];
      return undefined;
    }
    const now = this.deps.clock.now();
    const window = this.window;
    if (!changes.all && window?.contactId === contactId) {
      const patched = await this.patchWindow(store, window, changes, now);
      if (patched) return patched;
    }
    const { rows, hasOlder } = await this.readWindow(store, contactId);
    if (this.openContactId !== contactId) return this.window; // another chat opened meanwhile: its own refresh follows
    this.rows = rows;
    this.window = { contactId, messages: rows.map((m) => messageView(m, now)), hasOlder };
    return this.window;
  }

  /**
   * The window with the changed rows read again: replaced where shown, new ones put in
   * order (the oldest dropping out past the limit). Undefined when the window must be
   * read whole (a shown row is gone: an older one would move in).
   */
  private async patchWindow(store: PetrelStore, window: ChatWindow, changes: TakenChanges, now: number): Promise<ChatWindow | undefined> {
    const ids = new Set(changes.messageIds);
    if (changes.envelopeIds.size) for (const r of this.rows) if (r.envelopeId !== undefined && changes.envelopeIds.has(r.envelopeId)) ids.add(r.id);
    const read = await Promise.all([...ids].map((id) => store.getMessage(id)));
    if (this.window !== window) return undefined; // a whole read replaced it meanwhile
    const shown = new Map(this.rows.map((r, i) => [r.id, i]));
    const rows = [...this.rows];
    const views = [...window.messages];
    let hasOlder = window.hasOlder;
    const added: MessageRecord[] = [];
    for (const [k, id] of [...ids].entries()) {
      const r = read[k];
      const at = shown.get(id);
      if (r === undefined || r.contactId !== window.contactId) {
        if (at !== undefined) return undefined;
        continue;
      }
      if (at !== undefined) {
        rows[at] = r;
        views[at] = messageView(r, now);
      } else added.push(r);
    }
    for (const r of added.sort((a, b) => a.order - b.order)) {
      // Older than the window's oldest while older rows exist: not in the newest `chatLimit`.
      if (hasOlder && rows.length > 0 && r.order < rows[0]!.order) continue;
      let i = rows.length;
      while (i > 0 && rows[i - 1]!.order > r.order) i--;
      rows.splice(i, 0, r);
      views.splice(i, 0, messageView(r, now));
    }
    const over = rows.length - this.chatLimit;
    if (over > 0) {
      rows.splice(0, over);
      views.splice(0, over);
      hasOlder = true;
    }
    // Own messages leave the edit/delete window with time: their views are made again.
    for (const [i, r] of rows.entries()) if (views[i]!.canDeleteForEveryone && now - r.sentAt > ACTION_WINDOW_MS) views[i] = messageView(r, now);
    this.rows = rows;
    this.window = { contactId: window.contactId, messages: views, hasOlder };
    return this.window;
  }

  /** The newest `chatLimit` messages of the open chat, oldest first. */
  private async readWindow(store: PetrelStore, contactId: string): Promise<{ rows: MessageRecord[]; hasOlder: boolean }> {
    const page = await store.pageMessages(contactId, { limit: Math.min(this.chatLimit, STORE_PAGE_MAX) });
    let messages = [...page.messages];
    let cursor = page.olderCursor;
    while (messages.length < this.chatLimit && cursor !== undefined) {
      const older = await store.pageMessages(contactId, { before: cursor, limit: STORE_PAGE_MAX });
      messages = [...older.messages, ...messages];
      cursor = older.olderCursor;
    }
    if (messages.length > this.chatLimit) return { rows: messages.slice(-this.chatLimit), hasOlder: true };
    return { rows: messages, hasOlder: cursor !== undefined };
  }
}
