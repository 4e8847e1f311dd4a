/**
 * The one object the UI talks to (`MessengerApi`), and the composition root of the
 * messaging core. It wires, in dependency order, the parts that each do one job:
 *
 *   view-projection.ts      the state the UI sees (`getState`/`subscribe`)
 *   contact-commands.ts     add a contact, safety numbers, verification, key changes
 *   message-commands.ts     send and retry
 *   attachment-commands.ts  send a file (upload, then queue), download one
 *   read-receipts.ts        mark read and tell the sender
 *   session-starter.ts      first contact: fetch a bundle, start a session
 *   session-cipher.ts       every encryption and decryption with a contact's sessions
 *   outbox-worker.ts        outbox → router → transports
 *   receive-pipeline.ts     transports → dedup → decrypt → commit → ack
 *   prekey-publisher.ts     our bundle and one-time keys on the relay
 *   prekey-rotation.ts      signed prekey rotation
 *   own-device-store.ts     this device's id, key and certificate (made once)
 *   device-sync.ts          our and our contacts' signed device lists (device-list-book.ts)
 *   device-links.ts         list, link and unlink this account's devices (link-this-device.ts: the new one)
 *   backup-keeper.ts        backup files and the relay-kept copy (restore-this-device.ts: restoring one)
 *   groups.ts               groups (group-wiring.ts: their ports over the outbox, send.multi, the receive routing)
 *   direct-path-policy.ts   when to ask for a WebRTC channel (rtc-signal-sender.ts: its signals)
 *   counter-saver.ts        metrics counters written back to storage
 *   delivery-latency.ts     the compose → delivered metric
 *
 * Parts are handed what they need (the MessengerContext and small callbacks) and never
 * reach back into this object. Nothing here touches the DOM, React or IndexedDB directly.
 */
import type { BlobHttp } from '../attachments/blob-http.ts';
import type { Argon2idFn } from '../backup/backup-key.ts';
import { toHex, utf8 } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import {
  CryptoRuntime,
  createPreKeyPool,
  deserializePreKeyPool,
  generateIdentity,
  identityFromSeed,
  limits as cryptoLimits,
  serializePreKeyPool,
  type Identity,
} from '../crypto/index.ts';
import type { Logger, LogRecord } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import { SessionCache, SessionCachingStore, type PetrelStore } from '../store/index.ts';
import { IngressGuard, Router, type FrameCheck, type RouterConfig, type Transport, wireFrameDecoder } from '../transport/index.ts';
import { mailboxAddress, type Frame } from '../wire/index.ts';
import { ActionCommands } from './action-commands.ts';
import { AttachmentCommands } from './attachment-commands.ts';
import { ContactCommands } from './contact-commands.ts';
import { ContactDirectory } from './contact-directory.ts';
import type { MessengerContext } from './context.ts';
import { CounterSaver } from './counter-saver.ts';
import { DedupPruner } from './dedup-pruner.ts';
import type { DeviceSync } from './device-sync.ts';
import { DeviceLinks } from './device-links.ts';
import { linkThisDevice } from './link-this-device.ts';
import { BackupKeeper } from './backup-keeper.ts';
import type { ImportedAccount } from './import-writer.ts';
import { backupSecretFor, fetchRelayBackup, restoreThisDevice } from './restore-this-device.ts';
import { observeDeliveryLatency } from './delivery-latency.ts';
import { DirectPathPolicy } from './direct-path-policy.ts';
import type { DirectPath, RtcKind } from './direct-path.ts';
import { InvalidMessageTextError, NoIdentityError, NotInGroupsError } from './errors.ts';
import { acceptGroupEnvelope, GROUP_TICK_MS, groupInboxTaker, isGroupEnvelope, wireGroups } from './group-wiring.ts';
import { isGroupId, type Groups } from './groups.ts';
import { inviteUrl, parseInviteUrl } from './invite.ts';
import { MessageCommands } from './message-commands.ts';
import type { ActionOptions, BackupMade, CreateGroupOptions, DeviceView, Diagnostics, Invite, Me, MessengerApi, MessengerState, SafetyNumber, SendFileOptions, SendOptions } from './messenger-api.ts';
import { StaleDeviceCover } from './stale-device-cover.ts';
import { sendSiblingReceipts } from './sibling-receipts.ts';
import { OutboxWorker } from './outbox-worker.ts';
import { bootDevices } from './device-boot.ts';
import { PreKeyPublisher } from './prekey-publisher.ts';
import { SignedPreKeyRotation } from './prekey-rotation.ts';
import { ReadReceipts } from './read-receipts.ts';
import { ReceivePipeline } from './receive-pipeline.ts';
import type { RelayClient, RelayClientFactory } from './relay-client.ts';
import { RtcSignalSender } from './rtc-signal-sender.ts';
import { SerialLane } from './serial-lane.ts';
import { PushRegistration, type PushRegistrationOutcome, type PushSubscriptionKeys } from './push-registration.ts';
import { SessionStarter } from './session-starter.ts';
import { upgradeStoredState, upgradeUnnamedContacts } from './stored-state-upgrade.ts';
import { ViewProjection } from './view-projection.ts';

