/**
 * A test double of the messaging core: plain state, subscribe/notify, and commands
 * that record their calls and change the state the way the core would (sending
 * queues at once, retry re-queues, markRead clears the unread count, …).
 */
import { toHex } from '../../../src/core/bytes.ts';
import type { PushRegistrationOutcome, PushSubscriptionKeys } from '../../../src/core/messenger/push-registration.ts';
import type {
  ContactView,
  DeviceView,
  Diagnostics,
  Invite,
  MessageView,
  MessengerApi,
  MessengerState,
  SafetyNumber,
  SendFileOptions,
  SendOptions,
} from '../../../src/core/messenger/messenger-api.ts';

export type Call = { readonly command: string; readonly args: readonly unknown[] };

export const SAFETY_DIGITS = '123450987612345098761234509876123450987612345098761234509876';

const INVITE_PREFIX = 'https://petrel.test/#invite=';

export function contact(partial: Partial<ContactView> & { id: string; displayName: string }): ContactView {
  return { verified: false, keyChanged: false, unread: 0, direct: false, ...partial };
}

export function message(partial: Partial<MessageView> & { id: string; contactId: string }): MessageView {
  return { direction: 'out', text: 'hello', at: 1_700_000_000_000, status: 'sent', ...partial };
}

export function readyState(partial: Partial<MessengerState> = {}): MessengerState {
  return {
    phase: 'ready',
    me: { displayName: 'Alice', id: 'aa'.repeat(32), inviteUrl: `${INVITE_PREFIX}alice` },
    connection: { kind: 'online', direct: 0 },
    storage: { state: 'ok', persisted: true, usage: 2048, quota: 1024 * 1024 },
    contacts: [],
    queueDepth: 0,
    ...partial,
  };
}

/** The relay the fake's invites name unless told otherwise. */
export const FAKE_RELAY = 'ws://relay.test/ws';

/** The invites this fake understands: `https://petrel.test/#invite=<name>:<key byte>[:<relay URL>]`. */
export function fakeInviteUrl(name: string, keyByte = 0xbb, relay?: string): string {
  return `${INVITE_PREFIX}${encodeURIComponent(name)}:${keyByte}${relay ? `:${encodeURIComponent(relay)}` : ''}`;
}

export class FakeMessenger implements MessengerApi {
  readonly calls: Call[] = [];
  private readonly listeners = new Set<() => void>();
  diagnosticsValue: Diagnostics = { metrics: { counters: {}, gauges: {}, histograms: {} }, logs: [], breakers: {} };
  /** Set to make the next command of that name reject. */
  readonly failing = new Set<string>();
  private seq = 0;

  constructor(private state: MessengerState = readyState()) {}

  getState = (): MessengerState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Replaces part of the state and notifies, as the core does after every change. */
  set(partial: Partial<MessengerState>): void {
    this.state = { ...this.state, ...partial };
    for (const l of [...this.listeners]) l();
  }

