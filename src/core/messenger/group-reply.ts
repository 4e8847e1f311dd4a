/**
 * A reply in a group (docs/PROTOCOL.md §17.6): the quote it carries (a message of the same
 * group, not deleted, as an excerpt) and its plaintext, a `group.act` around the 1:1
 * `reply` content (so it carries the fallback "> quote\ntext" for members that do not
 * know replies).
 */
import { fromHex } from '../bytes.ts';
import type { Quote } from '../store/index.ts';
import { encodeContent } from '../wire/index.ts';
import { encodeGroupFrame } from '../wire/group-content.ts';
import { fallbackText, quoteExcerpt } from './action-content.ts';
import { MessageActionRefusedError } from './errors.ts';
import type { GroupContext } from './group-ports.ts';

/** The quote of a reply in a group: the quoted message (of this group, not deleted) and an excerpt. */
export async function groupQuoteOf(ctx: GroupContext, groupId: string, replyTo: string): Promise<Quote> {
  if (!/^[0-9a-f]{32}$/u.test(replyTo)) throw new MessageActionRefusedError('invalid', 'the replied-to id must be 32 lowercase hex characters');
  const quoted = await ctx.store.getMessage(replyTo);
  if (!quoted || quoted.contactId !== groupId || quoted.system) throw new MessageActionRefusedError('unknown_message', 'the message replied to is not in this group');
  if (quoted.deleted) throw new MessageActionRefusedError('deleted', 'the message replied to was deleted');
  return { id: quoted.id, text: quoteExcerpt(quoted.body) };
}

/** A reply's plaintext for the group (a `group.act` around a `reply` content). */
export function groupReplyFrame(id: Uint8Array, ts: number, text: string, quote: Quote, gv: number): Uint8Array {
  const content = encodeContent({ t: 'reply', id, ts, text, to: fromHex(quote.id), quote: quote.text, fallback: fallbackText.reply(quote.text, text) });
  return encodeGroupFrame({ t: 'group.act', gv, content });
}
