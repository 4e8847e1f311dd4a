/**
 * One profile, many tabs, one running core. This tab asks for the profile's lock; while
 * another tab holds it, this one mirrors the leader's published state (phase `follower`,
 * read-only: commands refuse with NotLeaderError). When the leader closes or crashes the
 * browser grants the lock here, and this tab boots its own core from IndexedDB. Two tabs
 * therefore never advance the same ratchet.
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
import type { Invite, MessengerApi, MessengerState, SendOptions, StorageState } from '../core/messenger/messenger-api.ts';
import { parseInviteUrl } from '../core/messenger/invite.ts';
import { StorageHealth } from '../core/store/storage-health.ts';

export interface LeaderCore {
  readonly api: MessengerApi;
  stop(): Promise<void>;
}

export interface BootContext {
  /**
   * The storage health of this boot: pass it to the database open (which reports
   * `blocked` through it while it waits) and let the core observe it afterwards.
   */
  readonly health: StorageHealth;
}

export interface TabbedMessengerOptions {
  readonly logger?: Logger;
}

const LOADING: MessengerState = { phase: 'loading', connection: { kind: 'offline' }, storage: { state: 'ok' }, contacts: [], queueDepth: 0 };

/** Storage states after which the core's connection is gone for good: only a reload helps. */
const STORAGE_GONE: ReadonlySet<StorageState> = new Set(['closed', 'version_changed']);

export class TabbedMessenger implements MessengerApi {
  private core: LeaderCore | undefined;
  private mirror: MessengerState = LOADING;
  private readonly listeners = new Set<() => void>();
  private booting = false;
  /** Gave up leading (storage unusable or the tab stopped): never boots again. */
  private retired = false;

  constructor(
    private readonly leadership: TabLeadership<MessengerState>,
    private readonly bootCore: (ctx: BootContext) => Promise<LeaderCore>,
    private readonly options: TabbedMessengerOptions = {},
  ) {
    leadership.subscribe((snap) => this.onRole(snap));
  }

  async start(): Promise<void> {
    await this.leadership.start();
  }

  async stop(): Promise<void> {
    this.retired = true;
    this.leadership.stop();
    const core = this.core;
    this.core = undefined;
    await core?.stop();
  }

  private onRole(snap: LeadershipSnapshot<MessengerState>): void {
    if (this.retired) return;
    if (snap.role === 'leader') void this.becomeLeader();
    else if (snap.role === 'follower') {
      // Until a leader announces itself this tab is simply still opening (it may be first).
      if (snap.followed) this.setMirror({ ...snap.followed, phase: 'follower' });
      else if (snap.leaderTab !== undefined) this.setMirror({ ...LOADING, phase: 'follower' });
      else this.setMirror(this.mirror.phase === 'follower' ? this.mirror : LOADING);
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
      this.logError('core failed to start', { error: err instanceof Error ? err.name : 'unknown' });
      this.retire({ ...LOADING, phase: 'failed', storage: { state: health.get() } });
      return;
    } finally {
      unwatch();
      this.booting = false;
    }
    if (this.retired) {
      // The tab stopped while the core was opening.
      await core.stop();
      return;
    }
    this.core = core;
    core.api.subscribe(() => this.onCoreState(core));
    this.onCoreState(core);
  }

  private onCoreState(core: LeaderCore): void {
    if (this.core !== core) return;
    const state = core.api.getState();
    this.leadership.publish(state);
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
  private onLeader<T>(command: (api: MessengerApi) => Promise<T>): Promise<T> {
    if (!this.core) {
      return Promise.reject(new NotLeaderError(this.retired ? 'Petrel’s storage is unavailable in this tab: reload it' : 'Petrel is open in another tab'));
    }
    return command(this.core.api);
  }

  parseInvite(url: string): Invite | undefined {
    return parseInviteUrl(url);
  }

  createIdentity = (name: string) => this.onLeader((m) => m.createIdentity(name));
  addContact = (invite: Invite) => this.onLeader((m) => m.addContact(invite));
  openChat = (contactId: string | undefined) => this.onLeader((m) => m.openChat(contactId));
  loadOlder = () => this.onLeader((m) => m.loadOlder());
  send = (contactId: string, text: string, options?: SendOptions) => this.onLeader((m) => m.send(contactId, text, options));
  retry = (messageId: string) => this.onLeader((m) => m.retry(messageId));
  markRead = (contactId: string) => (this.core ? this.core.api.markRead(contactId) : Promise.resolve());
  safetyNumber = (contactId: string) => this.onLeader((m) => m.safetyNumber(contactId));
  setVerified = (contactId: string, verified: boolean) => this.onLeader((m) => m.setVerified(contactId, verified));
  acknowledgeKeyChange = (contactId: string) => this.onLeader((m) => m.acknowledgeKeyChange(contactId));
  diagnostics = () =>
    this.core ? this.core.api.diagnostics() : { metrics: { counters: {}, gauges: {}, histograms: {} }, logs: [], breakers: {} };
}
