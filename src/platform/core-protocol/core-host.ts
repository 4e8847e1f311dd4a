/**
 * The core's side of the protocol: runs client tabs' commands on the core this tab
 * hosts and answers each command id once (a resent id gets the first answer, even
 * while it still runs; a read is simply read again once answered). Bad input — a malformed message, an unknown command, another
 * protocol version, arguments of the wrong type, a command from a tab that said
 * goodbye — gets a typed error and changes nothing; the host never throws.
 */
import type { Logger } from '../../core/log.ts';
import type { Invite, MessengerApi } from '../../core/messenger/messenger-api.ts';
import type { PushSubscriptionKeys } from '../../core/messenger/push-registration.ts';
import type { ChatReader } from './chat-reader.ts';
import { PROTOCOL_VERSION, parseClientMessage, toWireError, type CommandName, type HostMessage, type WireError } from './protocol.ts';

/**
 * Commands that only read: running one again changes nothing, so its answer is kept
 * only while it runs (the diagnostics, with their log lines, are asked for often).
 */
const READS: ReadonlySet<CommandName> = new Set(['chatWindow', 'diagnostics', 'safetyNumber', 'compareSafetyNumber']);

/** How many answers are kept for resent command ids (oldest dropped first). */
const ANSWERS_KEPT = 1_000;

export interface CoreHostDeps {
  readonly core: MessengerApi;
  readonly readChat: ChatReader;
  readonly post: (message: HostMessage) => void;
  readonly logger?: Logger;
}

type Handler = (args: readonly unknown[]) => Promise<unknown>;

class BadArguments extends Error {}

const str = (v: unknown): string => {
  if (typeof v !== 'string') throw new BadArguments('expected a string');
  return v;
};
const bool = (v: unknown): boolean => {
  if (typeof v !== 'boolean') throw new BadArguments('expected a boolean');
  return v;
};
const invite = (v: unknown): Invite => {
  const i = v as Partial<Invite> | null;
  if (!i || !(i.identityKey instanceof Uint8Array) || typeof i.displayName !== 'string' || typeof i.relay !== 'string') throw new BadArguments('expected an invite');
  return { identityKey: i.identityKey, displayName: i.displayName, relay: i.relay };
};
/** A message or action id: 32 lowercase hex characters. */
const hexId = (v: unknown): string => {
  if (typeof v !== 'string' || !/^[0-9a-f]{32}$/u.test(v)) throw new BadArguments('expected an id of 32 lowercase hex characters');
  return v;
};
/** A list of ids (at most a group's 1,000 members). */
const strs = (v: unknown): readonly string[] => {
  if (!Array.isArray(v) || v.length > 1_000 || !v.every((x) => typeof x === 'string')) throw new BadArguments('expected a list of at most 1,000 strings');
  return v as string[];
};
const optStr = (v: unknown): string | undefined => (v === undefined ? undefined : str(v));
const blob = (v: unknown): Blob => {
  if (typeof Blob === 'undefined' || !(v instanceof Blob)) throw new BadArguments('expected a Blob');
  return v;
};
const optBytes = (v: unknown): Uint8Array | undefined => {
  if (v === undefined) return undefined;
  if (!(v instanceof Uint8Array)) throw new BadArguments('expected bytes');
  return v;
};
const bytes = (v: unknown): Uint8Array => {
  if (!(v instanceof Uint8Array)) throw new BadArguments('expected bytes');
  return v;
};
const pushSub = (v: unknown): PushSubscriptionKeys | null => {
  if (v === null) return null;
  const s = v as Partial<PushSubscriptionKeys> | undefined;
  if (!s || typeof s.endpoint !== 'string' || !(s.p256dh instanceof Uint8Array) || !(s.auth instanceof Uint8Array)) throw new BadArguments('expected a push subscription or null');
  return { endpoint: s.endpoint, p256dh: s.p256dh, auth: s.auth };
};
const limit = (v: unknown): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new BadArguments('expected a positive integer');
  return v;
};

export class CoreHost {
  private readonly answers = new Map<string, Promise<HostMessage>>();
  private readonly gone = new Set<string>();
  private readonly handlers: Record<CommandName, Handler>;
  private readonly unsubscribe: () => void;
  /** Stopped (this tab stops hosting): nothing more is run or answered. */
  private stopped = false;
  /** Messages refused as bad input (for tests and diagnostics). */
  refused = 0;

