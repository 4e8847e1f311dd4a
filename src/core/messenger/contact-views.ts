/**
 * The contact list as the UI sees it (`MessengerState.contacts`): every listed contact —
 * accepted ones and message requests (`request: true`), not those whose conversation was
 * deleted — with its conversation's summary, most recent first, names made distinct
 * (distinct-names.ts) and the user's local name shown instead of the contact's own.
 */
import type { ContactRecord, ConversationRecord } from '../store/index.ts';
import { shownName } from './contact-state.ts';
import { nameDetails } from './distinct-names.ts';
import { sendBlocked } from './key-change.ts';
import type { ContactView } from './messenger-api.ts';

/** Contacts that another contact replaced through an acknowledged key change (a contact reset). */
function endedIds(all: readonly ContactRecord[]): Set<string> {
  const ended = new Set<string>();
  for (const c of all) if (c.possibleKeyChangeOf?.acknowledged) ended.add(c.possibleKeyChangeOf.contactId);
  return ended;
}

export function contactViews(all: readonly ContactRecord[], conversations: ReadonlyMap<string, ConversationRecord>, open: ReadonlySet<string>): ContactView[] {
  const listed = all.filter((c) => c.listing !== 'removed');
  const ended = endedIds(all);
  const details = nameDetails(
    listed.map((c) => ({ id: c.id, name: c.unnamed && c.localName === undefined ? '' : shownName(c), ended: ended.has(c.id), claimant: c.possibleKeyChangeOf !== undefined })),
  );
  return listed
    .map((c) => {
      const cv = conversations.get(c.id);
      const detail = details.get(c.id);
      const view: ContactView & { _sort: number } = {
        id: c.id,
        displayName: shownName(c),
        ...(c.unnamed && c.localName === undefined ? { unnamed: true } : {}),
        verified: c.verification === 'verified',
        keyChanged: sendBlocked(c),
        ...(c.possibleKeyChangeOf && !c.possibleKeyChangeOf.acknowledged ? { possibleKeyChangeOf: c.possibleKeyChangeOf.contactId } : {}),
        unread: cv?.unread ?? 0,
        direct: open.has(c.id),
        ...(cv?.lastMessage ? { lastMessage: { text: cv.lastMessage.text, at: cv.lastMessage.at, direction: cv.lastMessage.direction } } : {}),
        ...(c.localName !== undefined ? { profileName: c.displayName } : {}),
        ...(c.blocked ? { blocked: true } : {}),
        ...(c.listing === 'request' ? { request: true } : {}),
        ...(ended.has(c.id) ? { ended: true } : {}),
        ...(detail ? { nameDetail: detail } : {}),
        _sort: cv?.lastActivityAt ?? c.addedAt,
      };
      return view;
    })
    .sort((a, b) => b._sort - a._sort)
    .map(({ _sort, ...c }) => c);
}