export { CHAT_PAGE_SIZE } from './view-projection.ts';
export { PREKEY_TOPUP_STEP } from './prekey-publisher.ts';
export { COUNTER_SAVE_INTERVAL_MS } from './counter-saver.ts';
export type { DirectPath, RtcKind } from './direct-path.ts';

export interface MessengerDeps {
  readonly store: PetrelStore;
  readonly createRelay: RelayClientFactory;
  /** Extra transports (the WebRTC direct path), created once the identity exists. */
  readonly createDirect?: (ctx: {
    identity: Identity;
    sendSignal: (contactId: string, kind: RtcKind, data: string) => Promise<void>;
    /** The core's one decode point for incoming frames (the direct transport's `ingress`). */
    ingress: FrameCheck<Frame>;
  }) => DirectPath | undefined;
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
  /** HTTP to the relay's signed /blobs endpoints (src/platform/fetch-blob-http.ts); without it files cannot be sent or fetched. */
  readonly blobHttp?: BlobHttp;
  /**
   * Whether storage is persistent, read (never asked for: the app asks at a moment the
   * browser is likely to grant it, useStoragePersistence.ts) once the core runs, for the view.
   */
  readonly storagePersistence?: () => Promise<{ persisted?: boolean; usage?: number; quota?: number }>;
  /** Argon2id for passphrase backups (backup/backup-key.ts); hash-wasm by default. */
  readonly argon2id?: Argon2idFn;
  /** How long copies for a contact's device without published keys wait for them (default UNPUBLISHED_DEVICE_WAIT_MS). */
  readonly unpublishedDeviceWaitMs?: number;
}

/** The parts of a running core (once an identity exists), in the order `stop` ends them. */
interface Running {
  readonly ctx: MessengerContext;
  readonly relay: RelayClient;
  readonly router: Router;
  readonly receive: ReceivePipeline;
  readonly outbox: OutboxWorker;
  readonly starter: SessionStarter;
  readonly pruner: DedupPruner;
  readonly rotation: SignedPreKeyRotation;
  readonly publisher: PreKeyPublisher;
  readonly counters: CounterSaver;
  readonly direct?: DirectPath;
  readonly directPolicy?: DirectPathPolicy;
  readonly contacts: ContactCommands;
  readonly messages: MessageCommands;
  readonly actions: ActionCommands;
  readonly files: AttachmentCommands;
  readonly reads: ReadReceipts;
  readonly devices: DeviceSync;
  readonly links: DeviceLinks;
  readonly backups: BackupKeeper;
  readonly groups: Groups;
  readonly cleanup: Array<() => void>;
}

