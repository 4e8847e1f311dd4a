/**
 * One profile, many tabs, one running core. This tab asks for the profile's lock; while
 * another tab holds it, this one shows the leader's published state and runs every
 * command on the leader's core through the UI↔core protocol (`core-protocol/`): it is a
 * full client, with its own open conversation (its chat window is read by the host).
 * Without a protocol channel (tests of the old shape) a follower is read-only: phase
 * `follower`, commands refuse with NotLeaderError. When the leader closes or crashes the
 * browser grants the lock to a waiting tab, which boots its own core from IndexedDB;
 * commands still unanswered are sent again under their ids to whichever tab hosts next.
 * Two tabs therefore never advance the same ratchet.
 *
 * A core that cannot use its storage gives the lock up: a boot that throws (IndexedDB
 * missing, a failed migration, quota), a core that starts in phase `failed`, or storage
 * that is closed under a running core (`closed`, `version_changed`). The core is
 * stopped, the lock released so another tab may lead, and this tab keeps showing what
 * happened (phase and `storage.state`) until the user reloads it.
 */
import type { LeadershipSnapshot, TabLeadership } from '../core/leadership.ts';
import type { Logger } from '../core/log.ts';
import { NotLeaderError } from '../core/messenger/errors.ts';
import { newCommandId } from './core-protocol/command-id.ts';
import type { ActionOptions, ChatWindow, CreateGroupOptions, Diagnostics, Invite, MessengerApi, MessengerState, SendFileOptions, SendOptions, StorageState } from '../core/messenger/messenger-api.ts';
import type { PushSubscriptionKeys } from '../core/messenger/push-registration.ts';
import { parseInviteUrl } from '../core/messenger/invite.ts';
import { StorageHealth } from '../core/store/storage-health.ts';
import type { ChatReader } from './core-protocol/chat-reader.ts';
import { CoreClient } from './core-protocol/core-client.ts';
import { CoreHost } from './core-protocol/core-host.ts';
import type { ClientMessage, HostMessage } from './core-protocol/protocol.ts';

export interface LeaderCore {
  readonly api: MessengerApi;
  /** Reads a chat window for another tab (see CoreHost); without it other tabs cannot open chats. */
  readonly readChat?: ChatReader;
  stop(): Promise<void>;
}

export interface BootContext {
  /**
   * The storage health of this boot: pass it to the database open (which reports
   * `blocked` through it while it waits) and let the core observe it afterwards.
   */
  readonly health: StorageHealth;
}

/** The channel the UI↔core protocol travels on between this profile's tabs. */
export interface CoreChannel {
  post(message: ClientMessage | HostMessage): void;
  subscribe(listener: (message: unknown) => void): () => void;
}

export interface TabbedMessengerOptions {
  readonly logger?: Logger;
  /** With a channel every tab is a full client; without one a follower is read-only. */
  readonly coreChannel?: CoreChannel;
  /** This page's id on the protocol (unique per page load). */
  readonly clientId?: string;
  /**
   * Another tab, or this one, took over hosting the core (the previous host may have
   * died with pressed messages in the keypress journal: time to resend them).
   */
  readonly onHostChange?: () => void;
  /**
   * What to show until a core (this tab's or another's) says otherwise: the first-screen
   * hint (first-screen-hint.ts). Default: loading.
   */
  readonly initialState?: MessengerState;
}

const CHAT_PAGE = 100;
const NO_DIAGNOSTICS: Diagnostics = { metrics: { counters: {}, gauges: {}, histograms: {} }, logs: [], breakers: {} };

/** How long a tab that starts hosting the core waits for its open chat to be read before it shows the new core's state. */
export const TAKEOVER_CHAT_WAIT_MS = 1_000;

/** `p`, or nothing after `ms`. */
function withinMs(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    void p.finally(() => {
      clearTimeout(timer);
      done();
    });
  });
}

const LOADING: MessengerState = { phase: 'loading', connection: { kind: 'connecting' }, storage: { state: 'ok' }, contacts: [], queueDepth: 0 };

/** Storage states after which the core's connection is gone for good: only a reload helps. */
const STORAGE_GONE: ReadonlySet<StorageState> = new Set(['closed', 'version_changed']);

