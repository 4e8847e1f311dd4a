/**
 * The state the UI sees (`MessengerState`), projected from the store: the contact list
 * with its conversations, the open chat's pages, the queue depth and the connection.
 * `getState`/`subscribe` read it; the core's parts only ever ask for a refresh (`changed`),
 * never write it. Refreshes are serialised: one asked during another runs after it.
 *
 * Before an identity exists (loading, onboarding, failed) there is no running core to
 * project; `attach` hands it the running core's sources and `detach` takes them back.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { PetrelStore } from '../store/index.ts';
import type { RelayConnectionState } from '../transport/index.ts';
import type { ContactDirectory } from './contact-directory.ts';
import type { DirectPath } from './direct-path.ts';
import { contactViews } from './contact-views.ts';
import type { ChatWindow, ConnectionState, MessengerState } from './messenger-api.ts';
import { messageView } from './message-view.ts';

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
}

export interface ProjectionDeps {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
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

  constructor(private readonly deps: ProjectionDeps) {}

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
    // A core started again on this projection (a device becoming listed starts the core again).
    this.stopped = false;
  }

  /** The core stopped: no more refreshes. */
  detach(): void {
    this.sources = undefined;
    this.stopped = true;
  }

  /** The relay or the direct path changed: re-derive the connection state now. */
  connectionChanged(): void {
    this.patch({ connection: this.connectionState() });
  }

  async openChat(contactId: string | undefined): Promise<void> {
    this.openContactId = contactId;
    this.chatLimit = CHAT_PAGE_SIZE;
    await this.refresh();
  }

  async loadOlder(): Promise<void> {
    if (!this.state.chat?.hasOlder) return;
    this.chatLimit += CHAT_PAGE_SIZE;
    await this.refresh();
  }

  /** Something the views show may have changed: refresh soon (coalesced). */
  changed(): void {
    if (this.refreshQueued || this.stopped) return;
    this.refreshQueued = true;
    this.deps.clock.setTimeout(() => {
      this.refreshQueued = false;
      void this.refresh();
    }, 0);
  }

  /** Re-reads what the views show from the store. Serialised; a refresh asked during one runs after it. */
  async refresh(): Promise<void> {
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
    const direct = s.direct?.openChannels().length ?? 0;
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
    const [conversations, queueDepth] = await Promise.all([store.listConversations(), store.queueDepth()]);
    const conv = new Map(conversations.map((c) => [c.contactId, c]));
    const contacts = contactViews(s.contacts.all(), conv, new Set(s.direct?.openChannels() ?? []));
    const chat = this.openContactId === undefined ? undefined : await this.chatWindow(store, this.openContactId);
    this.deps.metrics.set('queue.depth', queueDepth);
    const { chat: _previous, ...rest } = this.state;
    this.state = { ...rest, contacts, queueDepth, connection: this.connectionState(), ...(chat ? { chat } : {}) };
    this.notify();
  }

  /** The newest `chatLimit` messages of the open chat, oldest first. */
  private async chatWindow(store: PetrelStore, contactId: string): Promise<ChatWindow> {
    const page = await store.pageMessages(contactId, { limit: Math.min(this.chatLimit, STORE_PAGE_MAX) });
    let messages = [...page.messages];
    let cursor = page.olderCursor;
    while (messages.length < this.chatLimit && cursor !== undefined) {
      const older = await store.pageMessages(contactId, { before: cursor, limit: STORE_PAGE_MAX });
      messages = [...older.messages, ...messages];
      cursor = older.olderCursor;
    }
    return { contactId, messages: messages.map((m) => messageView(m, this.deps.clock.now())), hasOlder: cursor !== undefined };
  }
}