/** A display name trimmed, 1..64 bytes of UTF-8; InvalidMessageTextError otherwise. */
function checkedDisplayName(displayName: string): string {
  const name = typeof displayName === 'string' ? displayName.trim() : '';
  if (!name || utf8(name).length > 64) throw new InvalidMessageTextError('display name must be 1..64 bytes');
  return name;
}

export class Messenger implements MessengerApi {
  private readonly view: ViewProjection;
  private running: Running | undefined;
  /** Set while the core starts again as this device (our list came to name it). */
  private restarting: Promise<void> | undefined;
  /** Our display name as now saved: new invites and session starts say it. */
  private ownName = '';
  private readonly log: Logger;
  /** This device's Web Push subscription, kept registered with the relay. */
  private readonly push: PushRegistration;
  /** `deps.store`, seen through the running core's session cache while one runs. */
  private store: PetrelStore;

  constructor(private readonly deps: MessengerDeps) {
    this.log = deps.logger.child('messenger');
    this.store = deps.store;
    this.push = new PushRegistration(this.log.child('push'));
    const view = (this.view = new ViewProjection({ clock: deps.clock, metrics: deps.metrics, log: this.log }));
    deps.store.health.subscribe((s) => {
      const state = view.getState();
      view.patch({ storage: { ...state.storage, state: s }, ...(s === 'ok' ? {} : { phase: state.phase === 'loading' ? 'failed' : state.phase }) });
    });
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens storage state: boots the core when an identity exists, else waits for onboarding. */
  async start(): Promise<void> {
    try {
      const identity = await this.store.loadIdentity();
      if (!identity) {
        this.view.patch({ phase: 'onboarding' });
        return;
      }
      await this.boot(identityFromSeed(identity.seed), identity.displayName, identity.preKeyPool);
    } catch (err) {
      this.log.error('start failed', { error: err instanceof Error ? err.name : 'unknown' });
      this.view.patch({ phase: 'failed', storage: { ...this.view.getState().storage, state: this.store.health.get() } });
    }
  }

  async stop(): Promise<void> {
    this.view.detach();
    const r = this.running;
    this.running = undefined;
    if (!r) return;
    for (const c of r.cleanup) c();
    r.outbox.stop();
    r.starter.stop();
    r.pruner.stop();
    r.rotation.stop();
    r.publisher.stop();
    r.devices.stop();
    await r.files.stop();
    r.links.stop();
    r.directPolicy?.stop();
    r.direct?.close();
    r.router.dispose();
    r.relay.stop();
    // Nothing committed by this core after stop() resolves (a next core may start on the store).
    await r.receive.stop();
    // Lane work queued before the stop (a session start, a send) settles before a next core may start.
    await r.ctx.lane.run(async () => undefined);
    await r.counters.stop();
    this.store = this.deps.store;
  }

  async createIdentity(displayName: string): Promise<void> {
    const name = checkedDisplayName(displayName);
    if (this.running) return;
    const { random, clock } = this.deps;
    const identity = generateIdentity(random);
    // A few one-time keys now; the rest are made once the app is up (PreKeyPublisher.replenish).
    const pool = createPreKeyPool(identity, random, cryptoLimits.INITIAL_ONE_TIME_PREKEYS);
    const poolBytes = serializePreKeyPool(pool);
    await this.store.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: name, createdAt: clock.now(), preKeyPool: poolBytes, nextPreKeyId: pool.data.nextId });
    this.log.info('identity created');
    await this.boot(identity, name, poolBytes);
  }

  async setDisplayName(displayName: string): Promise<void> {
    const name = checkedDisplayName(displayName);
    const r = await this.ready();
    await r.ctx.store.setOwnDisplayName(name);
    this.ownName = name;
    this.view.patch({ me: this.meView(r.ctx.identity.publicKey) });
  }

  /** Who we are, as the views show it: name, id and the invite link that names us. */
  private meView(identityKey: Uint8Array): Me {
    const displayName = this.ownName;
    return { displayName, id: toHex(identityKey), inviteUrl: inviteUrl(this.deps.appUrl, { identityKey, displayName, relay: this.deps.relayUrl }) };
  }

  /** Wires the running core, in dependency order, and starts it. */
  private async boot(identity: Identity, displayName: string, poolBytes: Uint8Array | undefined): Promise<void> {
    const { clock, random, metrics, logger } = this.deps;
    const view = this.view;
    this.ownName = displayName;
    // The running core's view of the store: sessions served from memory (see session-cache.ts),
    // every write reported to the view, which re-reads only the rows it changed (view-changes.ts).
    const store = view.track(new SessionCachingStore(this.deps.store, new SessionCache(() => clock.now())));
    this.store = store;
    let pool;
    if (poolBytes) pool = deserializePreKeyPool(poolBytes);
    else {
      pool = createPreKeyPool(identity, random);
      await store.savePreKeyPool(serializePreKeyPool(pool));
    }
    // This device's id and key (made once; an account from before devices gets its row here),
    // and whether our account's list names it: then it sends and receives as that device (§13.5).
    const own = await bootDevices({ store, random, metrics, log: logger }, identity);
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
      devices: own.routing((ik) => void devices.refresh(ik)),
    };
    await upgradeStoredState(store, ctx.contacts.all().map((c) => c.id), poolBytes ? { bytes: poolBytes, value: pool } : undefined, logger);
    await upgradeUnnamedContacts(store, ctx.contacts, logger);

    // Transports: the relay, and the direct path (its signals go through the relay). Both
    // decode what they receive through the one ingress guard, which also deduplicates.
    const guard = new IngressGuard<Frame>({ decode: wireFrameDecoder(), metrics, logger });
    const relay = this.deps.createRelay({ identityKey: identity.publicKey, sign: async (payload) => identity.sign(payload), ingress: guard, ...(own.relayAuth ? { device: own.relayAuth } : {}) });
    const isOnline = () => relay.state.kind === 'online';
    this.push.attach(relay);
    const signals = new RtcSignalSender(ctx, { isOnline, sendSignal: (to, blob) => relay.sendSignal(to, blob) });
    const direct = this.deps.createDirect?.({ identity, sendSignal: (contactId, kind, data) => signals.send(contactId, kind, data), ingress: guard });
    const directPolicy = direct ? new DirectPathPolicy({ store, contacts: ctx.contacts, relay: { isOnline }, direct }) : undefined;
    const connectDirect = () => directPolicy?.connectAll();
    const transports: Transport[] = direct ? [direct.transport, relay] : [relay];
    const router = new Router(transports, { clock, random, metrics, logger }, this.deps.routerConfig);
    const changed = () => view.changed();
    const refresh = () => view.refresh();

    // Outgoing: outbox worker, session starter; incoming: receive pipeline.
    // A copy refused as sent to a stale device set: its new devices get copies (§13.5).
    const staleCover = new StaleDeviceCover({
      ctx,
      judge: async (account, signed) => (await devices.judge(account, signed)) !== undefined,
      refresh: (account) => devices.refresh(account),
      list: (account) => own.book.get(account),
      covered: (contactId) => {
        starter.ensure(contactId);
        outbox.kick();
      },
    });
    const outbox = new OutboxWorker(ctx, router, changed, (entry, list) => staleCover.refused(entry, list));
    const starter = new SessionStarter(ctx, { isOnline, fetchPrekeys: (ik, dev) => relay.fetchPrekeys(ik, dev) }, () => {
      outbox.kick();
      changed();
      connectDirect();
    }, () => this.ownName, this.deps.unpublishedDeviceWaitMs);
    const groups = wireGroups({
      ctx,
      relay: { isOnline, sendMulti: (id, to, body) => relay.sendMulti(id, to, body) },
      ensureSession: (id) => starter.ensure(id),
      queued: () => outbox.kick(),
      ownName: () => this.ownName,
    });
    const groupChanged = () => void view.refresh();
    const takeGroupInbox = groupInboxTaker(store, groups, groupChanged);
    view.attach({ store, contacts: ctx.contacts, relay, ...(direct ? { direct } : {}), groups: { views: () => groups.views(), messages: (id) => groups.messages(id) } });
    const pruner = new DedupPruner(store, clock, this.log);
    const receive = new ReceivePipeline(ctx, guard, {
      committed: (s) => {
        pruner.committed(s.envelopes);
        if (s.delivered.length) observeDeliveryLatency({ store, metrics, log: this.log }, s.delivered);
        for (const id of s.repairs) starter.ensure(id);
        if (s.deliveredFrom.length) void sendSiblingReceipts(ctx, s.deliveredFrom).then((n) => n && outbox.kick());
        outbox.kick();
        changed();
        if (s.messages && directPolicy) void directPolicy.noticeActiveContacts();
      },
      groupInbox: () => void takeGroupInbox(),
      rtc: (contactId, c) => {
        const contact = ctx.contacts.byId(contactId);
        if (contact) direct?.handleSignal(contactId, mailboxAddress(contact.identityKey), c.kind, c.data);
      },
      // A message request's sender is watched at once, not from the next connect on (§13.5).
      contactsAppeared: (keys) => keys.forEach((k) => void devices.contactAdded(k)),
    });

    // Our keys on the relay, and the counters in storage.
    const publisher = new PreKeyPublisher(ctx, relay);
    const rotation = new SignedPreKeyRotation(ctx, { isOnline, publishPrekeys: (b) => relay.publishPrekeys(b) });
    const counters = new CounterSaver({ store, clock, metrics, log: this.log });

    // The user's commands.
    const contacts = new ContactCommands(ctx, {
      added: (id) => {
        connectDirect();
        const contact = ctx.contacts.byId(id);
        if (contact) void devices.contactAdded(contact.identityKey);
      },
      keyChangeAcknowledged: (id) => starter.ensure(id),
      sendingAllowed: (id) => {
        starter.ensure(id);
        outbox.kick();
        // A contact accepted from a request was never watched: its devices (a restore, a link) would go unseen.
        const contact = ctx.contacts.byId(id);
        if (contact) void devices.contactAdded(contact.identityKey);
      },
      changed: refresh,
    });
    const backups = new BackupKeeper({ ctx, book: own.book, displayName: () => displayName, http: this.deps.blobHttp, argon2id: this.deps.argon2id, changed: (p) => view.patch(p) });
    const queued = () => {
      outbox.kick();
      void backups.uploadIfDue();
    };
    const messages = new MessageCommands(ctx, { needsSession: (id) => starter.ensure(id), queued, changed: refresh });
    const actions = new ActionCommands(ctx, { needsSession: (id) => starter.ensure(id), queued: () => outbox.kick(), changed: refresh });
    const files = new AttachmentCommands(ctx, this.deps.blobHttp, {
      needsSession: (id) => starter.ensure(id),
      queued: () => outbox.kick(),
      changed: refresh,
      transfers: (list) => view.patch({ transfers: list.length ? list : undefined }),
    });
    const reads = new ReadReceipts(ctx);
    const deviceRelay = { isOnline, fetchDeviceList: (ik: Uint8Array) => relay.fetchDeviceList(ik), watchDevices: (iks: readonly Uint8Array[]) => relay.watchDevices(iks) };
    // Our list naming this device for the first time (fetched, or published by a link this
    // device served): the core starts again as the device, once that link has sent everything.
    const restartAsDevice = () => {
      if (this.restarting) return;
      // Commands given from here until the core runs again as the device wait for it (ready()).
      const restarting = links
        .idle()
        .then(async () => {
          if (this.running?.devices !== devices) return;
          await this.stop();
          await this.start();
        })
        .catch((err: unknown) => this.log.error('restart as this device failed', { error: err instanceof Error ? err.name : 'unknown' }))
        .finally(() => {
          if (this.restarting === restarting) this.restarting = undefined;
        });
      this.restarting = restarting;
    };
    const links = new DeviceLinks({
      ctx,
      own: own.device,
      book: own.book,
      relay,
      displayName: () => displayName,
      changed: (p) => view.patch(p),
      unlinked: () => relay.stop(),
      published: () => {
        if (!own.listed) restartAsDevice();
      },
    });
    const devices = own.sync({ relay: deviceRelay, contacts: ctx.contacts, clock, lineAdded: refresh }, restartAsDevice);

    const cleanup: Array<() => void> = [];
    // A group message (one `send.multi` body) goes to the group parts; everything else to the pipeline.
    for (const t of transports) cleanup.push(t.onEnvelope((incoming) => (isGroupEnvelope(incoming.envelope.body) ? acceptGroupEnvelope(groups, incoming, groupChanged) : receive.accept(incoming))));
    void takeGroupInbox(); // frames a crash left in the inbox
    let cancelTick = clock.setTimeout(function tick() {
      void takeGroupInbox();
      void groups.tick().then(groupChanged, () => undefined);
      cancelTick = clock.setTimeout(tick, GROUP_TICK_MS);
    }, GROUP_TICK_MS);
    cleanup.push(() => cancelTick());
    if (direct) {
      // Signaling arrives on the relay's `signal` route, outside the mailbox: it goes through
      // the same unseal → decrypt → commit as an envelope (under a fresh id, nothing to ack).
      cleanup.push(relay.onSignal((blob) => receive.accept({ envelope: { to: own.mailbox, id: random.bytes(16), body: blob }, transport: 'relay', ack: () => {} })));
    }
    cleanup.push(
      relay.onConnectionState((s) => {
        view.connectionChanged();
        if (s.kind === 'offline' && s.reason === 'device_unlinked') links.becameUnlinked();
        if (s.kind === 'online') {
          // Rotation is checked after the first upload and the backlog the relay pushes on connect.
          void publisher
            .publish()
            .then(() => receive.idle())
            .then(() => rotation.check());
          void starter.resumeAll();
          this.push.online();
          outbox.kick();
          connectDirect();
          void devices.online().then(() => links.listChanged(identity.publicKey));
          void links.online();
          files.online();
          void groups.flush().then(groupChanged, () => undefined);
          void backups.uploadIfDue();
        }
      }),
      relay.onDevicesChanged((c) => void devices.refresh(c.ik).then(() => links.listChanged(c.ik))),
      relay.onPrekeysLow((counts) => void publisher.replenish(counts)),
      metrics.subscribe(() => counters.saveSoon()),
    );
    if (direct) {
      cleanup.push(
        direct.onChange(() => {
          view.connectionChanged();
          outbox.kick();
          changed();
        }),
      );
    }

    await directPolicy?.seed();
    await files.restore();
    this.running = { ctx, relay, router, receive, outbox, starter, pruner, rotation, publisher, counters, direct, directPolicy, contacts, messages, actions, files, reads, devices, links, backups, groups, cleanup };
    // Started before the first ready state is shown: that state says "connecting" (or
    // "offline" when the browser is), never the not-yet-started relay's "offline".
    relay.start();
    view.patch({
      phase: 'ready',
      me: this.meView(identity.publicKey),
      connection: view.connectionState(),
    });
    outbox.kick();
    pruner.start();
    rotation.start();
    await view.refresh();
    await backups.show();
    void this.deps.storagePersistence?.().then((p) => view.patch({ storage: { ...view.getState().storage, ...p } }));
  }

  // ---------------------------------------------------------------- state

  getState(): MessengerState {
    return this.view.getState();
  }

  subscribe(listener: () => void): () => void {
    return this.view.subscribe(listener);
  }

  // ---------------------------------------------------------------- commands

  parseInvite(url: string): Invite | undefined {
    return parseInviteUrl(url);
  }

  async addContact(invite: Invite): Promise<string> {
    return (await this.ready()).contacts.add(invite);
  }

  async openChat(contactId: string | undefined): Promise<void> {
    return this.view.openChat(contactId);
  }

  async loadOlder(): Promise<void> {
    return this.view.loadOlder();
  }

  async send(contactId: string, text: string, options: SendOptions = {}): Promise<void> {
    const r = await this.ready();
    if (isGroupId(contactId)) {
      if (options.replyTo !== undefined) throw new NotInGroupsError('replies are not sent in groups yet');
      await r.groups.send(contactId, text, options.id);
      return this.view.refresh();
    }
    return r.messages.send(contactId, text, options);
  }

  async retry(messageId: string): Promise<void> {
    const running = await this.ready();
    // A group message not yet deposited: the group outbox is sent again.
    if ((await running.ctx.store.groups.getMessage(messageId))?.memberStatus) {
      await running.groups.flush();
      return this.view.refresh();
    }
    // A failed upload (no message yet) continues where the relay's bytes end.
    if (await running.files.retry(messageId)) return;
    return running.messages.retry(messageId);
  }

  async setPushSubscription(sub: PushSubscriptionKeys | null): Promise<PushRegistrationOutcome> {
    return this.push.set(sub);
  }

  async reconnectNow(): Promise<void> {
    this.running?.relay.reconnectNow();
  }

  async sendFile(contactId: string, file: Blob, options: SendFileOptions = {}): Promise<string> {
    return (await this.ready()).files.sendFile(contactId, file as Blob & { name?: string }, options);
  }

  async cancelTransfer(messageId: string): Promise<void> {
    (await this.ready()).files.cancel(messageId);
  }

  async downloadAttachment(messageId: string): Promise<Blob> {
    return (await this.ready()).files.downloadAttachment(messageId);
  }

  async editMessage(messageId: string, text: string, options: ActionOptions = {}): Promise<void> {
    return (await this.ready()).actions.edit(messageId, text, options);
  }

  async deleteForEveryone(messageId: string, options: ActionOptions = {}): Promise<void> {
    return (await this.ready()).actions.deleteForEveryone(messageId, options);
  }

  async react(messageId: string, emoji: string, options: ActionOptions = {}): Promise<void> {
    return (await this.ready()).actions.react(messageId, emoji, options);
  }

  async deleteForMe(messageId: string): Promise<void> {
    return (await this.ready()).actions.deleteForMe(messageId);
  }

  async markRead(contactId: string, upTo?: string): Promise<void> {
    const r = await this.ready();
    if (isGroupId(contactId)) {
      await r.groups.markRead(contactId, upTo);
      return this.view.refresh();
    }
    if (await r.reads.markRead(contactId, upTo)) r.outbox.kick();
    await this.view.refresh();
  }

  async safetyNumber(contactId: string): Promise<SafetyNumber> {
    return (await this.ready()).contacts.safetyNumber(contactId);
  }

  async compareSafetyNumber(contactId: string, scanned: Uint8Array): Promise<'match' | 'mismatch'> {
    return (await this.ready()).contacts.compareSafetyNumber(contactId, scanned);
  }

  async setVerified(contactId: string, verified: boolean): Promise<void> {
    return (await this.ready()).contacts.setVerified(contactId, verified);
  }

  async acknowledgeKeyChange(contactId: string): Promise<void> {
    return (await this.ready()).contacts.acknowledgeKeyChange(contactId);
  }

  async renameContact(contactId: string, name: string): Promise<void> {
    return (await this.ready()).contacts.rename(contactId, name);
  }

  async deleteConversation(contactId: string): Promise<void> {
    return (await this.ready()).contacts.deleteConversation(contactId);
  }

  async setBlocked(contactId: string, blocked: boolean): Promise<void> {
    return (await this.ready()).contacts.setBlocked(contactId, blocked);
  }

  async acceptRequest(contactId: string): Promise<void> {
    return (await this.ready()).contacts.acceptRequest(contactId);
  }

  async createGroup(name: string, memberIds: readonly string[], options: CreateGroupOptions = {}): Promise<string> {
    const id = await (await this.ready()).groups.createGroup(name, memberIds, options.id);
    await this.view.refresh();
    return id;
  }

  async addGroupMembers(groupId: string, memberIds: readonly string[]): Promise<void> {
    await (await this.ready()).groups.addGroupMembers(groupId, memberIds);
    await this.view.refresh();
  }

  async removeGroupMember(groupId: string, memberId: string): Promise<void> {
    await (await this.ready()).groups.removeGroupMember(groupId, memberId);
    await this.view.refresh();
  }

  async leaveGroup(groupId: string): Promise<void> {
    await (await this.ready()).groups.leaveGroup(groupId);
    await this.view.refresh();
  }

  async renameGroup(groupId: string, name: string): Promise<void> {
    await (await this.ready()).groups.renameGroup(groupId, name);
    await this.view.refresh();
  }

  async createDeviceLink(): Promise<string> {
    return (await this.ready()).links.createLink();
  }

  async unlinkDevice(id: string): Promise<void> {
    return (await this.ready()).links.unlink(id);
  }

  async listDevices(): Promise<readonly DeviceView[]> {
    return (await this.ready()).links.list();
  }

  /** A new device takes the account over a link (link-this-device.ts), then boots on it. */
  async linkThisDevice(linkText: string): Promise<void> {
    if (this.running) throw new NoIdentityError('this browser already has an account');
    try {
      const account = await linkThisDevice(this.deps, linkText, (linking) => this.view.patch({ linking }));
      await this.boot(account.identity, account.displayName, account.poolBytes);
    } finally {
      this.view.patch({ linking: undefined });
    }
  }

  async createBackup(options: { readonly passphrase?: string } = {}): Promise<BackupMade> {
    return (await this.ready()).backups.create(options);
  }

  async setRelayBackup(on: boolean): Promise<{ readonly recoveryKey?: string }> {
    return (await this.ready()).backups.setRelay(on);
  }

  /** A new device restores the account from a backup file (restore-this-device.ts), then boots on it. */
  async restoreFromBackup(backup: Uint8Array, secret: string): Promise<void> {
    return this.restore(async () => restoreThisDevice(this.restoreDeps(), backup, backupSecretFor(backup, secret)));
  }

  /** As restoreFromBackup, with the copy the relay keeps under the recovery key. */
  async restoreFromRelay(recoveryKey: string): Promise<void> {
    return this.restore(async () => {
      const { backup, secret } = await fetchRelayBackup(this.deps.blobHttp, recoveryKey);
      return restoreThisDevice(this.restoreDeps(), backup, secret);
    });
  }

  private async restore(run: () => Promise<ImportedAccount>): Promise<void> {
    if (this.running) throw new NoIdentityError('this browser already has an account');
    const account = await run();
    await this.boot(account.identity, account.displayName, account.poolBytes);
  }

  private restoreDeps() {
    return { ...this.deps, crypto: this.deps.crypto ?? new CryptoRuntime(this.deps.random) };
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
    await this.view.refresh();
  }

  private need(): Running {
    if (!this.running) throw new NoIdentityError('create an identity first');
    return this.running;
  }

  /** The running core, once a restart as this device (after a link) has finished: a command given meanwhile waits for it instead of failing. */
  private async ready(): Promise<Running> {
    if (this.restarting) await this.restarting;
    return this.need();
  }
}
