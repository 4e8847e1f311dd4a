/**
 * The running core: its parts wired in dependency order once an identity exists
 * (`wireCore`), started (`startCore`) and stopped in reverse (`stopCore`). `Messenger` owns
 * one at a time and hands each part only what it needs; no part reaches back into it.
 */
import type { BlobHttp } from '../attachments/blob-http.ts';
import type { Argon2idFn } from '../backup/backup-key.ts';
import type { Clock } from '../clock.ts';
import {
  CryptoRuntime,
  createPreKeyPool,
  deserializePreKeyPool,
  serializePreKeyPool,
  type Identity,
} from '../crypto/index.ts';
import type { Logger, LogRecord } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import type { StageTrace } from '../stage-trace.ts';
import { SessionCache, SessionCachingStore, type OutboxRecord, type PetrelStore } from '../store/index.ts';
import { IngressGuard, Router, type FrameCheck, type RouterConfig, type Transport, wireFrameDecoder } from '../transport/index.ts';
import { fromHex, toHex } from '../bytes.ts';
import { deviceMailboxAddress, mailboxAddress, type Frame } from '../wire/index.ts';
import { ActionCommands } from './action-commands.ts';
import { AttachmentCommands } from './attachment-commands.ts';
import { ContactCommands } from './contact-commands.ts';
import { ContactDirectory } from './contact-directory.ts';
import type { MessengerContext } from './context.ts';
import { CounterSaver } from './counter-saver.ts';
import { DedupPruner } from './dedup-pruner.ts';
import type { DeviceSync } from './device-sync.ts';
import { DeviceLinks } from './device-links.ts';
import { BackupKeeper } from './backup-keeper.ts';
import { observeDeliveryLatency } from './delivery-latency.ts';
import { DirectPathPolicy } from './direct-path-policy.ts';
import type { DirectPath, DirectPeer, RtcKind } from './direct-path.ts';
import { acceptGroupEnvelope, GROUP_TICK_MS, groupInboxTaker, isGroupEnvelope, wireGroups } from './group-wiring.ts';
import { type Groups } from './groups.ts';
import { MessageCommands } from './message-commands.ts';
import type { Me } from './messenger-api.ts';
import { StaleDeviceCover } from './stale-device-cover.ts';
import { OutboxWorker } from './outbox-worker.ts';
import { bootDevices } from './device-boot.ts';
import { chatDevices } from './device-routing.ts';
import type { AccountSettingsPort } from './account-settings.ts';
import { PreKeyPublisher } from './prekey-publisher.ts';
import { SignedPreKeyRotation } from './prekey-rotation.ts';
import { ReadReceipts } from './read-receipts.ts';
import { ReceivePipeline } from './receive-pipeline.ts';
import type { RelayClient, RelayClientFactory } from './relay-client.ts';
import { RtcSignalSender } from './rtc-signal-sender.ts';
import { SerialLane } from './serial-lane.ts';
import type { PushRegistration } from './push-registration.ts';
import { sessionRowCheck } from './session-row-check.ts';
import { SessionStarter } from './session-starter.ts';
import { upgradeStoredState, upgradeUnnamedContacts } from './stored-state-upgrade.ts';
import type { ViewProjection } from './view-projection.ts';


