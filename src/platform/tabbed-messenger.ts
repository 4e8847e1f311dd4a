/**
 * One profile, many tabs, one running core. This tab asks for the profile's lock; while
 * another tab holds it, this one mirrors the leader's published state (phase `follower`,
 * read-only: commands refuse with NotLeaderError). When the leader closes or crashes the
 * browser grants the lock here, and this tab boots its own core from IndexedDB. Two tabs
 * therefore never advance the same ratchet.
 */
import type { TabLeadership } from '../core/leadership.ts';
import { NotLeaderError } from '../core/messenger/errors.ts';
import type { Invite, MessengerApi, MessengerState } from '../core/messenger/messenger-api.ts';
import { parseInviteUrl } from '../core/messenger/invite.ts';

export interface LeaderCore {
  readonly api: MessengerApi;
  stop(): Promise<void>;
}

const LOADING: MessengerState = { phase: 'loading', connection: { kind: 'offline' }, storage: { state: 'ok' }, contacts: [], queueDepth: 0 };

export class TabbedMessenger implements MessengerApi {
  private core: LeaderCore | undefined;
  private mirror: MessengerState = LOADING;
  private readonly listeners = new Set<() => void>();
  private booting = false;

  constructor(
    private readonly leadership: TabLeadership<MessengerState>,
    private readonly bootCore: () => Promise<LeaderCore>,
  ) {
    leadership.subscribe((snap) => {
      if (snap.role === 'leader') void this.becomeLeader();
      else if (snap.role === 'follower') {
        this.mirror = snap.followed ? { ...snap.followed, phase: 'follower' } : { ...LOADING, phase: 'follower' };
        this.notify();
      } else if (snap.role === 'failed') {
        // No Web Locks: run the core anyway (single-tab browsers).
        void this.becomeLeader();
      }
    });
  }

  async start(): Promise<void> {
    await this.leadership.start();
  }

  async stop(): Promise<void> {
    this.leadership.stop();
    await this.core?.stop();
  }

  private async becomeLeader(): Promise<void> {
    if (this.core || this.booting) return;
    this.booting = true;
    try {
      const core = await this.bootCore();
      this.core = core;
      core.api.subscribe(() => {
        this.leadership.publish(core.api.getState());
        this.notify();
      });
      this.leadership.publish(core.api.getState());
      this.notify();
    } finally {
      this.booting = false;
    }
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

  private leader(): MessengerApi {
    if (!this.core) throw new NotLeaderError('Petrel is open in another tab');
    return this.core.api;
  }

  parseInvite(url: string): Invite | undefined {
    return parseInviteUrl(url);
  }

  createIdentity = (name: string) => this.leader().createIdentity(name);
  addContact = (invite: Invite) => this.leader().addContact(invite);
  openChat = (contactId: string | undefined) => this.leader().openChat(contactId);
  loadOlder = () => this.leader().loadOlder();
  send = (contactId: string, text: string) => this.leader().send(contactId, text);
  retry = (messageId: string) => this.leader().retry(messageId);
  markRead = (contactId: string) => (this.core ? this.core.api.markRead(contactId) : Promise.resolve());
  safetyNumber = (contactId: string) => this.leader().safetyNumber(contactId);
  setVerified = (contactId: string, verified: boolean) => this.leader().setVerified(contactId, verified);
  acknowledgeKeyChange = (contactId: string) => this.leader().acknowledgeKeyChange(contactId);
  diagnostics = () =>
    this.core ? this.core.api.diagnostics() : { metrics: { counters: {}, gauges: {}, histograms: {} }, logs: [], breakers: {} };
}
