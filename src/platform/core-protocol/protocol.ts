/**
 * The protocol between a tab's UI and the core it does not host itself (the core runs
 * in the elected tab; see docs/ARCHITECTURE.md, "Who hosts the core"). Every message
 * carries the protocol version; a command has an id unique for its client, and gets
 * exactly one result: a value, or a typed error. The host answers a command id it has
 * already answered with the same result (a client resends its open commands when the
 * host changes), and the commands themselves are idempotent where a resend could reach
 * a new host (`send` carries the message id from the keypress journal).
 *
 * Messages are plain structured-clone data (BroadcastChannel / MessagePort), checked on
 * arrival: anything malformed gets a typed error (when it can be answered) and changes nothing.
 */
import type { BackupMade, ChatWindow, DeviceView, Diagnostics, Invite, SafetyNumber } from '../../core/messenger/messenger-api.ts';
import type { PushRegistrationOutcome, PushSubscriptionKeys } from '../../core/messenger/push-registration.ts';

export const PROTOCOL_VERSION = 1;

/** The commands a client may send, with their arguments and result types. */
export interface CommandMap {
  createIdentity: { args: [displayName: string]; result: void };
  setDisplayName: { args: [displayName: string]; result: void };
  addContact: { args: [invite: Invite]; result: string };
  send: { args: [contactId: string, text: string, id: string | undefined, replyTo?: string]; result: void };
  /** Message actions carry their id (the idempotency key a resend to a new host keeps). */
  editMessage: { args: [messageId: string, text: string, id: string]; result: void };
  deleteForEveryone: { args: [messageId: string, id: string]; result: void };
  react: { args: [messageId: string, emoji: string, id: string]; result: void };
  deleteForMe: { args: [messageId: string]; result: void };
  retry: { args: [messageId: string]; result: void };
  /** The host's relay connection: stop waiting to reconnect, try now. */
  reconnectNow: { args: []; result: void };
  /** This device's Web Push subscription for the relay (null: none). */
  setPushSubscription: { args: [sub: PushSubscriptionKeys | null]; result: PushRegistrationOutcome };
  /** A Blob is structured-cloned across the channel (a File's name travels beside it). */
  sendFile: { args: [contactId: string, file: Blob, name: string | undefined, caption: string | undefined, id: string, preview?: Uint8Array]; result: string };
  cancelTransfer: { args: [messageId: string]; result: void };
  downloadAttachment: { args: [messageId: string]; result: Blob };
  markRead: { args: [contactId: string, upTo?: string]; result: void };
  safetyNumber: { args: [contactId: string]; result: SafetyNumber };
  compareSafetyNumber: { args: [contactId: string, scanned: Uint8Array]; result: 'match' | 'mismatch' };
  setVerified: { args: [contactId: string, verified: boolean]; result: void };
  acknowledgeKeyChange: { args: [contactId: string]; result: void };
  /** Sets the local name ('' clears it): a state, so a resend to a new host is harmless. */
  renameContact: { args: [contactId: string, name: string]; result: void };
  /** A no-op when the conversation is already deleted (a resend reaching a new host). */
  deleteConversation: { args: [contactId: string]; result: void };
  /** Sets blocked or not: a state. */
  setBlocked: { args: [contactId: string, blocked: boolean]; result: void };
  /** A no-op for an accepted contact. */
  acceptRequest: { args: [contactId: string]; result: void };
  /** Groups (PROTOCOL.md §17): createGroup carries the group id chosen by the client (a resend to a new host creates one group). */
  createGroup: { args: [name: string, memberIds: readonly string[], id: string]; result: string };
  addGroupMembers: { args: [groupId: string, memberIds: readonly string[]]; result: void };
  removeGroupMember: { args: [groupId: string, memberId: string]; result: void };
  leaveGroup: { args: [groupId: string]; result: void };
  renameGroup: { args: [groupId: string, name: string]; result: void };
  /** This client's chat window (each tab has its own open conversation). */
  chatWindow: { args: [contactId: string, limit: number]; result: ChatWindow };
  diagnostics: { args: []; result: Diagnostics };
  /** Device links (PROTOCOL.md §13.6): a new link each call; unlink is a state (a resend finds the device gone). */
  createDeviceLink: { args: []; result: string };
  unlinkDevice: { args: [id: string]; result: void };
  listDevices: { args: []; result: readonly DeviceView[] };
  renameThisDevice: { args: [name: string]; result: void };
  linkThisDevice: { args: [linkText: string]; result: void };
  /** Backups (PROTOCOL.md §16): each createBackup is a new backup (and key); the relay switch is a state. */
  createBackup: { args: [passphrase?: string]; result: BackupMade };
  restoreFromBackup: { args: [backup: Uint8Array, secret: string]; result: void };
  restoreFromRelay: { args: [recoveryKey: string]; result: void };
  setRelayBackup: { args: [on: boolean]; result: { readonly recoveryKey?: string } };
}

export type CommandName = keyof CommandMap;

