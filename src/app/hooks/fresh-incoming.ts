/**
 * Conversations (a contact's or a group's) with a newer incoming message than the last
 * state showed: what the live-region announcement and the hidden-tab notifications both
 * react to. Conversations already there when the subscription starts are not fresh.
 */
import type { ContactView, GroupView, MessengerApi, MessengerState } from '../../core/messenger/messenger-api.ts';
import { contactName } from '../views/contact-name.ts';

/** A conversation with a new incoming message: its id, the name it is shown under, and its last message's text. */
export interface FreshIncoming {
  readonly id: string;
  readonly name: string;
  readonly text: string;
  readonly group: boolean;
}

type Entry = { readonly at: number; readonly fresh: FreshIncoming };

function fromContact(c: ContactView): Entry | undefined {
  if (c.lastMessage?.direction !== 'in') return undefined;
  return { at: c.lastMessage.at, fresh: { id: c.id, name: contactName(c), text: c.lastMessage.text, group: false } };
}

function fromGroup(g: GroupView): Entry | undefined {
  if (g.lastMessage?.direction !== 'in') return undefined;
  return { at: g.lastMessage.at, fresh: { id: g.id, name: g.name, text: g.lastMessage.text, group: true } };
}

/** Each conversation's last incoming message. */
function lastIncoming(s: MessengerState): Map<string, Entry> {
  const at = new Map<string, Entry>();
  for (const c of s.contacts) {
    const e = fromContact(c);
    if (e) at.set(c.id, e);
  }
  for (const g of s.groups ?? []) {
    const e = fromGroup(g);
    if (e) at.set(g.id, e);
  }
  return at;
}

/** Calls `onFresh` with the conversations that have a newer incoming message, on every state change that brings one; returns the unsubscribe. */
export function subscribeFreshIncoming(messenger: Pick<MessengerApi, 'getState' | 'subscribe'>, onFresh: (fresh: readonly FreshIncoming[]) => void): () => void {
  let seenState = messenger.getState();
  let seen = lastIncoming(seenState);
  return messenger.subscribe(() => {
    const state = messenger.getState();
    if (state.contacts === seenState.contacts && state.groups === seenState.groups) return;
    const now = lastIncoming(state);
    const fresh = [...now.values()].filter((e) => e.at > (seen.get(e.fresh.id)?.at ?? 0)).map((e) => e.fresh);
    seenState = state;
    seen = now;
    if (fresh.length > 0) onFresh(fresh);
  });
}