export interface MessengerDeps {
  readonly store: PetrelStore;
  readonly createRelay: RelayClientFactory;
  /** Extra transports (the WebRTC direct path), created once the identity exists. */
  readonly createDirect?: (ctx: {
    identity: Identity;
    /** This device's mailbox as contacts address it (its device mailbox while our list names it, else the account's). */
    ownMailbox: Uint8Array;
    /** Encrypts a signal with the session of the one device it is for and sends it to that device's mailbox. */
    sendSignal: (peer: DirectPeer, kind: RtcKind, data: string) => Promise<void>;
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
  /** The account's settings outside the core (theme, notification content): a device link carries them to the new device (account-settings.ts). */
  readonly accountSettings?: AccountSettingsPort;
  /** How long copies for a contact's device without published keys wait for them (default UNPUBLISHED_DEVICE_WAIT_MS). */
  readonly unpublishedDeviceWaitMs?: number;
  /** Timing marks at the steps of a message's way (stage-trace.ts): the e2e benchmark's breakdown only. */
  readonly trace?: StageTrace;
  /** The longest an envelope from a device its sender's list does not name waits for a list fetch (default DEVICE_HOLD_MAX_MS). */
  readonly deviceHoldMaxMs?: number;
  /** This device's default name when it joins a device list: the platform's, e.g. "Chromium on Linux" (device-name.ts). */
  readonly deviceName?: string;
}

/** The parts of a running core (once an identity exists), in the order `stopCore` ends them. */
export interface RunningCore {
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

/** What the wiring takes from the `Messenger` that owns it. */
export interface CoreHost {
  readonly deps: MessengerDeps;
  readonly view: ViewProjection;
  readonly push: PushRegistration;
  readonly log: Logger;
  /** Our display name as now saved: new invites, session starts and backups say it. */
  readonly ownName: () => string;
  /** Another device of ours renamed the account (a profile update it sent us): this one says the new name too. */
  renamedElsewhere(name: string): void;
  /** Our list now names this device: the core starts again as it, if `devices` still belongs to the running core. */
  restartAsDevice(devices: DeviceSync): void;
}

/** Wires the core for `identity`, in dependency order; nothing is started yet (`startCore`). */
export async function wireCore(host: CoreHost, identity: Identity, poolBytes: Uint8Array | undefined): Promise<RunningCore> {
  const { deps, view } = host;
  const { clock, random, metrics, logger } = deps;
  // The running core's view of the store: sessions served from memory (see session-cache.ts),
  // every write reported to the view, which re-reads only the rows it changed (view-changes.ts).
  const store = view.track(new SessionCachingStore(deps.store, new SessionCache(() => clock.now()), sessionRowCheck(metrics, logger.child('sessions'))));
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
    crypto: deps.crypto ?? new CryptoRuntime(random),
    metrics,
    log: logger,
    lane: new SerialLane(),
    identity,
    contacts: await ContactDirectory.load(store),
    pool,
    ...(deps.trace ? { trace: deps.trace } : {}),
    devices: own.routing((ik) => devices.fetchList(ik)),
  };
  await upgradeStoredState(store, ctx.contacts.all().map((c) => c.id), poolBytes ? { bytes: poolBytes, value: pool } : undefined, logger);
  await upgradeUnnamedContacts(store, ctx.contacts, logger);

  // Transports: the relay, and the direct path (its signals go through the relay). Both
  // decode what they receive through the one ingress guard, which also deduplicates.
  const guard = new IngressGuard<Frame>({ decode: wireFrameDecoder(), metrics, logger });
  const relay = deps.createRelay({ identityKey: identity.publicKey, sign: async (payload) => identity.sign(payload), ingress: guard, ...(own.relayAuth ? { device: own.relayAuth } : {}) });
  const isOnline = () => relay.state.kind === 'online';
  host.push.attach(relay);
  const signals = new RtcSignalSender(ctx, { isOnline, sendSignal: (to, blob) => relay.sendSignal(to, blob) });
  const direct = deps.createDirect?.({ identity, ownMailbox: own.mailbox, sendSignal: (peer, kind, data) => signals.send(peer, kind, data), ingress: guard });
  // A channel per device of a contact (its verified list), one to the account mailbox for a single-device contact.
  const devicesOf = async (ik: Uint8Array) => (await ctx.devices?.targets(ik))?.filter((t) => !t.own).map((t) => ({ ...(t.deviceId ? { device: toHex(t.deviceId) } : {}), mailbox: t.mailbox }));
  const directPolicy = direct ? new DirectPathPolicy({ store, contacts: ctx.contacts, relay: { isOnline }, direct, devicesOf: async (ik) => (await devicesOf(ik)) ?? [{ mailbox: mailboxAddress(ik) }] }) : undefined;
  const connectDirect = () => directPolicy?.connectAll();
  const transports: Transport[] = direct ? [direct.transport, relay] : [relay];
  const router = new Router(transports, { clock, random, metrics, logger }, deps.routerConfig);
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
  const starter = new SessionStarter(ctx, { isOnline, fetchPrekeys: (ik, dev) => relay.fetchPrekeys(ik, dev) }, (contactId) => {
    outbox.kick();
    changed();
    connectDirect();
    // Our chains owed to its devices (a group send did not wait for this session) go now.
    if (contactId !== undefined) void groups.handOwed(contactId).then(groupChanged, () => undefined);
  }, host.ownName, deps.unpublishedDeviceWaitMs);
  const groups = wireGroups({
    ctx,
    relay: { isOnline, sendMulti: (id, to, body) => relay.sendMulti(id, to, body) },
    ensureSession: (id) => starter.ensure(id),
    queued: () => outbox.kick(),
    ownName: host.ownName,
  });
  const groupChanged = () => void view.refresh();
  const takeGroupInbox = groupInboxTaker(store, groups, groupChanged);
  view.attach({ store, contacts: ctx.contacts, relay, ...(direct ? { direct } : {}), groups: { views: () => groups.views(), messages: (id) => groups.messages(id) }, devicesOf: (id) => chatDevices(ctx, id) });
  const pruner = new DedupPruner(store, clock, host.log);
  const receive = new ReceivePipeline(ctx, guard, {
    committed: (s) => {
      // The receipts this commit queued as their contact's head go now; a round looks at the rest.
      for (const head of s.heads) outbox.offer(head);
      pruner.committed(s.envelopes);
      if (s.delivered.length) observeDeliveryLatency({ store, metrics, log: host.log }, s.delivered);
      for (const id of s.repairs) starter.ensure(id);
      // A session a contact's device (or ours) started towards us: its pending jobs and our
      // group chains owed to it go now, not with our own next start, send or its key request.
      for (const id of s.sessionsAccepted) {
        starter.ensure(id);
        void groups.handOwed(id).then(groupChanged, () => undefined);
      }
      if (s.ownName !== undefined && s.ownName !== host.ownName()) host.renamedElsewhere(s.ownName);
      outbox.kick();
      changed();
      if (s.messages && directPolicy) void directPolicy.noticeActiveContacts();
    },
    authenticated: (moves) => view.preview(moves),
    settled: (moves, committed) => view.settled(moves, committed),
    groupInbox: () => void takeGroupInbox(),
    rtc: (from, c) => {
      // The reply goes to the device that signalled, at its own mailbox.
      const contact = ctx.contacts.byId(from.contactId);
      if (contact) direct?.handleSignal(from, from.device === undefined ? mailboxAddress(contact.identityKey) : deviceMailboxAddress(contact.identityKey, fromHex(from.device)), c.kind, c.data);
    },
    // A message request's sender is watched at once, not from the next connect on (§13.5).
    contactsAppeared: (keys) => keys.forEach((k) => void devices.contactAdded(k)),
  }, deps.deviceHoldMaxMs);

  // Our keys on the relay, and the counters in storage.
  const publisher = new PreKeyPublisher(ctx, relay);
  const rotation = new SignedPreKeyRotation(ctx, { isOnline, publishPrekeys: (b) => relay.publishPrekeys(b) });
  const counters = new CounterSaver({ store, clock, metrics, log: host.log });

  // The user's commands.
  const contacts = new ContactCommands(ctx, {
    added: (id) => {
      connectDirect();
      // An invite under a group member's name with another key: said in its groups too.
      void groups.noteKeyChanges().then(groupChanged, () => undefined);
      const contact = ctx.contacts.byId(id);
      if (contact) void devices.contactAdded(contact.identityKey);
    },
    keyChangeAcknowledged: (id) => {
      starter.ensure(id);
      // Group messages sent to it while the change waited open now: our chains go to its devices.
      void groups.handOwed(id).then(groupChanged, () => undefined);
    },
    sendingAllowed: (id) => {
      starter.ensure(id);
      outbox.kick();
      // A contact accepted from a request was never watched: its devices (a restore, a link) would go unseen.
      const contact = ctx.contacts.byId(id);
      if (contact) void devices.contactAdded(contact.identityKey);
    },
    changed: refresh,
  });
  const backups = new BackupKeeper({ ctx, book: own.book, displayName: host.ownName, http: deps.blobHttp, argon2id: deps.argon2id, changed: (p) => view.patch(p) });
  const queued = (head?: OutboxRecord) => {
    if (head) outbox.offer(head);
    else outbox.kick();
    void backups.uploadIfDue();
  };
  const messages = new MessageCommands(ctx, { needsSession: (id) => starter.ensure(id), queued, changed: refresh });
  const actions = new ActionCommands(ctx, { needsSession: (id) => starter.ensure(id), queued: () => outbox.kick(), changed: refresh });
  const files = new AttachmentCommands(ctx, deps.blobHttp, {
    needsSession: (id) => starter.ensure(id),
    queued: () => outbox.kick(),
    changed: refresh,
    transfers: (list) => view.patch({ transfers: list.length ? list : undefined }),
  }, direct?.blobs);
  const reads = new ReadReceipts(ctx);
  const deviceRelay = { isOnline, fetchDeviceList: (ik: Uint8Array) => relay.fetchDeviceList(ik), watchDevices: (iks: readonly Uint8Array[]) => relay.watchDevices(iks) };
  // Our list naming this device for the first time (fetched, or published by a link this
  // device served): the core starts again as the device, once that link has sent everything.
  const restartAsDevice = () => void links.idle().then(() => host.restartAsDevice(devices));
  const links = new DeviceLinks({
    ctx,
    own: own.device,
    book: own.book,
    relay,
    displayName: host.ownName,
    ...(host.deps.deviceName !== undefined ? { defaultName: host.deps.deviceName } : {}),
    ...(host.deps.accountSettings ? { settings: host.deps.accountSettings } : {}),
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
    void groups.noteKeyChanges().then(groupChanged, () => undefined);
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
        host.push.online();
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
  return { ctx, relay, router, receive, outbox, starter, pruner, rotation, publisher, counters, direct, directPolicy, contacts, messages, actions, files, reads, devices, links, backups, groups, cleanup };
}

/** Connects a wired core and shows it ready as `me`. */
export async function startCore(host: CoreHost, core: RunningCore, me: Me): Promise<void> {
  const { view } = host;
  const { relay, outbox, pruner, rotation, backups } = core;
  // Started before the first ready state is shown: that state says "connecting" (or
  // "offline" when the browser is), never the not-yet-started relay's "offline".
  relay.start();
  view.patch({ phase: 'ready', me, connection: view.connectionState() });
  outbox.kick();
  pruner.start();
  rotation.start();
  await view.refresh();
  await backups.show();
  void host.deps.storagePersistence?.().then((p) => view.patch({ storage: { ...view.getState().storage, ...p } }));
}

/** Stops every part of `core`; nothing it commits follows the returned promise. */
export async function stopCore(core: RunningCore): Promise<void> {
  const r = core;
  for (const c of r.cleanup) c();
  r.outbox.stop();
  r.starter.stop();
  r.pruner.stop();
  r.rotation.stop();
  r.publisher.stop();
  r.devices.stop();
  await r.files.stop();
  r.links.stop();
  r.backups.stop();
  r.directPolicy?.stop();
  r.direct?.close();
  r.router.dispose();
  r.relay.stop();
  // Nothing committed by this core after stop() resolves (a next core may start on the store).
  await r.receive.stop();
  // Lane work queued before the stop (a session start, a send) settles before a next core may start.
  await r.ctx.lane.run(async () => undefined);
  await r.counters.stop();
}
