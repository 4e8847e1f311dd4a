/**
 * The one object the UI talks to (`MessengerApi`), and the owner of the running core:
 * onboarding, start and stop, and each command handed to the part that does it. The core
 * itself is wired in core-wiring.ts, in dependency order, from parts that each do one job:
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
import { toHex, utf8 } from '../bytes.ts';
import {
  CryptoRuntime,
  createPreKeyPool,
  generateIdentity,
  identityFromSeed,
  limits as cryptoLimits,
  mlKemImplementation,
  serializePreKeyPool,
  type Identity,
} from '../crypto/index.ts';
import type { Logger } from '../log.ts';
import type { PetrelStore } from '../store/index.ts';
import { linkThisDevice } from './link-this-device.ts';
import type { ImportedAccount } from './import-writer.ts';
import { backupSecretFor, fetchRelayBackup, restoreThisDevice } from './restore-this-device.ts';
import { InvalidMessageTextError, NoIdentityError } from './errors.ts';
import { messageBody } from './message-text-limit.ts';
import { sendProfileUpdate } from './profile-update.ts';
import { isGroupId } from './groups.ts';
import { chatDevices } from './device-routing.ts';
import { inviteUrl, parseInviteUrl } from './invite.ts';
import type { ActionOptions, BackupMade, ChatDevice, CreateGroupOptions, DeviceView, Diagnostics, Invite, Me, MessengerApi, MessengerState, SafetyNumber, SendFileOptions, SendOptions } from './messenger-api.ts';
import { PushRegistration, type PushRegistrationOutcome, type PushSubscriptionKeys } from './push-registration.ts';
import { ViewProjection } from './view-projection.ts';
import { startCore, stopCore, wireCore, type CoreHost, type MessengerDeps, type RunningCore } from './core-wiring.ts';


export { CHAT_PAGE_SIZE } from './view-projection.ts';
export { PREKEY_TOPUP_STEP } from './prekey-publisher.ts';
export { COUNTER_SAVE_INTERVAL_MS } from './counter-saver.ts';
export type { DirectPath, RtcKind } from './direct-path.ts';
export type { MessengerDeps } from './core-wiring.ts';

/** A display name trimmed, 1..64 bytes of UTF-8; InvalidMessageTextError otherwise. */
function checkedDisplayName(displayName: string): string {
  const name = typeof displayName === 'string' ? displayName.trim() : '';
  if (!name || utf8(name).length > 64) throw new InvalidMessageTextError('display name must be 1..64 bytes');
  return name;
}

export class Messenger implements MessengerApi {
  private readonly view: ViewProjection;
  private running: RunningCore | undefined;
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
    const view = (this.view = new ViewProjection({ clock: deps.clock, metrics: deps.metrics, log: this.log, ...(deps.trace ? { trace: deps.trace } : {}) }));
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
    await stopCore(r);
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
    // Contacts who already have us learn the new name (their local name for us still wins).
    if (await sendProfileUpdate(r.ctx, name)) r.outbox.kick();
  }

  /** Who we are, as the views show it: name, id and the invite link that names us. */
  private meView(identityKey: Uint8Array): Me {
    const displayName = this.ownName;
    return { displayName, id: toHex(identityKey), inviteUrl: inviteUrl(this.deps.appUrl, { identityKey, displayName, relay: this.deps.relayUrl }) };
  }

  /** Wires the running core for `identity` and starts it (core-wiring.ts). */
  private async boot(identity: Identity, displayName: string, poolBytes: Uint8Array | undefined): Promise<void> {
    this.ownName = displayName;
    const host: CoreHost = {
      deps: this.deps,
      view: this.view,
      push: this.push,
      log: this.log,
      ownName: () => this.ownName,
      renamedElsewhere: (name) => {
        // Renamed on another device of ours: this one says the new name too.
        this.ownName = name;
        this.view.patch({ me: this.meView(identity.publicKey) });
      },
      restartAsDevice: (devices) => {
        if (this.restarting) return;
        // Commands given from here until the core runs again as the device wait for it (ready()).
        const restarting = (async () => {
          if (this.running?.devices !== devices) return;
          await this.stop();
          await this.start();
          this.deps.metrics.inc('devices.restarted_as_listed');
          this.log.info('the core runs again, as a listed device');
        })()
          .catch((err: unknown) => this.log.error('restart as this device failed', { error: err instanceof Error ? err.name : 'unknown' }))
          .finally(() => {
            if (this.restarting === restarting) this.restarting = undefined;
          });
        this.restarting = restarting;
      },
    };
    const core = await wireCore(host, identity, poolBytes);
    this.store = core.ctx.store;
    this.running = core;
    await startCore(host, core, this.meView(identity.publicKey));
  }

  // ---------------------------------------------------------------- state

  getState(): MessengerState {
    return this.view.getState();
  }

  subscribe(listener: () => void): () => void {
    return this.view.subscribe(listener);
  }

  /**
   * The devices a 1:1 chat with `contactId` names for its messages' Details, as the open
   * chat's window has them (device-routing.ts): what another tab's window is given too.
   */
  async chatDevices(contactId: string): Promise<readonly ChatDevice[] | undefined> {
    const r = this.running;
    return r ? chatDevices(r.ctx, contactId) : undefined;
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
      await r.groups.send(contactId, text, options.id, options.replyTo);
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
    const r = await this.ready();
    if (!(await this.inGroup(messageId, options))) return r.actions.edit(messageId, text, options);
    await r.groups.edit(messageId, messageBody(text), options.id);
    return this.view.refresh();
  }

  async deleteForEveryone(messageId: string, options: ActionOptions = {}): Promise<void> {
    const r = await this.ready();
    if (!(await this.inGroup(messageId, options))) return r.actions.deleteForEveryone(messageId, options);
    await r.groups.deleteForEveryone(messageId, options.id);
    return this.view.refresh();
  }

  async react(messageId: string, emoji: string, options: ActionOptions = {}): Promise<void> {
    const r = await this.ready();
    if (!(await this.inGroup(messageId, options))) return r.actions.react(messageId, emoji, options);
    await r.groups.react(messageId, emoji, options.id);
    return this.view.refresh();
  }

  /** Whether an action's target is a group's message (then the group parts carry it); ids checked first, as the 1:1 commands do. */
  private async inGroup(messageId: string, options: ActionOptions): Promise<boolean> {
    const id = /^[0-9a-f]{32}$/u;
    if (!id.test(messageId) || (options.id !== undefined && !id.test(options.id))) return false;
    const row = await (await this.ready()).ctx.store.getMessage(messageId);
    return row !== undefined && isGroupId(row.contactId);
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

  async renameThisDevice(name: string): Promise<void> {
    await (await this.ready()).links.rename(name);
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
    return {
      metrics: this.deps.metrics.snapshot(),
      logs: this.deps.recentLogs(),
      breakers,
      mlKem: mlKemImplementation(),
      ...(r?.direct ? { direct: r.direct.channels() } : {}),
    };
  }

  /** For tests and benchmarks: resolves when received envelopes are all committed. */
  async idle(): Promise<void> {
    await this.running?.receive.idle();
    await this.view.refresh();
  }

  private need(): RunningCore {
    if (!this.running) throw new NoIdentityError('create an identity first');
    return this.running;
  }

  /** The running core, once a restart as this device (after a link) has finished: a command given meanwhile waits for it instead of failing. */
  private async ready(): Promise<RunningCore> {
    if (this.restarting) await this.restarting;
    return this.need();
  }
}