  /** How many subscribers are attached (to check the UI unsubscribes). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  callsOf(command: string): ReadonlyArray<readonly unknown[]> {
    return this.calls.filter((c) => c.command === command).map((c) => c.args);
  }

  private record(command: string, ...args: unknown[]): void {
    this.calls.push({ command, args });
    if (this.failing.delete(command)) throw new Error(`${command} failed (test)`);
  }

  private updateContact(id: string, change: (c: ContactView) => ContactView): void {
    this.set({ contacts: this.state.contacts.map((c) => (c.id === id ? change(c) : c)) });
  }

  async createIdentity(displayName: string): Promise<void> {
    this.record('createIdentity', displayName);
    this.set({ phase: 'ready', me: { displayName, id: 'aa'.repeat(32), inviteUrl: `${INVITE_PREFIX}me` } });
  }

  async setDisplayName(displayName: string): Promise<void> {
    this.record('setDisplayName', displayName);
    const me = this.state.me;
    if (me) this.set({ me: { ...me, displayName: displayName.trim(), inviteUrl: `${INVITE_PREFIX}${encodeURIComponent(displayName.trim())}` } });
  }

  parseInvite(url: string): Invite | undefined {
    this.calls.push({ command: 'parseInvite', args: [url] });
    if (!url.startsWith(INVITE_PREFIX)) return undefined;
    const [name, key, relay] = url.slice(INVITE_PREFIX.length).split(':').map(decodeURIComponent);
    if (!name || !key) return undefined;
    return { identityKey: new Uint8Array(32).fill(Number(key)), displayName: name, relay: relay ?? FAKE_RELAY };
  }

  async addContact(invite: Invite): Promise<string> {
    this.record('addContact', invite);
    const id = toHex(invite.identityKey);
    if (!this.state.contacts.some((c) => c.id === id)) this.set({ contacts: [contact({ id, displayName: invite.displayName }), ...this.state.contacts] });
    return id;
  }

  async openChat(contactId: string | undefined): Promise<void> {
    this.record('openChat', contactId);
    this.set({ chat: contactId === undefined ? undefined : { contactId, messages: [], hasOlder: false } });
  }

  async loadOlder(): Promise<void> {
    this.record('loadOlder');
  }

  async send(contactId: string, text: string, options: SendOptions = {}): Promise<void> {
    this.record('send', contactId, text, ...(options.replyTo !== undefined ? [{ replyTo: options.replyTo }] : []));
    const quoted = options.replyTo === undefined ? undefined : this.state.chat?.messages.find((x) => x.id === options.replyTo);
    const m = message({ id: (++this.seq).toString(16).padStart(32, '0'), contactId, text, status: 'queued', ...(quoted ? { quote: { id: quoted.id, text: quoted.text } } : {}) });
    const chat = this.state.chat;
    if (chat?.contactId === contactId) this.set({ chat: { ...chat, messages: [...chat.messages, m] } });
    this.set({ queueDepth: this.state.queueDepth + 1 });
  }

  async retry(messageId: string): Promise<void> {
    this.record('retry', messageId);
  }

  async reconnectNow(): Promise<void> {
    this.record('reconnectNow');
  }

  async setPushSubscription(sub: PushSubscriptionKeys | null): Promise<PushRegistrationOutcome> {
    this.record('setPushSubscription', sub);
    return 'registered';
  }

  /** What `downloadAttachment` gives, per message id (unset: it rejects with `no_attachment`). */
  readonly files = new Map<string, Blob>();

  async sendFile(contactId: string, file: Blob, options: SendFileOptions = {}): Promise<string> {
    this.record('sendFile', contactId, file, options);
    const id = (++this.seq).toString(16).padStart(32, '0');
    const name = options.name ?? (file as Blob & { name?: string }).name ?? 'file';
    const m = message({ id, contactId, text: options.caption ?? '', status: 'queued', attachment: { name, mime: file.type, size: file.size } });
    const chat = this.state.chat;
    if (chat?.contactId === contactId) this.set({ chat: { ...chat, messages: [...chat.messages, m] } });
    return id;
  }

  async cancelTransfer(messageId: string): Promise<void> {
    this.record('cancelTransfer', messageId);
  }

  async downloadAttachment(messageId: string): Promise<Blob> {
    this.record('downloadAttachment', messageId);
    const blob = this.files.get(messageId);
    if (!blob) throw Object.assign(new Error('no file in this message'), { kind: 'no_attachment' });
    return blob;
  }

  /** Changes one message of the open chat, as the core's projection would show it. */
  private updateMessage(id: string, change: (m: MessageView) => MessageView): void {
    const chat = this.state.chat;
    if (chat) this.set({ chat: { ...chat, messages: chat.messages.map((m) => (m.id === id ? change(m) : m)) } });
  }

  async editMessage(messageId: string, text: string): Promise<void> {
    this.record('editMessage', messageId, text);
    this.updateMessage(messageId, (m) => ({ ...m, text, versions: [...(m.versions ?? [{ text: m.text, at: m.at }]), { text, at: m.at + 1 }] }));
  }

