/**
 * The one object the UI talks to: `getState`/`subscribe` plus commands. It owns the
 * composition of the core — identity and prekeys, the relay connection, the router with
 * its breakers, the receive pipeline and the outbox worker — and projects the store
 * into the `MessengerState` the views render. Every rule lives in the pieces it wires;
 * nothing here touches the DOM, React or IndexedDB directly.
 */
import { bytesEqual, fromHex, toHex, utf8 } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import {
  CryptoRuntime,
  addOneTimePreKeys,
  buildPublishedBundle,
  createPreKeyPool,
  deserializePreKeyPool,
  generateIdentity,
  identityFromSeed,
  isValidIdentityKey,
  limits as cryptoLimits,
  oneTimePreKeysNeeded,
  type OneTimePreKeyCounts,
  type PublicOneTimePreKey,
  type SignedPublicPreKey,
  safetyNumber,
  safetyNumberQrPayload,
  serializePreKeyPool,
  type Identity,
} from '../crypto/index.ts';
import type { Logger, LogRecord } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import { SessionCache, SessionCachingStore, type ContactRecord, type PetrelStore } from '../store/index.ts';
import { IngressGuard, Router, type RouterConfig, type Transport, wireFrameDecoder } from '../transport/index.ts';
import { encodeContent, mailboxAddress, MAX_ACK_IDS, MAX_TEXT_BYTES } from '../wire/index.ts';
import { enqueueOutgoing } from './compose.ts';
import { ContactDirectory } from './contact-directory.ts';
import { DedupPruner } from './dedup-pruner.ts';
import { DirectSignalError, type DirectPath, type RtcKind } from './direct-path.ts';
import type { MessengerContext } from './context.ts';
import { InvalidInviteKeyError, InvalidMessageTextError, KeyChangeUnacknowledgedError, NoIdentityError, UnknownContactError } from './errors.ts';
import { inviteUrl, parseInviteUrl } from './invite.ts';
import { claimedContact, sendBlocked } from './key-change.ts';
import type {
  ChatWindow,
  ConnectionState,
  ContactView,
  Diagnostics,
  Invite,
  MessengerApi,
  MessengerState,
  SafetyNumber,
  SendOptions,
} from './messenger-api.ts';
import { OutboxWorker } from './outbox-worker.ts';
import { META_PUBLISHED_SPK_ID, SignedPreKeyRotation } from './prekey-rotation.ts';
import { ReceivePipeline } from './receive-pipeline.ts';
import type { RelayClient, RelayClientFactory } from './relay-client.ts';
import { SerialLane } from './serial-lane.ts';
import { messageView } from './message-view.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';
import { SessionStarter } from './session-starter.ts';
import { upgradeStoredState } from './stored-state-upgrade.ts';

/** Messages loaded per page into the open chat. */
export const CHAT_PAGE_SIZE = 100;
/** Publish-state marker in the store's meta: the highest prekey id the relay has. */
/** Ids per read commit: a handful of receipt envelopes, well inside the store's list limit. */
const READ_COMMIT_IDS = 8 * MAX_ACK_IDS;
const META_PUBLISHED_THROUGH = 'prekeys.publishedThroughId';
/** One-time prekeys of each kind made per lane turn during a top-up (see `replenish`). */
export const PREKEY_TOPUP_STEP = 10;
const META_COUNTERS_SAVED_AT = 'metrics.savedAt';
/** Counters are written back to storage at most this often. */
export const COUNTER_SAVE_INTERVAL_MS = 5_000;

export type { DirectPath, RtcKind } from './direct-path.ts';

export interface MessengerDeps {
  readonly store: PetrelStore;
  readonly createRelay: RelayClientFactory;
  /** Extra transports (the WebRTC direct path), created once the identity exists. */
  readonly createDirect?: (ctx: { identity: Identity; sendSignal: (contactId: string, kind: RtcKind, data: string) => Promise<void> }) => DirectPath | undefined;
  readonly clock: Clock;
  readonly random: Random;
  /**
   * The crypto core's runtime (src/core/crypto/crypto-runtime.ts): the platform's, tuned for
   * it (src/platform/browser-crypto.ts). Default: one made from `random` when the core starts.
   */
  readonly crypto?: CryptoRuntime;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Recent log records for the diagnostics view. */
  readonly recentLogs: () => readonly LogRecord[];
  /** The app's own URL (invites point here). */
  readonly appUrl: string;
  /** The relay's WebSocket URL (invites carry it). */
  readonly relayUrl: string;
  readonly routerConfig?: Partial<RouterConfig>;
  /** Storage persistence, asked of the browser once an identity exists. */
  readonly requestPersistence?: () => Promise<{ persisted?: boolean; usage?: number; quota?: number }>;
}

