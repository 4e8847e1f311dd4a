/**
 * One active tab per profile. Only the tab holding an exclusive lock runs the messaging
 * core (so two tabs never advance the same ratchet or write the same outbox); the
 * others follow the leader's published state over a channel and wait for the lock.
 * When the leader closes — cleanly, or by crashing, in which case the browser releases
 * its lock — the next waiting tab is granted the lock and takes over.
 *
 * Framework-free and runtime-neutral: the lock manager and the channel are injected
 * (Web Locks + BroadcastChannel in `src/platform/tab-leadership.ts`, fakes in tests).
 */
import type { Logger } from './log.ts';

export interface HeldLock {
  release(): void;
}

export interface TabLocks {
  /**
   * Resolves once this tab holds the exclusive lock `name` (waiting while another tab
   * holds it). Rejects if `signal` aborts first, or when locks are unavailable.
   */
  acquire(name: string, signal: AbortSignal): Promise<HeldLock>;
}

export interface TabChannel<M> {
  /** Delivers to every other tab on the channel (not to this one). */
  post(message: M): void;
  subscribe(listener: (message: M) => void): () => void;
  close(): void;
}

export type LeadershipMessage<S> =
  | { readonly t: 'leader'; readonly tab: string }
  | { readonly t: 'state'; readonly tab: string; readonly state: S }
  | { readonly t: 'hello'; readonly tab: string }
  | { readonly t: 'resign'; readonly tab: string };

/**
 * starting: not started yet; follower: another tab leads (or none yet), we wait for the
 * lock; leader: this tab runs the core; stopped: closed; failed: locks unavailable.
 */
export type LeadershipRole = 'starting' | 'follower' | 'leader' | 'stopped' | 'failed';

export interface LeadershipSnapshot<S> {
  readonly role: LeadershipRole;
  /** The tab known to lead (this tab's id when leader). */
  readonly leaderTab?: string;
  /** The leader's last published state, as a follower sees it. */
  readonly followed?: S;
}

export interface TabLeadershipDeps<S> {
  readonly lockName: string;
  readonly tabId: string;
  readonly locks: TabLocks;
  readonly channel: TabChannel<LeadershipMessage<S>>;
  readonly logger: Logger;
}

export class TabLeadership<S> {
  private snapshot: LeadershipSnapshot<S> = { role: 'starting' };
  private readonly listeners = new Set<(s: LeadershipSnapshot<S>) => void>();
  private readonly abort = new AbortController();
  private lock: HeldLock | undefined;
  private lastPublished: { state: S } | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: TabLeadershipDeps<S>) {
    this.log = deps.logger.child('leadership');
  }

  getSnapshot(): LeadershipSnapshot<S> {
    return this.snapshot;
  }

  subscribe(listener: (s: LeadershipSnapshot<S>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts following and queues for the lock. Resolves once this tab is the leader (or stopped/failed). */
  async start(): Promise<LeadershipRole> {
    if (this.snapshot.role !== 'starting') return this.snapshot.role;
    this.unsubscribe = this.deps.channel.subscribe((m) => this.onMessage(m));
    this.set({ role: 'follower' });
    this.deps.channel.post({ t: 'hello', tab: this.deps.tabId });
    let lock: HeldLock;
    try {
      lock = await this.deps.locks.acquire(this.deps.lockName, this.abort.signal);
    } catch (e) {
      if (this.stopped()) return 'stopped';
      this.log.error('tab lock unavailable', { error: e instanceof Error ? e.name : 'unknown' });
      this.set({ role: 'failed' });
      return 'failed';
    }
    if (this.stopped()) {
      // Granted in the same turn as the stop: hand it straight on.
      lock.release();
      return 'stopped';
    }
    this.lock = lock;
    this.set({ role: 'leader', leaderTab: this.deps.tabId });
    this.deps.channel.post({ t: 'leader', tab: this.deps.tabId });
    this.log.info('this tab leads', { tab: this.deps.tabId });
    return 'leader';
  }

  /** The leader shares its state with the followers; false (and nothing sent) when not leading. */
  publish(state: S): boolean {
    if (this.snapshot.role !== 'leader') return false;
    this.lastPublished = { state };
    this.deps.channel.post({ t: 'state', tab: this.deps.tabId, state });
    return true;
  }

  /** Leaves: releases the lock (the next tab takes over) or stops waiting for it. */
  stop(): void {
    const role = this.snapshot.role;
    if (role === 'stopped') return;
    this.set({ role: 'stopped' });
    this.abort.abort();
    if (role === 'leader') this.deps.channel.post({ t: 'resign', tab: this.deps.tabId });
    this.lock?.release();
    this.lock = undefined;
    this.unsubscribe?.();
    this.deps.channel.close();
  }

  private onMessage(m: LeadershipMessage<S>): void {
    if (typeof m !== 'object' || m === null || typeof m.tab !== 'string' || m.tab === this.deps.tabId) return;
    const role = this.snapshot.role;
    switch (m.t) {
      case 'hello':
        if (role === 'leader') {
          this.deps.channel.post({ t: 'leader', tab: this.deps.tabId });
          if (this.lastPublished) this.deps.channel.post({ t: 'state', tab: this.deps.tabId, state: this.lastPublished.state });
        }
        return;
      case 'leader':
        if (role === 'follower') this.set({ ...this.snapshot, leaderTab: m.tab });
        return;
      case 'state':
        if (role === 'follower') this.set({ role, leaderTab: m.tab, followed: m.state });
        return;
      case 'resign':
        if (role === 'follower' && this.snapshot.leaderTab === m.tab) this.set({ role, ...(this.snapshot.followed !== undefined ? { followed: this.snapshot.followed } : {}) });
        return;
      default:
        return;
    }
  }

  /** Read through a method: `stop()` may have run while `start()` awaited the lock. */
  private stopped(): boolean {
    return this.snapshot.role === 'stopped';
  }

  private set(next: LeadershipSnapshot<S>): void {
    this.snapshot = next;
    for (const l of this.listeners) l(next);
  }
}