  async deleteForEveryone(messageId: string): Promise<void> {
    this.record('deleteForEveryone', messageId);
    this.updateMessage(messageId, ({ quote: _q, versions: _v, reactions: _r, canEdit: _e, canDeleteForEveryone: _d, ...m }) => ({ ...m, text: '', deleted: true }));
  }

  async react(messageId: string, emoji: string): Promise<void> {
    this.record('react', messageId, emoji);
    this.updateMessage(messageId, ({ reactions, ...m }) => {
      const next = [...(reactions ?? []).filter((r) => !r.mine), ...(emoji ? [{ emoji, mine: true }] : [])];
      return next.length ? { ...m, reactions: next } : m;
    });
  }

  async deleteForMe(messageId: string): Promise<void> {
    this.record('deleteForMe', messageId);
    const chat = this.state.chat;
    if (chat) this.set({ chat: { ...chat, messages: chat.messages.filter((m) => m.id !== messageId) } });
  }

  async markRead(contactId: string, upTo?: string): Promise<void> {
    this.record('markRead', ...(upTo === undefined ? [contactId] : [contactId, upTo]));
    const chat = this.state.chat;
    let stillUnread = 0;
    if (chat?.contactId === contactId && upTo !== undefined) {
      const end = chat.messages.findIndex((m) => m.id === upTo);
      const messages = chat.messages.map((m, i) => (m.direction === 'in' && i <= end ? { ...m, status: 'read' as const } : m));
      stillUnread = messages.filter((m) => m.direction === 'in' && m.status !== 'read').length;
      this.set({ chat: { ...chat, messages } });
    }
    this.updateContact(contactId, (c) => ({ ...c, unread: stillUnread }));
  }

  async safetyNumber(contactId: string): Promise<SafetyNumber> {
    this.record('safetyNumber', contactId);
    return { digits: SAFETY_DIGITS, qr: new Uint8Array(64).fill(7) };
  }

  /** 'match' for the fake's own safety-number payload read back (their side of it: the same bytes here). */
  async compareSafetyNumber(contactId: string, scanned: Uint8Array): Promise<'match' | 'mismatch'> {
    this.record('compareSafetyNumber', contactId, scanned);
    if (scanned.length !== 64) throw Object.assign(new Error('not a Petrel safety-number payload'), { kind: 'malformed_safety_number' });
    return scanned.every((b) => b === 7) ? 'match' : 'mismatch';
  }

  async setVerified(contactId: string, verified: boolean): Promise<void> {
    this.record('setVerified', contactId, verified);
    this.updateContact(contactId, (c) => ({ ...c, verified }));
  }

  async acknowledgeKeyChange(contactId: string): Promise<void> {
    this.record('acknowledgeKeyChange', contactId);
    // Acknowledged: nothing waits any more, including a claim on another contact's name.
    this.updateContact(contactId, ({ possibleKeyChangeOf: _claim, ...c }) => ({ ...c, keyChanged: false }));
  }

  async renameContact(contactId: string, name: string): Promise<void> {
    this.record('renameContact', contactId, name);
    const trimmed = name.trim();
    this.updateContact(contactId, ({ profileName, ...c }) => {
      const theirs = profileName ?? c.displayName;
      return trimmed ? { ...c, displayName: trimmed, profileName: theirs } : { ...c, displayName: theirs };
    });
  }

  async deleteConversation(contactId: string): Promise<void> {
    this.record('deleteConversation', contactId);
    const s = this.getState();
    this.set({ contacts: s.contacts.filter((c) => c.id !== contactId), ...(s.chat?.contactId === contactId ? { chat: { contactId, messages: [], hasOlder: false } } : {}) });
  }

  async setBlocked(contactId: string, blocked: boolean): Promise<void> {
    this.record('setBlocked', contactId, blocked);
    this.updateContact(contactId, ({ blocked: _b, request: _r, ...c }) => (blocked ? { ...c, blocked: true } : { ...c, ...(_r && !blocked ? { request: true } : {}) }));
  }