export const COMMAND_NAMES: readonly CommandName[] = [
  'createIdentity',
  'setDisplayName',
  'addContact',
  'send',
  'retry',
  'editMessage',
  'deleteForEveryone',
  'react',
  'deleteForMe',
  'reconnectNow',
  'setPushSubscription',
  'sendFile',
  'cancelTransfer',
  'downloadAttachment',
  'markRead',
  'safetyNumber',
  'compareSafetyNumber',
  'setVerified',
  'acknowledgeKeyChange',
  'renameContact',
  'deleteConversation',
  'setBlocked',
  'acceptRequest',
  'createGroup',
  'addGroupMembers',
  'removeGroupMember',
  'leaveGroup',
  'renameGroup',
  'chatWindow',
  'diagnostics',
  'createDeviceLink',
  'unlinkDevice',
  'listDevices',
  'renameThisDevice',
  'linkThisDevice',
  'createBackup',
  'restoreFromBackup',
  'restoreFromRelay',
  'setRelayBackup',
];

/** Kinds of protocol failures (a command's own failures keep the messenger's kinds). */
export type ProtocolErrorKind = 'malformed' | 'unknown_command' | 'version_mismatch' | 'client_gone' | 'host_gone' | 'internal';

export interface WireError {
  readonly kind: string;
  readonly message: string;
}

export type ClientMessage =
  | { readonly v: number; readonly t: 'cmd'; readonly client: string; readonly id: number; readonly name: string; readonly args: readonly unknown[] }
  /** The client's tab is going away: commands still arriving from it are refused. */
  | { readonly v: number; readonly t: 'bye'; readonly client: string };

export type HostMessage =
  | { readonly v: number; readonly t: 'ok'; readonly client: string; readonly id: number; readonly value: unknown }
  | { readonly v: number; readonly t: 'err'; readonly client: string; readonly id: number; readonly error: WireError }
  /** Something changed in the core: clients refresh what they show (their chat window). */
  | { readonly v: number; readonly t: 'changed' };

/** A typed failure of the protocol itself, as clients see it. */
export class CoreProtocolError extends Error {
  override readonly name = 'CoreProtocolError';
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireError; readonly client?: string; readonly id?: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isClientId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 64;
const isCommandId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks a message from a client; the error says what was wrong (and whom to tell, when known). */
export function parseClientMessage(raw: unknown): Parsed<ClientMessage> {
  if (!isObject(raw)) return { ok: false, error: { kind: 'malformed', message: 'not an object' } };
  const client = isClientId(raw.client) ? raw.client : undefined;
  const id = isCommandId(raw.id) ? raw.id : undefined;
  const fail = (kind: ProtocolErrorKind, message: string): Parsed<ClientMessage> => ({
    ok: false,
    error: { kind, message },
    ...(client !== undefined ? { client } : {}),
    ...(id !== undefined ? { id } : {}),
  });
  if (raw.v !== PROTOCOL_VERSION) return fail('version_mismatch', `protocol version ${String(raw.v)}; this core speaks ${PROTOCOL_VERSION}: reload the tab`);
  if (client === undefined) return fail('malformed', 'missing client id');
  if (raw.t === 'bye') return { ok: true, value: { v: PROTOCOL_VERSION, t: 'bye', client } };
  if (raw.t !== 'cmd') return fail('malformed', `unknown message type ${String(raw.t)}`);
  if (id === undefined) return fail('malformed', 'missing command id');
  if (typeof raw.name !== 'string') return fail('malformed', 'missing command name');
  if (!Array.isArray(raw.args)) return fail('malformed', 'arguments must be an array');
  if (!(COMMAND_NAMES as readonly string[]).includes(raw.name)) return fail('unknown_command', `unknown command ${raw.name}`);
  return { ok: true, value: { v: PROTOCOL_VERSION, t: 'cmd', client, id, name: raw.name, args: raw.args } };
}

/** Checks a message from the host (a client ignores what is not for it or not well-formed). */
export function parseHostMessage(raw: unknown): HostMessage | undefined {
  if (!isObject(raw) || typeof raw.v !== 'number') return undefined;
  if (raw.t === 'changed') return { v: raw.v, t: 'changed' };
  if (!isClientId(raw.client) || !isCommandId(raw.id)) return undefined;
  if (raw.t === 'ok') return { v: raw.v, t: 'ok', client: raw.client, id: raw.id, value: raw.value };
  if (raw.t === 'err' && isObject(raw.error) && typeof raw.error.kind === 'string' && typeof raw.error.message === 'string') {
    return { v: raw.v, t: 'err', client: raw.client, id: raw.id, error: { kind: raw.error.kind, message: raw.error.message } };
  }
  return undefined;
}

/** An error as it crosses the protocol: its kind (messenger and store errors have one) and message. */
export function toWireError(err: unknown): WireError {
  const kind = (err as { kind?: unknown } | null)?.kind;
  return {
    kind: typeof kind === 'string' ? kind : 'internal',
    message: err instanceof Error ? err.message : 'the core failed to run the command',
  };
}
