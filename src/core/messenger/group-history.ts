/**
 * The group histories a device link or a backup brought (docs/PROTOCOL.md §17.6,
 * store/group-history-import.ts), applied once the group parts have taken the groups' logs
 * from the inbox: each record decoded, checked against the group, and written with its
 * system lines in one transaction. A record that cannot be read, or whose group is not
 * here once the logs are taken (its log was refused), is dropped and counted
 * (`groups.drop`, reason `history_unreadable` / `history_no_group`), never retried forever.
 */
import { toHex } from '../bytes.ts';
import type { ImportedGroupMessage } from '../store/index.ts';
import { decodeLinkRecord, isWireError } from '../wire/index.ts';
import { dropped, type GroupContext } from './group-ports.ts';

/** Applies every pending group history; resolves to the number of messages written. */
export async function takeImportedHistory(ctx: GroupContext): Promise<number> {
  let written = 0;
  for (const row of await ctx.store.pendingHistory()) {
    let record;
    try {
      record = decodeLinkRecord(row.bytes);
    } catch (err) {
      if (!isWireError(err)) throw err;
      record = undefined;
    }
    if (record?.t !== 'link.groupMessages') {
      dropped(ctx, 'history_unreadable');
      await ctx.store.dropHistory(row.key);
      continue;
    }
    const messages: ImportedGroupMessage[] = record.messages.map((m) => ({
      id: toHex(m.id),
      direction: m.dir,
      ...(m.from ? { senderId: toHex(m.from) } : {}),
      body: m.text,
      sentAt: m.sentAt,
      status: m.status,
    }));
    const n = await ctx.store.importHistory(toHex(record.g), messages, row.key);
    if (n === undefined) {
      dropped(ctx, 'history_no_group', { messages: messages.length });
      await ctx.store.dropHistory(row.key);
      continue;
    }
    written += n;
  }
  return written;
}