export class TabbedMessenger implements MessengerApi {
  private core: LeaderCore | undefined;
  private mirror: MessengerState = LOADING;
  private readonly listeners = new Set<() => void>();
  private booting = false;
  /** Gave up leading (storage unusable or the tab stopped): never boots again. */
  private retired = false;
  private readonly client: CoreClient | undefined;
  private host: CoreHost | undefined;
  private leaderTab: string | undefined;
  /** The conversation this tab shows, and how many messages of it. */
  private openContactId: string | undefined;
  private chatLimit = CHAT_PAGE;
  /** This tab's chat window while another tab hosts the core. */
  private remoteChat: ChatWindow | undefined;
  private chatReading: Promise<void> | undefined;
  private chatStale = false;
  private remoteDiagnostics: Diagnostics = NO_DIAGNOSTICS;

  constructor(
    private readonly leadership: TabLeadership<MessengerState>,
    private readonly bootCore: (ctx: BootContext) => Promise<LeaderCore>,
    private readonly options: TabbedMessengerOptions = {},
  ) {
    if (options.initialState) this.mirror = options.initialState;
    const channel = options.coreChannel;
    if (channel) {
      this.client = new CoreClient({ clientId: options.clientId ?? 'tab', post: (m) => channel.post(m) });
      channel.subscribe((m) => {
        if (this.host) this.host.receive(m);
        else this.client?.receive(m);
      });
      this.client.onChanged(() => this.readRemoteChat());
    }
    leadership.subscribe((snap) => this.onRole(snap));
  }

  async start(): Promise<void> {
    await this.leadership.start();
  }

  async stop(): Promise<void> {
    this.retired = true;
    this.client?.close();
    this.host?.stop();
    this.host = undefined;
    const core = this.core;
    this.core = undefined;
    // The core stops before the lock goes: the next tab's core must not run beside it.
    try {
      await core?.stop();
    } finally {
      this.leadership.stop();
    }
  }

  private onRole(snap: LeadershipSnapshot<MessengerState>): void {
    if (this.retired) return;
    if (snap.role === 'leader') void this.becomeLeader();
    else if (snap.role === 'follower') {
      if (this.client && snap.leaderTab !== undefined && snap.leaderTab !== this.leaderTab) {
        // Another tab hosts now: what the previous host left unanswered goes to it.
        const first = this.leaderTab === undefined;
        this.leaderTab = snap.leaderTab;
        this.client.resend();
        this.readRemoteChat();
        if (!first) this.options.onHostChange?.();
      }
      // Until a leader announces itself this tab is simply still opening (it may be first).
      if (snap.followed && this.client) this.setMirror(this.remoteView(snap.followed));
      else if (snap.followed) this.setMirror({ ...snap.followed, phase: 'follower' });
      else if (this.client) this.setMirror(this.mirror);
      else if (snap.leaderTab !== undefined) this.setMirror({ ...LOADING, phase: 'follower' });
      else this.setMirror(this.mirror.phase === 'follower' ? this.mirror : (this.options.initialState ?? LOADING));
    } else if (snap.role === 'failed') {
      // Neither Web Locks nor the channel fallback (see tab-leadership.ts): this tab cannot
      // know whether another one runs a core, so it runs none rather than risk a second.
      this.logError('no way to coordinate tabs: not starting the core');
      this.retired = true;
      this.setMirror({ ...LOADING, phase: 'failed' });
    }
  }