  constructor(private readonly deps: CoreHostDeps) {
    const { core } = deps;
    this.handlers = {
      createIdentity: ([name]) => core.createIdentity(str(name)),
      setDisplayName: ([name]) => core.setDisplayName(str(name)),
      addContact: ([i]) => core.addContact(invite(i)),
      send: ([contactId, text, id, replyTo]) => {
        const r = optStr(replyTo);
        return core.send(str(contactId), str(text), { ...(id === undefined ? {} : { id: str(id) }), ...(r !== undefined ? { replyTo: r } : {}) });
      },
      editMessage: ([messageId, text, id]) => core.editMessage(hexId(messageId), str(text), { id: hexId(id) }),
      deleteForEveryone: ([messageId, id]) => core.deleteForEveryone(hexId(messageId), { id: hexId(id) }),
      react: ([messageId, emoji, id]) => core.react(hexId(messageId), str(emoji), { id: hexId(id) }),
      deleteForMe: ([messageId]) => core.deleteForMe(hexId(messageId)),
      retry: ([messageId]) => core.retry(str(messageId)),
      reconnectNow: () => core.reconnectNow(),
      setPushSubscription: ([sub]) => core.setPushSubscription(pushSub(sub)),
      sendFile: ([contactId, file, name, caption, id, preview]) => {
        const n = optStr(name);
        const c = optStr(caption);
        const p = optBytes(preview);
        return core.sendFile(str(contactId), blob(file), { ...(n !== undefined ? { name: n } : {}), ...(c !== undefined ? { caption: c } : {}), ...(p ? { preview: p } : {}), id: str(id) });
      },
      cancelTransfer: ([messageId]) => core.cancelTransfer(str(messageId)),
      downloadAttachment: ([messageId]) => core.downloadAttachment(str(messageId)),
      markRead: ([contactId, upTo]) => core.markRead(str(contactId), optStr(upTo)),
      safetyNumber: ([contactId]) => core.safetyNumber(str(contactId)),
      compareSafetyNumber: ([contactId, scanned]) => core.compareSafetyNumber(str(contactId), optBytes(scanned) ?? new Uint8Array(0)),
      setVerified: ([contactId, verified]) => core.setVerified(str(contactId), bool(verified)),
      acknowledgeKeyChange: ([contactId]) => core.acknowledgeKeyChange(str(contactId)),
      renameContact: ([contactId, name]) => core.renameContact(str(contactId), str(name)),
      deleteConversation: ([contactId]) => core.deleteConversation(str(contactId)),
      setBlocked: ([contactId, blocked]) => core.setBlocked(str(contactId), bool(blocked)),
      acceptRequest: ([contactId]) => core.acceptRequest(str(contactId)),
      createGroup: ([name, memberIds, id]) => core.createGroup(str(name), strs(memberIds), { id: hexId(id) }),
      addGroupMembers: ([groupId, memberIds]) => core.addGroupMembers(str(groupId), strs(memberIds)),
      removeGroupMember: ([groupId, memberId]) => core.removeGroupMember(str(groupId), str(memberId)),
      leaveGroup: ([groupId]) => core.leaveGroup(str(groupId)),
      renameGroup: ([groupId, name]) => core.renameGroup(str(groupId), str(name)),
      chatWindow: ([contactId, n]) => deps.readChat(str(contactId), limit(n)),
      diagnostics: () => Promise.resolve(core.diagnostics()),
      createDeviceLink: () => core.createDeviceLink(),
      unlinkDevice: ([id]) => core.unlinkDevice(str(id)),
      listDevices: () => core.listDevices(),
      renameThisDevice: ([name]) => core.renameThisDevice(str(name)),
      linkThisDevice: ([text]) => core.linkThisDevice(str(text)),
      createBackup: ([passphrase]) => core.createBackup(passphrase === undefined ? {} : { passphrase: str(passphrase) }),
      restoreFromBackup: ([backup, secret]) => core.restoreFromBackup(bytes(backup), str(secret)),
      restoreFromRelay: ([key]) => core.restoreFromRelay(str(key)),
      setRelayBackup: ([on]) => core.setRelayBackup(bool(on)),
    };
    this.unsubscribe = core.subscribe(() => deps.post({ v: PROTOCOL_VERSION, t: 'changed' }));
  }

  /**
   * This tab stops hosting (closing, or its storage failed). Commands not yet answered
   * stay unanswered: their clients send them again to the next host, where the
   * commands' idempotence keeps one that did run here from running twice.
   */
  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  /** One message from a client (anything: it is checked here). */
  receive(raw: unknown): void {
    if (this.stopped) return;
    // The host's own kind of message (an answer on the shared channel) is not for it.
    const t = (raw as { t?: unknown } | null)?.t;
    if (t === 'ok' || t === 'err' || t === 'changed') return;
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      this.refuse(parsed.error, parsed.client, parsed.id);
      return;
    }
    const m = parsed.value;
    if (m.t === 'bye') {
      this.gone.add(m.client);
      return;
    }
    if (this.gone.has(m.client)) {
      this.refuse({ kind: 'client_gone', message: 'this tab said goodbye; its commands are not run' }, m.client, m.id);
      return;
    }
    const key = `${m.client}:${m.id}`;
    let answer = this.answers.get(key);
    if (!answer) {
      answer = this.run(m.client, m.id, m.name as CommandName, m.args);
      this.answers.set(key, answer);
      if (this.answers.size > ANSWERS_KEPT) this.answers.delete(this.answers.keys().next().value!);
      if (READS.has(m.name as CommandName)) void answer.then(() => this.answers.delete(key));
    }
    void answer.then((a) => {
      if (!this.stopped) this.deps.post(a);
    });
  }

  private async run(client: string, id: number, name: CommandName, args: readonly unknown[]): Promise<HostMessage> {
    try {
      const value = await this.handlers[name](args);
      return { v: PROTOCOL_VERSION, t: 'ok', client, id, value };
    } catch (err) {
      if (err instanceof BadArguments) {
        this.refused++;
        return { v: PROTOCOL_VERSION, t: 'err', client, id, error: { kind: 'malformed', message: `${name}: ${err.message}` } };
      }
      return { v: PROTOCOL_VERSION, t: 'err', client, id, error: toWireError(err) };
    }
  }

  private refuse(error: WireError, client: string | undefined, id: number | undefined): void {
    this.refused++;
    this.deps.logger?.child('core-host').warn('command refused', { kind: error.kind });
    if (client !== undefined && id !== undefined) this.deps.post({ v: PROTOCOL_VERSION, t: 'err', client, id, error });
  }
}