interface Running {
  readonly ctx: MessengerContext;
  readonly relay: RelayClient;
  readonly router: Router;
  readonly receive: ReceivePipeline;
  readonly outbox: OutboxWorker;
  readonly starter: SessionStarter;
  readonly pruner: DedupPruner;
  readonly rotation: SignedPreKeyRotation;
  readonly direct?: DirectPath;
  readonly displayName: string;
  readonly cleanup: Array<() => void>;
}

const INITIAL: MessengerState = {
  phase: 'loading',
  connection: { kind: 'offline' },
  storage: { state: 'ok' },
  contacts: [],
  queueDepth: 0,
};

export class Messenger implements MessengerApi {
  private state: MessengerState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private running: Running | undefined;
  private openContactId: string | undefined;
  private chatLimit = CHAT_PAGE_SIZE;
  private refreshQueued = false;
  private refreshing: Promise<void> | undefined;
  private readonly log: Logger;
  private stopped = false;
  /** `deps.store`, seen through the running core's session cache while one runs. */
  private store: PetrelStore;

  constructor(private readonly deps: MessengerDeps) {
    this.log = deps.logger.child('messenger');
    this.store = deps.store;
    deps.store.health.subscribe((s) => this.patch({ storage: { ...this.state.storage, state: s }, ...(s === 'ok' ? {} : { phase: this.state.phase === 'loading' ? 'failed' : this.state.phase }) }));
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens storage state: boots the core when an identity exists, else waits for onboarding. */
  async start(): Promise<void> {
    try {
      const identity = await this.store.loadIdentity();
      if (!identity) {
        this.patch({ phase: 'onboarding' });
        return;
      }
      await this.boot(identityFromSeed(identity.seed), identity.displayName, identity.preKeyPool);
    } catch (err) {
      this.log.error('start failed', { error: err instanceof Error ? err.name : 'unknown' });
      this.patch({ phase: 'failed', storage: { ...this.state.storage, state: this.store.health.get() } });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const r = this.running;
    this.running = undefined;
    if (!r) return;
    for (const c of r.cleanup) c();
    r.outbox.stop();
    r.starter.stop();
    r.pruner.stop();
    r.rotation.stop();
    r.direct?.close();
    r.router.dispose();
    r.relay.stop();
    // Nothing committed by this core after stop() resolves (a next core may start on the store).
    await r.receive.stop();
    // Lane work queued before the stop (a session start, a send) settles before a next core may start.
    await r.ctx.lane.run(async () => undefined);
    await this.saveCounters(r, true);
    this.store = this.deps.store;
  }

  async createIdentity(displayName: string): Promise<void> {
    const name = displayName.trim();
    if (!name || utf8(name).length > 64) throw new InvalidMessageTextError('display name must be 1..64 bytes');
    if (this.running) return;
    const { random, clock } = this.deps;
    const store = this.store;
    const identity = generateIdentity(random);
    // A few one-time keys now; the rest are made once the app is up (see `replenish`).
    const pool = createPreKeyPool(identity, random, cryptoLimits.INITIAL_ONE_TIME_PREKEYS);
    const poolBytes = serializePreKeyPool(pool);
    await store.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: name, createdAt: clock.now(), preKeyPool: poolBytes, nextPreKeyId: pool.data.nextId });
    this.log.info('identity created');
    await this.boot(identity, name, poolBytes);
  }