  private async becomeLeader(): Promise<void> {
    if (this.core || this.booting || this.retired) return;
    this.booting = true;
    const health = new StorageHealth();
    // Until the core exists, the open's progress is all there is to show (e.g. `blocked`).
    const unwatch = health.subscribe((state) => {
      if (!this.core) this.setMirror({ ...this.mirror, storage: { ...this.mirror.storage, state } });
    });
    let core: LeaderCore;
    try {
      core = await this.bootCore({ health });
    } catch (err) {
      this.booting = false;
      this.logError('core failed to start', { error: err instanceof Error ? err.name : 'unknown' });
      this.retire({ ...LOADING, phase: 'failed', storage: { state: health.get() } });
      return;
    } finally {
      unwatch();
    }
    // The new core's first state has no open chat: shown at once, it took the chat this tab
    // shows (and its composer) off the screen until the chat was read again, and Enter
    // pressed then did nothing. So the chat is opened in the new core first, while this tab
    // still shows what it showed (its commands wait and go to the new core once it hosts).
    let opened: string | undefined;
    while (!this.retired && this.openContactId !== undefined && this.openContactId !== opened) {
      opened = this.openContactId;
      await withinMs(core.api.openChat(opened).catch(() => undefined), TAKEOVER_CHAT_WAIT_MS);
    }
    this.booting = false;
    if (this.retired) {
      // The tab stopped while the core was opening.
      await core.stop();
      return;
    }
    this.core = core;
    this.leaderTab = undefined;
    this.remoteChat = undefined;
    core.api.subscribe(() => this.onCoreState(core));
    if (this.client && this.options.coreChannel) {
      const channel = this.options.coreChannel;
      const client = this.client;
      const host = new CoreHost({
        core: core.api,
        readChat: core.readChat ?? (() => Promise.reject(new NotLeaderError('this core cannot read chats for other tabs'))),
        // Answers go to the other tabs and to this tab's own commands resent below.
        post: (m) => {
          channel.post(m);
          client.receive(m);
        },
        ...(this.options.logger ? { logger: this.options.logger } : {}),
      });
      this.host = host;
      // Commands this tab sent to the host that went away: this tab hosts them now.
      client.resend((m) => host.receive(m));
    }
    this.onCoreState(core);
    this.options.onHostChange?.();
  }

  /**
   * Shows `state` while nothing is known yet (still loading, no core, no leader's state):
   * the first screen before the core answers. Ignored once anything real came.
   */
  showBeforeCore(state: MessengerState): void {
    if (this.core || this.retired || this.mirror.phase !== 'loading') return;
    this.setMirror(state);
  }

  /** Commands sent to another tab's core and not answered yet. */
  get commandsInFlight(): number {
    return this.client?.inFlight ?? 0;
  }

  /** The leader's state as this tab shows it: its own chat window, not the leader's. */
  private remoteView(followed: MessengerState): MessengerState {
    const { chat: _leaderChat, ...rest } = followed;
    return this.remoteChat && this.remoteChat.contactId === this.openContactId ? { ...rest, chat: this.remoteChat } : rest;
  }

  /** Reads this tab's chat window from the host (again, when it changed while reading). */
  private readRemoteChat(): void {
    const client = this.client;
    if (!client || this.core || this.openContactId === undefined) return;
    if (this.chatReading) {
      this.chatStale = true;
      return;
    }
    const contactId = this.openContactId;
    this.chatReading = client
      .call('chatWindow', contactId, this.chatLimit)
      .then((chat) => {
        if (this.core || this.openContactId !== contactId) return;
        this.remoteChat = chat;
        this.setMirror({ ...this.mirror, chat });
      })
      .catch(() => undefined)
      .finally(() => {
        this.chatReading = undefined;
        if (this.chatStale) {
          this.chatStale = false;
          this.readRemoteChat();
        }
      });
  }

  private onCoreState(core: LeaderCore): void {
    if (this.core !== core) return;
    const state = core.api.getState();
    // With the protocol every other tab reads its own chat window (chatWindow): the host's
    // open chat is not theirs to show, and cloning it to each of them on every change is waste.
    if (this.client && state.chat) {
      const { chat: _own, ...shared } = state;
      this.leadership.publish(shared);
    } else this.leadership.publish(state);
    if (state.phase === 'failed' || STORAGE_GONE.has(state.storage.state)) {
      this.logError('storage unusable: stopping the core and handing the lock on', { storage: state.storage.state });
      this.core = undefined;
      core.stop().catch(() => undefined);
      this.retire(state);
      return;
    }
    this.notify();
  }

  /** Stops leading for good: the last state stays on screen, the lock goes to the next tab. */
  private retire(last: MessengerState): void {
    this.retired = true;
    this.host?.stop();
    this.host = undefined;
    this.leadership.stop();
    this.setMirror(last);
  }

  private setMirror(state: MessengerState): void {
    this.mirror = state;
    this.notify();
  }

  private logError(msg: string, fields?: Record<string, string>): void {
    this.options.logger?.child('tabs').error(msg, fields);
  }