  /** The devices `listDevices` answers (this one first). */
  devices: DeviceView[] = [{ id: '01'.repeat(16), thisDevice: true, name: 'Chromium on Linux' }];

  async createDeviceLink(): Promise<string> {
    this.record('createDeviceLink');
    const link = 'petrel-link:AQ' + 'A'.repeat(52);
    this.set({ deviceLink: { status: 'waiting', link, expiresAt: Date.now() + 600_000 } });
    return link;
  }

  async unlinkDevice(id: string): Promise<void> {
    this.record('unlinkDevice', id);
    this.devices = this.devices.filter((d) => d.id !== id);
    this.set({ devices: this.devices });
  }

  async renameThisDevice(name: string): Promise<void> {
    this.record('renameThisDevice', name);
    this.devices = this.devices.map((d) => (d.thisDevice ? { ...d, name: name.trim() } : d));
    this.set({ devices: this.devices });
  }

  async listDevices(): Promise<readonly DeviceView[]> {
    this.record('listDevices');
    this.set({ devices: this.devices });
    return this.devices;
  }

  async linkThisDevice(linkText: string): Promise<void> {
    this.record('linkThisDevice', linkText);
    this.set({ phase: 'ready', me: { displayName: 'Alice', id: 'aa'.repeat(32), inviteUrl: `${INVITE_PREFIX}me` } });
  }

  /** The recovery key `createBackup` answers; `restoreError` makes the restores reject. */
  recoveryKey = 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789-CCCC';
  restoreError: Error | undefined;

  async createBackup(options: { readonly passphrase?: string } = {}): Promise<{ bytes: Uint8Array; recoveryKey?: string }> {
    this.record('createBackup', options);
    this.set({ backup: { relay: this.state.backup?.relay ?? false, lastBackupAt: Date.now() } });
    return { bytes: new Uint8Array([1, 2, 3]), ...(options.passphrase === undefined ? { recoveryKey: this.recoveryKey } : {}) };
  }

  async setRelayBackup(on: boolean): Promise<{ readonly recoveryKey?: string }> {
    this.record('setRelayBackup', on);
    this.set({ backup: { ...this.state.backup, relay: on } });
    return {};
  }

  async restoreFromBackup(backup: Uint8Array, secret: string): Promise<void> {
    this.record('restoreFromBackup', backup, secret);
    if (this.restoreError) throw this.restoreError;
    this.set({ phase: 'ready', me: { displayName: 'Alice', id: 'aa'.repeat(32), inviteUrl: `${INVITE_PREFIX}me` } });
  }

  async restoreFromRelay(recoveryKey: string): Promise<void> {
    this.record('restoreFromRelay', recoveryKey);
    if (this.restoreError) throw this.restoreError;
    this.set({ phase: 'ready', me: { displayName: 'Alice', id: 'aa'.repeat(32), inviteUrl: `${INVITE_PREFIX}me` } });
  }

  async acceptRequest(contactId: string): Promise<void> {
    this.record('acceptRequest', contactId);
    this.updateContact(contactId, ({ request: _r, ...c }) => c);
  }

  // Groups: recorded only (the groups UI gives them behaviour when it needs it).
  async createGroup(name: string, memberIds: readonly string[]): Promise<string> {
    this.record('createGroup', name, memberIds);
    return '00'.repeat(16);
  }

  async addGroupMembers(groupId: string, memberIds: readonly string[]): Promise<void> {
    this.record('addGroupMembers', groupId, memberIds);
  }

  async removeGroupMember(groupId: string, memberId: string): Promise<void> {
    this.record('removeGroupMember', groupId, memberId);
  }

  async leaveGroup(groupId: string): Promise<void> {
    this.record('leaveGroup', groupId);
  }

  async renameGroup(groupId: string, name: string): Promise<void> {
    this.record('renameGroup', groupId, name);
  }

  diagnostics(): Diagnostics {
    this.calls.push({ command: 'diagnostics', args: [] });
    return this.diagnosticsValue;
  }
}