  private async boot(identity: Identity, displayName: string, poolBytes: Uint8Array | undefined): Promise<void> {
    const { clock, random, metrics, logger } = this.deps;
    // The running core's view of the store: sessions served from memory (see session-cache.ts).
    const store = new SessionCachingStore(this.deps.store, new SessionCache(() => clock.now()));
    this.store = store;
    let pool;
    if (poolBytes) pool = deserializePreKeyPool(poolBytes);
    else {
      pool = createPreKeyPool(identity, random);
      await store.savePreKeyPool(serializePreKeyPool(pool));
    }
    const ctx: MessengerContext = {
      store,
      clock,
      random,
      crypto: this.deps.crypto ?? new CryptoRuntime(random),
      metrics,
      log: logger,
      lane: new SerialLane(),
      identity,
      contacts: await ContactDirectory.load(store),
      pool,
    };
    await upgradeStoredState(store, ctx.contacts.all().map((c) => c.id), poolBytes ? { bytes: poolBytes, value: pool } : undefined, logger);
    const relay = this.deps.createRelay({ identityKey: identity.publicKey, sign: async (payload) => identity.sign(payload) });
    const direct = this.deps.createDirect?.({ identity, sendSignal: (contactId, kind, data) => this.sendRtc(contactId, kind, data) });
    const transports: Transport[] = direct ? [direct.transport, relay] : [relay];
    const router = new Router(transports, { clock, random, metrics, logger }, this.deps.routerConfig);
    const guard = new IngressGuard({ decode: wireFrameDecoder('peer'), metrics, logger });
    const refresh = () => this.scheduleRefresh();
    let outbox: OutboxWorker | undefined = undefined;
    const pruner = new DedupPruner(store, clock, this.log);
    const receive = new ReceivePipeline(ctx, guard, {
      committed: (s) => {
        pruner.committed(s.envelopes);
        if (s.delivered.length) this.observeDeliveries(s.delivered);
        outbox?.kick();
        refresh();
        if (s.messages && direct) void this.noticeActiveContacts();
      },
      rtc: (contactId, c) => {
        const contact = ctx.contacts.byId(contactId);
        if (contact) direct?.handleSignal(contactId, mailboxAddress(contact.identityKey), c.kind, c.data);
      },
    });
    outbox = new OutboxWorker(ctx, router, refresh);
    const starter = new SessionStarter(ctx, { isOnline: () => relay.state.kind === 'online', fetchPrekeys: (ik) => relay.fetchPrekeys(ik) }, () => {
      outbox!.kick();
      refresh();
      this.connectDirect();
    }, () => displayName);
    const rotation = new SignedPreKeyRotation(ctx, { isOnline: () => relay.state.kind === 'online', publishPrekeys: (b) => relay.publishPrekeys(b) });

    const cleanup: Array<() => void> = [];
    for (const t of transports) cleanup.push(t.onEnvelope((incoming) => receive.accept(incoming)));
    if (direct) {
      // Signaling arrives on the relay's `signal` route, outside the mailbox: it goes through
      // the same unseal → decrypt → commit as an envelope (under a fresh id, nothing to ack).
      const ownMailbox = mailboxAddress(identity.publicKey);
      cleanup.push(relay.onSignal((blob) => receive.accept({ envelope: { to: ownMailbox, id: random.bytes(16), body: blob }, transport: 'relay', ack: () => {} })));
    }
    cleanup.push(
      relay.onConnectionState((s) => {
        this.patch({ connection: this.connectionState() });
        if (s.kind === 'online') {
          // Rotation is checked after the first upload and the backlog the relay pushes on connect.
          void this.publishPrekeys()
            .then(() => receive.idle())
            .then(() => rotation.check());
          void starter.resumeAll();
          outbox!.kick();
          this.connectDirect();
        }
      }),
      relay.onPrekeysLow((counts) => void this.replenish(counts)),
      metrics.subscribe(() => this.counterSaveSoon()),
    );
    if (direct) cleanup.push(direct.onChange(() => {
      this.patch({ connection: this.connectionState() });
      outbox!.kick();
      refresh();
    }));

    if (direct) await this.seedLastHeardFrom();
    this.running = { ctx, relay, router, receive, outbox, starter, pruner, rotation, direct, displayName, cleanup };
    this.patch({
      phase: 'ready',
      me: { displayName, id: toHex(identity.publicKey), inviteUrl: inviteUrl(this.deps.appUrl, { identityKey: identity.publicKey, displayName, relay: this.deps.relayUrl }) },
      connection: this.connectionState(),
    });
    relay.start();
    outbox.kick();
    pruner.start();
    rotation.start();
    await this.refresh();
    void this.deps.requestPersistence?.().then((p) => this.patch({ storage: { ...this.state.storage, ...p } }));
  }