  getState(): MessengerState {
    return this.core ? this.core.api.getState() : this.mirror;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  /** Runs a command on this tab's core; without one it rejects (never throws synchronously). */
  private onLeader<T>(command: (api: MessengerApi) => Promise<T>, remote?: (client: CoreClient) => Promise<T>): Promise<T> {
    if (!this.core && remote && this.client && !this.retired) return remote(this.client);
    if (!this.core) {
      return Promise.reject(new NotLeaderError(this.retired ? 'Petrel’s storage is unavailable in this tab: reload it' : 'Petrel is open in another tab'));
    }
    return command(this.core.api);
  }

  parseInvite(url: string): Invite | undefined {
    return parseInviteUrl(url);
  }

  createIdentity = (name: string) => this.onLeader((m) => m.createIdentity(name), (c) => c.call('createIdentity', name));
  setDisplayName = (name: string) => this.onLeader((m) => m.setDisplayName(name), (c) => c.call('setDisplayName', name));
  addContact = (invite: Invite) => this.onLeader((m) => m.addContact(invite), (c) => c.call('addContact', invite));
  openChat = (contactId: string | undefined) => {
    this.openContactId = contactId;
    this.chatLimit = CHAT_PAGE;
    if (this.core) return this.core.api.openChat(contactId);
    this.remoteChat = undefined;
    const { chat: _old, ...rest } = this.mirror;
    this.setMirror(rest);
    this.readRemoteChat();
    return Promise.resolve();
  };
  loadOlder = () => {
    if (this.core) return this.core.api.loadOlder();
    if (!this.remoteChat?.hasOlder) return Promise.resolve();
    this.chatLimit += CHAT_PAGE;
    this.readRemoteChat();
    return Promise.resolve();
  };
  send = (contactId: string, text: string, options?: SendOptions) =>
    this.onLeader(
      (m) => m.send(contactId, text, options),
      (c) => c.call('send', contactId, text, options?.id, options?.replyTo),
    );
  // Actions carry an id of their own, so a command resent to a new host acts once.
  editMessage = (messageId: string, text: string, options: ActionOptions = {}) => {
    const id = options.id ?? newCommandId();
    return this.onLeader((m) => m.editMessage(messageId, text, { id }), (c) => c.call('editMessage', messageId, text, id));
  };
  deleteForEveryone = (messageId: string, options: ActionOptions = {}) => {
    const id = options.id ?? newCommandId();
    return this.onLeader((m) => m.deleteForEveryone(messageId, { id }), (c) => c.call('deleteForEveryone', messageId, id));
  };
  react = (messageId: string, emoji: string, options: ActionOptions = {}) => {
    const id = options.id ?? newCommandId();
    return this.onLeader((m) => m.react(messageId, emoji, { id }), (c) => c.call('react', messageId, emoji, id));
  };
  deleteForMe = (messageId: string) => this.onLeader((m) => m.deleteForMe(messageId), (c) => c.call('deleteForMe', messageId));
  retry = (messageId: string) => this.onLeader((m) => m.retry(messageId), (c) => c.call('retry', messageId));
  reconnectNow = () => this.onLeader((m) => m.reconnectNow(), (c) => c.call('reconnectNow'));
  setPushSubscription = (sub: PushSubscriptionKeys | null) =>
    this.onLeader(
      (m) => m.setPushSubscription(sub),
      (c) => c.call('setPushSubscription', sub),
    );
  sendFile = (contactId: string, file: Blob, options: SendFileOptions = {}) => {
    // An id of its own, so a command resent to a new host sends the file once.
    const id = options.id ?? newCommandId();
    const name = options.name ?? (file as Blob & { name?: string }).name;
    return this.onLeader(
      (m) => m.sendFile(contactId, file, { ...options, id }),
      (c) => c.call('sendFile', contactId, file, name, options.caption, id, options.preview),
    );
  };
  cancelTransfer = (messageId: string) => this.onLeader((m) => m.cancelTransfer(messageId), (c) => c.call('cancelTransfer', messageId));
  downloadAttachment = (messageId: string) => this.onLeader((m) => m.downloadAttachment(messageId), (c) => c.call('downloadAttachment', messageId));
  markRead = (contactId: string, upTo?: string) =>
    this.onLeader(
      (m) => m.markRead(contactId, upTo),
      (c) => c.call('markRead', contactId, upTo),
    ).catch((err: unknown) => {
      if (!this.core && !this.client) return; // a read-only follower marks nothing
      throw err;
    });
  safetyNumber = (contactId: string) => this.onLeader((m) => m.safetyNumber(contactId), (c) => c.call('safetyNumber', contactId));
  compareSafetyNumber = (contactId: string, scanned: Uint8Array) =>
    this.onLeader(
      (m) => m.compareSafetyNumber(contactId, scanned),
      (c) => c.call('compareSafetyNumber', contactId, scanned),
    );
  setVerified = (contactId: string, verified: boolean) => this.onLeader((m) => m.setVerified(contactId, verified), (c) => c.call('setVerified', contactId, verified));
  acknowledgeKeyChange = (contactId: string) => this.onLeader((m) => m.acknowledgeKeyChange(contactId), (c) => c.call('acknowledgeKeyChange', contactId));
  renameContact = (contactId: string, name: string) => this.onLeader((m) => m.renameContact(contactId, name), (c) => c.call('renameContact', contactId, name));
  deleteConversation = (contactId: string) => this.onLeader((m) => m.deleteConversation(contactId), (c) => c.call('deleteConversation', contactId));
  setBlocked = (contactId: string, blocked: boolean) => this.onLeader((m) => m.setBlocked(contactId, blocked), (c) => c.call('setBlocked', contactId, blocked));
  acceptRequest = (contactId: string) => this.onLeader((m) => m.acceptRequest(contactId), (c) => c.call('acceptRequest', contactId));
  createGroup = (name: string, memberIds: readonly string[], options: CreateGroupOptions = {}) => {
    // The group's id is chosen once, so a command resent to a new leader creates one group.
    const id = options.id ?? newCommandId();
    return this.onLeader((m) => m.createGroup(name, memberIds, { id }), (c) => c.call('createGroup', name, memberIds, id));
  };
  addGroupMembers = (groupId: string, memberIds: readonly string[]) => this.onLeader((m) => m.addGroupMembers(groupId, memberIds), (c) => c.call('addGroupMembers', groupId, memberIds));
  removeGroupMember = (groupId: string, memberId: string) => this.onLeader((m) => m.removeGroupMember(groupId, memberId), (c) => c.call('removeGroupMember', groupId, memberId));
  leaveGroup = (groupId: string) => this.onLeader((m) => m.leaveGroup(groupId), (c) => c.call('leaveGroup', groupId));
  renameGroup = (groupId: string, name: string) => this.onLeader((m) => m.renameGroup(groupId, name), (c) => c.call('renameGroup', groupId, name));
  createDeviceLink = () => this.onLeader((m) => m.createDeviceLink(), (c) => c.call('createDeviceLink'));
  unlinkDevice = (id: string) => this.onLeader((m) => m.unlinkDevice(id), (c) => c.call('unlinkDevice', id));
  listDevices = () => this.onLeader((m) => m.listDevices(), (c) => c.call('listDevices'));
  renameThisDevice = (name: string) => this.onLeader((m) => m.renameThisDevice(name), (c) => c.call('renameThisDevice', name));
  linkThisDevice = (linkText: string) => this.onLeader((m) => m.linkThisDevice(linkText), (c) => c.call('linkThisDevice', linkText));
  createBackup = (options: { readonly passphrase?: string } = {}) =>
    this.onLeader((m) => m.createBackup(options), (c) => (options.passphrase === undefined ? c.call('createBackup') : c.call('createBackup', options.passphrase)));
  restoreFromBackup = (backup: Uint8Array, secret: string) => this.onLeader((m) => m.restoreFromBackup(backup, secret), (c) => c.call('restoreFromBackup', backup, secret));
  restoreFromRelay = (recoveryKey: string) => this.onLeader((m) => m.restoreFromRelay(recoveryKey), (c) => c.call('restoreFromRelay', recoveryKey));
  setRelayBackup = (on: boolean) => this.onLeader((m) => m.setRelayBackup(on), (c) => c.call('setRelayBackup', on));
  diagnostics = (): Diagnostics => {
    if (this.core) return this.core.api.diagnostics();
    // Synchronous for the views: the last answer, refreshed for the next read.
    this.client
      ?.call('diagnostics')
      .then((d) => (this.remoteDiagnostics = d))
      .catch(() => undefined);
    return this.remoteDiagnostics;
  };
}
