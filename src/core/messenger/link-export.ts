/**
 * The existing device's side of a link transfer (docs/PROTOCOL.md §13.6): the account
 * (with its settings: account-settings.ts), its contacts and every conversation's messages, read from the store as the records the
 * new device imports (`link-records.ts`, `link-import.ts`), one record at a time so a long
 * history is read page by page. The caller seals each record as one chunk.
 *
 * The groups we are in go as their logs (the `group.log` frames a member device would get,
 * group-commands.ts), so the new device holds each group's state; sender keys do not go:
 * every member device hands its chain to the new device before its next message, as to
 * any member device that does not hold it (group-send.ts).
 *
 * Each group's messages follow, oldest first, after every conversation's (the nearer the
 * end the history is read, the fewer messages arrive here alone meanwhile): text, author
 * and status, not the system lines, which the new device writes itself from the log.
 *
 * What is not carried yet: files (a row's caption goes, its attachment does not), the
 * outbox (a message still queued arrives as `queued` history, sent from here), sessions
 * (the new device starts its own with every contact device), key-change state, and a
 * message's edits, reactions and quote (its newest text goes).
 */
import { fromHex, toHex } from '../bytes.ts';
import { logFrames } from './group-commands.ts';
import { isMember, membershipOf } from './group-membership.ts';
import type { Identity } from '../crypto/index.ts';
import { linkableSettings, type AccountSettings } from './account-settings.ts';
import { MESSAGE_PAGE_MAX, type GroupRecord, type PetrelStore } from '../store/index.ts';
import { MAX_LINK_RECORD_ITEMS, groupHistoryRecords, historyRecords, type LinkContact, type LinkGroupMessage, type LinkMessage, type LinkRecord, type SignedDeviceList } from '../wire/index.ts';

export async function* linkExportRecords(
  store: PetrelStore,
  account: { readonly identity: Identity; readonly name: string; readonly list: SignedDeviceList; readonly settings?: AccountSettings },
): AsyncGenerator<LinkRecord> {
  const settings = linkableSettings(account.settings ?? {});
  yield { t: 'link.account', seed: account.identity.exportSeed(), name: account.name, list: account.list, ...(settings.length ? { settings } : {}) };
  const contacts = await store.listContacts();
  const linkContacts: LinkContact[] = contacts.map((c) => ({ ik: c.identityKey, name: c.displayName, verified: c.verification === 'verified', addedAt: c.addedAt }));
  for (let i = 0; i < linkContacts.length; i += MAX_LINK_RECORD_ITEMS) yield { t: 'link.contacts', contacts: linkContacts.slice(i, i + MAX_LINK_RECORD_ITEMS) };
  const groups = await groupsWeAreIn(store, account.identity.publicKey);
  yield* groupRecords(groups, account.identity.publicKey, account.name);
  let messages = 0;
  const through = new Map<string, number>();
  for (const c of contacts) {
    const history = await conversation(store, c.id);
    through.set(c.id, history.at(-1)?.order ?? -1);
    messages += history.length;
    yield* historyRecords(c.identityKey, history.map((h) => h.message));
  }
  // The tail: messages committed here while the history streamed. A contact may have
  // deposited them before our new list reached the relay (then the relay could not refuse
  // them as sent to a stale device set, §13.5); the new device gets them from here.
  for (const c of contacts) {
    const tail = await conversation(store, c.id, through.get(c.id));
    messages += tail.length;
    yield* historyRecords(c.identityKey, tail.map((h) => h.message));
  }
  for (const group of groups) {
    const history = await groupConversation(store, group.id);
    messages += history.length;
    yield* groupHistoryRecords(fromHex(group.id), history);
  }
  yield { t: 'link.end', contacts: linkContacts.length, messages };
}

/** Every group we are still in. */
async function groupsWeAreIn(store: PetrelStore, me: Uint8Array): Promise<GroupRecord[]> {
  const meHex = toHex(me);
  return (await store.groups.listGroups()).filter((group) => {
    const state = membershipOf(group).state;
    return state !== undefined && isMember(state, meHex);
  });
}

/** The log of each group, as `link.group` records (one frame each). */
function* groupRecords(groups: readonly GroupRecord[], me: Uint8Array, name: string): Generator<LinkRecord> {
  for (const group of groups) {
    const names = [{ ik: me, name }, ...Object.entries(group.names).map(([ik, n]) => ({ ik: fromHex(ik), name: n }))].filter((n) => n.name);
    for (const frame of logFrames(group.id, group.changes, names)) yield { t: 'link.group', frame };
  }
}

/** One conversation, oldest first (pages are read newest first); with `after`, only the messages placed after that order key. */
async function conversation(store: PetrelStore, contactId: string, after?: number): Promise<{ readonly order: number; readonly message: LinkMessage }[]> {
  const pages: { readonly order: number; readonly message: LinkMessage }[][] = [];
  let before: number | undefined;
  for (;;) {
    const page = await store.pageMessages(contactId, { limit: MESSAGE_PAGE_MAX, ...(before !== undefined ? { before } : {}) });
    // Lines about the conversation ("Ada added a device") are this device's own notes, not history.
    const rows = page.messages.filter((m) => !m.system && (after === undefined || m.order > after));
    pages.push(rows.map((m) => ({ order: m.order, message: { id: fromHex(m.id), dir: m.direction, text: m.body, sentAt: m.sentAt, status: m.status } })));
    if (page.olderCursor === undefined || (after !== undefined && page.messages.some((m) => m.order <= after))) break;
    before = page.olderCursor;
  }
  return pages.reverse().flat();
}

/** A group's messages, oldest first: not its system lines, nor a message deleted for everyone (nothing of it is left to show). */
async function groupConversation(store: PetrelStore, groupId: string): Promise<LinkGroupMessage[]> {
  const out: LinkGroupMessage[] = [];
  for (const m of await store.groups.messagesOf(groupId)) {
    if (m.system || m.deleted) continue;
    const base = { id: fromHex(m.id), text: m.body, sentAt: m.sentAt, status: m.status };
    if (m.direction === 'out') out.push({ ...base, dir: 'out' });
    else if (m.senderId !== undefined) out.push({ ...base, dir: 'in', from: fromHex(m.senderId) });
  }
  return out;
}