  // ---------------------------------------------------------------- state

  getState(): MessengerState {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private patch(p: Partial<MessengerState>): void {
    this.state = { ...this.state, ...p };
    for (const l of this.listeners) l();
  }

  private connectionState(): ConnectionState {
    const r = this.running;
    if (!r) return { kind: 'offline' };
    const s = r.relay.state;
    const direct = r.direct?.openChannels().length ?? 0;
    switch (s.kind) {
      case 'online':
        return { kind: 'online', direct };
      case 'reconnecting':
        return direct ? { kind: 'online', direct } : { kind: 'reconnecting', at: s.at };
      case 'connecting':
      case 'authenticating':
        return direct ? { kind: 'online', direct } : { kind: 'connecting' };
      case 'offline':
        return { kind: 'offline' };
    }
  }

  private scheduleRefresh(): void {
    if (this.refreshQueued || this.stopped) return;
    this.refreshQueued = true;
    this.deps.clock.setTimeout(() => {
      this.refreshQueued = false;
      void this.refresh();
    }, 0);
  }

  /** Re-reads what the views show from the store. Serialised; a refresh asked during one runs after it. */
  private async refresh(): Promise<void> {
    if (this.refreshing) {
      await this.refreshing;
    }
    const run = this.project().catch((err) => this.log.warn('state refresh failed', { error: err instanceof Error ? err.name : 'unknown' }));
    this.refreshing = run;
    await run;
    if (this.refreshing === run) this.refreshing = undefined;
  }

  private async project(): Promise<void> {
    const r = this.running;
    if (!r) return;
    const store = this.store;
    const [conversations, queueDepth] = await Promise.all([store.listConversations(), store.queueDepth()]);
    const conv = new Map(conversations.map((c) => [c.contactId, c]));
    const open = new Set(r.direct?.openChannels() ?? []);
    const contacts: ContactView[] = r.ctx.contacts
      .all()
      .map((c) => {
        const cv = conv.get(c.id);
        return {
          id: c.id,
          displayName: c.displayName,
          verified: c.verification === 'verified',
          keyChanged: sendBlocked(c),
          ...(c.possibleKeyChangeOf && !c.possibleKeyChangeOf.acknowledged ? { possibleKeyChangeOf: c.possibleKeyChangeOf.contactId } : {}),
          unread: cv?.unread ?? 0,
          direct: open.has(c.id),
          ...(cv?.lastMessage ? { lastMessage: { text: cv.lastMessage.text, at: cv.lastMessage.at, direction: cv.lastMessage.direction } } : {}),
          _sort: cv?.lastActivityAt ?? c.addedAt,
        };
      })
      .sort((a, b) => b._sort - a._sort)
      .map(({ _sort, ...c }) => c);
    let chat: ChatWindow | undefined;
    if (this.openContactId) {
      const page = await store.pageMessages(this.openContactId, { limit: Math.min(this.chatLimit, 200) });
      let messages = [...page.messages];
      let cursor = page.olderCursor;
      while (messages.length < this.chatLimit && cursor !== undefined) {
        const older = await store.pageMessages(this.openContactId, { before: cursor, limit: 200 });
        messages = [...older.messages, ...messages];
        cursor = older.olderCursor;
      }
      chat = {
        contactId: this.openContactId,
        messages: messages.map(messageView),
        hasOlder: cursor !== undefined,
      };
    }
    this.deps.metrics.set('queue.depth', queueDepth);
    this.state = { ...this.state, contacts, queueDepth, connection: this.connectionState(), ...(chat ? { chat } : {}) };
    if (!chat && this.state.chat) {
      const { chat: _c, ...rest } = this.state;
      this.state = rest;
    }
    for (const l of this.listeners) l();
  }

  // ---------------------------------------------------------------- commands

  parseInvite(url: string): Invite | undefined {
    return parseInviteUrl(url);
  }

  async addContact(invite: Invite): Promise<string> {
    const r = this.need();
    const { clock } = this.deps;
    const store = this.store;
    if (bytesEqual(invite.identityKey, r.ctx.identity.publicKey)) throw new UnknownContactError('that is your own invite');
    if (!isValidIdentityKey(invite.identityKey)) throw new InvalidInviteKeyError('the invite does not carry a usable identity key');
    const known = r.ctx.contacts.byKey(invite.identityKey);
    // Same name, different key: someone else (or the same person on a new device) until the
    // user says otherwise. An invite never changes an existing contact's key: it becomes a
    // contact of its own, flagged as claiming the other's name, blocked for sending until
    // acknowledged (key-change.ts). The existing contact and its conversation are untouched.
    const claimed = known ? undefined : claimedContact(r.ctx.contacts.all(), invite.displayName, invite.identityKey);
    const contact: ContactRecord = known
      ? { ...known, displayName: invite.displayName }
      : {
          id: toHex(invite.identityKey),
          displayName: invite.displayName,
          identityKey: invite.identityKey.slice(),
          verification: 'unverified',
          addedAt: clock.now(),
          ...(claimed ? { possibleKeyChangeOf: { contactId: claimed.id, detectedAt: clock.now(), acknowledged: false } } : {}),
        };
    await r.ctx.lane.run(async () => {
      await store.putContact(contact);
      r.ctx.contacts.remember(contact);
    });
    if (claimed) this.deps.metrics.inc('contacts.claimed_name');
    this.log.info('contact added', { contact: contact.id.slice(0, 8), claimsNameOf: claimed ? claimed.id.slice(0, 8) : null });
    this.connectDirect();
    await this.refresh();
    return contact.id;
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

  async send(contactId: string, text: string, options: SendOptions = {}): Promise<void> {
    const r = this.need();
    // An id from the caller makes the command idempotent (the keypress journal resends it after a reload).
    if (options.id !== undefined) {
      if (!/^[0-9a-f]{32}$/u.test(options.id)) throw new InvalidMessageTextError('message id must be 32 lowercase hex characters');
      if (await this.store.getMessage(options.id)) return;
    }
    const { clock, random } = this.deps;
    const body = text.replace(/\s+$/u, '');
    if (!body.trim()) throw new InvalidMessageTextError('message is empty');
    if (utf8(body).length > MAX_TEXT_BYTES) throw new InvalidMessageTextError(`message is longer than ${MAX_TEXT_BYTES} bytes`);
    const contact = r.ctx.contacts.byId(contactId);
    if (!contact) throw new UnknownContactError(contactId);
    if (sendBlocked(contact)) {
      throw new KeyChangeUnacknowledgedError(`${contact.displayName}'s safety number changed: acknowledge it before sending`);
    }
    const id = options.id !== undefined ? fromHex(options.id) : random.bytes(16);
    const sentAt = clock.now();
    const enqueued = await enqueueOutgoing(
      { store: this.store, lane: r.ctx.lane, identity: r.ctx.identity, crypto: r.ctx.crypto },
      {
        contactId,
        contactKey: contact.identityKey,
        mailbox: mailboxAddress(contact.identityKey),
        id: toHex(id),
        body,
        sentAt,
        content: encodeContent({ t: 'msg', id, ts: sentAt, text: body }),
      },
    ).catch(async (err: unknown) => {
      // The same id committed meanwhile (another tab's drain, a retried command): already done.
      if (options.id !== undefined && (await this.store.getMessage(options.id).catch(() => undefined))) return undefined;
      throw err;
    });
    if (!enqueued) return;
    const { pending } = enqueued;
    this.deps.metrics.inc('messages.composed');
    if (pending) r.starter.ensure(contactId);
    r.outbox.kick();
    await this.refresh();
  }

  async retry(messageId: string): Promise<void> {
    const r = this.need();
    const m = await this.store.getMessage(messageId);
    await this.store.retry(messageId, this.deps.clock.now());
    if (m) r.starter.ensure(m.contactId);
    r.outbox.kick();
    await this.refresh();
  }

  async markRead(contactId: string): Promise<void> {
    const r = this.need();
    const { clock } = this.deps;
    const store = this.store;
    // Marking rows read and queueing their read receipt is one commit (store.commitRead):
    // a receipt that failed to encrypt or commit leaves the messages unread for the next
    // try, instead of read here and never reported to the sender.
    const read = await r.ctx.lane.run(async () => {
      const ids = await store.unreadIncoming(contactId);
      let newlyRead = 0;
      for (let i = 0; i < ids.length; i += READ_COMMIT_IDS) {
        const messageIds = ids.slice(i, i + READ_COMMIT_IDS);
        const receipt = await this.encryptReadReceipts(r, contactId, messageIds);
        newlyRead += (await store.commitRead({ contactId, at: clock.now(), messageIds, ...(receipt ? { receipt } : {}) })).length;
      }
      return newlyRead;
    });
    if (read) r.outbox.kick();
    await this.refresh();
  }

  async safetyNumber(contactId: string): Promise<SafetyNumber> {
    const r = this.need();
    // A contact id, or the hex identity key of someone not added yet (an invite under review).
    const key = r.ctx.contacts.byId(contactId)?.identityKey ?? (/^[0-9a-f]{64}$/.test(contactId) ? fromHex(contactId) : undefined);
    if (!key) throw new UnknownContactError(contactId);
    return { digits: safetyNumber(r.ctx.identity.publicKey, key), qr: safetyNumberQrPayload(r.ctx.identity.publicKey, key) };
  }

  async setVerified(contactId: string, verified: boolean): Promise<void> {
    const r = this.need();
    await this.store.setVerification(contactId, verified ? 'verified' : 'unverified');
    await this.reloadContact(r, contactId);
  }

  async acknowledgeKeyChange(contactId: string): Promise<void> {
    const r = this.need();
    await this.store.acknowledgeKeyChange(contactId);
    await this.reloadContact(r, contactId);
    // Messages that waited for the acknowledgement are encrypted for the new key now.
    r.starter.ensure(contactId);
  }

  diagnostics(): Diagnostics {
    const breakers: Record<string, 'closed' | 'open' | 'half_open'> = {};
    const r = this.running;
    if (r) for (const [name, state] of Object.entries(r.router.breakerStates())) breakers[name] = state;
    return { metrics: this.deps.metrics.snapshot(), logs: this.deps.recentLogs(), breakers };
  }

  /** For tests and benchmarks: resolves when received envelopes are all committed. */
  async idle(): Promise<void> {
    await this.running?.receive.idle();
    await this.refresh();
  }

  // ---------------------------------------------------------------- internals

  private need(): Running {
    if (!this.running) throw new NoIdentityError('create an identity first');
    return this.running;
  }

  private async reloadContact(r: Running, contactId: string): Promise<void> {
    const c = await this.store.getContact(contactId);
    if (c) r.ctx.contacts.remember(c);
    await this.refresh();
  }

  /**
   * Read receipts for `messageIds` (MAX_ACK_IDS ids each), encrypted with the contact's
   * current session, as the session update and outbox entries of one `commitRead`; none
   * when there is no session to send them with or sending to the contact is blocked
   * (unacknowledged key change). Runs inside the lane.
   */
  private async encryptReadReceipts(r: Running, contactId: string, messageIds: readonly string[]) {
    const contact = r.ctx.contacts.byId(contactId);
    // Nothing goes to a key the user has not acknowledged, read receipts included.
    const row = contact && !sendBlocked(contact) ? await this.store.getSession(contactId) : undefined;
    if (!contact || !row) return undefined;
    const { random } = this.deps;
    let set = decodeSessionSet(row.state);
    const outboxEntries = [];
    for (let i = 0; i < messageIds.length; i += MAX_ACK_IDS) {
      const content = encodeContent({ t: 'receipt', kind: 'read', ids: messageIds.slice(i, i + MAX_ACK_IDS).map(fromHex) });
      const out = await encryptFor(r.ctx, set, contact.identityKey, content);
      set = out.set;
      outboxEntries.push({ envelopeId: toHex(random.bytes(16)), contactId, mailbox: mailboxAddress(contact.identityKey), envelope: out.envelope });
    }
    return { sessionUpdate: { contactId, expectedVersion: row.version, state: encodeSessionSet(set) }, outboxEntries };
  }

  /**
   * Sends one WebRTC signal straight through the relay's `signal` route (never the
   * mailbox: a signal is useless later). It is encrypted with the contact's current
   * session, the advanced session committed, then sealed. Lost when the contact is
   * offline; the direct path retries on later events.
   */
  private async sendRtc(contactId: string, kind: RtcKind, data: string): Promise<void> {
    const r = this.need();
    const contact = r.ctx.contacts.byId(contactId);
    if (!contact) throw new UnknownContactError(contactId);
    if (r.relay.state.kind !== 'online') throw new DirectSignalError('relay is not connected');
    const store = this.store;
    // Sent from inside the lane, so signals leave in the order they were asked for.
    await r.ctx.lane.run(async () => {
      const row = await store.getSession(contactId);
      if (!row) throw new DirectSignalError('no session with this contact');
      const out = await encryptFor(r.ctx, decodeSessionSet(row.state), contact.identityKey, encodeContent({ t: 'rtc', kind, data }));
      await store.commitSession({ contactId, expectedVersion: row.version, state: encodeSessionSet(out.set) });
      r.relay.sendSignal(mailboxAddress(contact.identityKey), out.envelope);
    });
    this.deps.metrics.inc('direct.signals.sent', { kind });
  }

  /** Asks the direct path for channels to every contact we share a session with. */
  private connectDirect(): void {
    const r = this.running;
    if (!r?.direct || r.relay.state.kind !== 'online') return;
    const direct = r.direct;
    void (async () => {
      for (const c of r.ctx.contacts.all()) {
        if (this.running !== r) return;
        if (await this.store.getSession(c.id).catch(() => undefined)) direct.connect(c.id, mailboxAddress(c.identityKey));
      }
    })();
  }

  /** The newest incoming message id per contact, as last seen by `noticeActiveContacts`. */
  private readonly lastHeardFrom = new Map<string, string>();

  /** Remembers who wrote to us last, so only new messages count as a sign of life. */
  private async seedLastHeardFrom(): Promise<void> {
    for (const c of await this.store.listConversations().catch(() => [])) {
      if (c.lastMessage?.direction === 'in') this.lastHeardFrom.set(c.contactId, c.lastMessage.messageId);
    }
  }

  /** Contacts whose new messages just committed are online now: tell the direct path. */
  private async noticeActiveContacts(): Promise<void> {
    const r = this.running;
    if (!r?.direct || r.relay.state.kind !== 'online') return;
    const conversations = await this.store.listConversations().catch(() => []);
    const open = new Set(r.direct.openChannels());
    for (const c of conversations) {
      const last = c.lastMessage;
      if (!last || last.direction !== 'in' || this.lastHeardFrom.get(c.contactId) === last.messageId) continue;
      this.lastHeardFrom.set(c.contactId, last.messageId);
      const contact = r.ctx.contacts.byId(c.contactId);
      if (contact && !open.has(contact.id)) r.direct.contactActive(contact.id, mailboxAddress(contact.identityKey));
    }
  }

  /**
   * delivery.latency: compose → delivered, for each of our messages a delivery receipt
   * just moved (the row says `delivered` as of that commit; a repeated receipt finds it
   * unchanged, an older row already delivered or read keeps its earlier time).
   */
  private observeDeliveries(delivered: readonly { readonly messageId: string; readonly at: number }[]): void {
    void (async () => {
      const rows = await Promise.all(delivered.map((d) => this.store.getMessage(d.messageId)));
      rows.forEach((m, i) => {
        const { at } = delivered[i]!;
        if (m?.direction === 'out' && m.status === 'delivered' && m.updatedAt === at) this.deps.metrics.observe('delivery.latency', Math.max(0, at - m.sentAt));
      });
    })().catch((err: unknown) => this.log.warn('delivery latency not observed', { error: err instanceof Error ? err.name : 'unknown' }));
  }

  private async publishPrekeys(): Promise<void> {
    const r = this.running;
    if (!r) return;
    const store = this.store;
    try {
      const through = await store.getMeta(META_PUBLISHED_THROUGH);
      if (typeof through === 'number') return;
      const bundle = buildPublishedBundle(r.ctx.identity, r.ctx.pool);
      const counts = await r.relay.publishPrekeys(bundle);
      await store.setMeta(META_PUBLISHED_THROUGH, r.ctx.pool.data.nextId - 1);
      await store.setMeta(META_PUBLISHED_SPK_ID, bundle.spk.id);
      this.log.info('prekeys published', { opks: counts.opks, pqopks: counts.pqopks });
      // A new identity publishes only its first few one-time keys: top up in the background.
      void this.replenish(counts);
    } catch (err) {
      this.log.warn('prekey publish failed', { error: err instanceof Error ? err.message : 'unknown' });
    }
  }

  private replenishing: Promise<void> | undefined;

  /**
   * Tops up our one-time prekeys on the relay when a kind runs below the threshold
   * (`prekeys.low`, or the counts after the first upload). One top-up at a time. The keys
   * are made PREKEY_TOPUP_STEP of each kind per lane turn, each step saved before the
   * next (so sends and receives wait for one step at most, ~30 ms here), and published
   * once all are saved: the relay never hands out a key we do not hold.
   */
  private replenish(remaining: OneTimePreKeyCounts): Promise<void> {
    this.replenishing ??= this.topUp(remaining).finally(() => {
      this.replenishing = undefined;
    });
    return this.replenishing;
  }

  private async topUp(remaining: OneTimePreKeyCounts): Promise<void> {
    const r = this.running;
    if (!r) return;
    if (typeof (await this.store.getMeta(META_PUBLISHED_THROUGH)) !== 'number') return void this.publishPrekeys();
    let left = oneTimePreKeysNeeded(remaining);
    const publish = { opks: [] as PublicOneTimePreKey[], pqopks: [] as SignedPublicPreKey[] };
    while ((left.opks > 0 || left.pqopks > 0) && this.running === r) {
      const count = { opks: Math.min(left.opks, PREKEY_TOPUP_STEP), pqopks: Math.min(left.pqopks, PREKEY_TOPUP_STEP) };
      await r.ctx.lane.run(async () => {
        const step = addOneTimePreKeys(r.ctx.pool, r.ctx.identity, this.deps.random, count);
        await this.store.savePreKeyPool(serializePreKeyPool(step.pool));
        r.ctx.pool = step.pool;
        publish.opks.push(...step.publish.opks);
        publish.pqopks.push(...step.publish.pqopks);
      });
      left = { opks: left.opks - count.opks, pqopks: left.pqopks - count.pqopks };
    }
    if (!publish.opks.length && !publish.pqopks.length) return;
    try {
      const full = buildPublishedBundle(r.ctx.identity, r.ctx.pool);
      await r.relay.publishPrekeys({ ...full, opks: publish.opks, pqopks: publish.pqopks });
      await this.store.setMeta(META_PUBLISHED_THROUGH, r.ctx.pool.data.nextId - 1);
      await this.store.setMeta(META_PUBLISHED_SPK_ID, full.spk.id);
      this.log.info('prekeys replenished', { opks: publish.opks.length, pqopks: publish.pqopks.length });
    } catch (err) {
      this.log.warn('prekey replenish failed', { error: err instanceof Error ? err.message : 'unknown' });
    }
  }

  private counterTimer: (() => void) | undefined;

  private counterSaveSoon(): void {
    const r = this.running;
    if (!r || this.counterTimer) return;
    this.counterTimer = this.deps.clock.setTimeout(() => {
      this.counterTimer = undefined;
      void this.saveCounters(r, false);
    }, COUNTER_SAVE_INTERVAL_MS);
  }

  private async saveCounters(_r: Running, final: boolean): Promise<void> {
    try {
      await this.store.saveCounters(this.deps.metrics.snapshot().counters);
      await this.store.setMeta(META_COUNTERS_SAVED_AT, this.deps.clock.now());
    } catch (err) {
      if (!final) this.log.warn('counters not saved', { error: err instanceof Error ? err.name : 'unknown' });
    }
  }
}
