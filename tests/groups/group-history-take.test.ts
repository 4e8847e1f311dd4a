/**
 * The group histories a link left (messenger/group-history.ts), taken once the groups'
 * logs made their groups: a readable record for a group here is written and its key
 * removed; an unreadable one, or one whose group is not here, is dropped and counted,
 * never retried forever and never written.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/bytes.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { takeImportedHistory } from '../../src/core/messenger/group-history.ts';
import type { GroupContext } from '../../src/core/messenger/group-ports.ts';
import { createMemoryStore, groupHistoryKey } from '../../src/core/store/index.ts';
import { encodeLinkRecord } from '../../src/core/wire/index.ts';

const G = 'ab'.repeat(16);
const OTHER = 'cd'.repeat(16);
const BO = 'b0'.repeat(32);

describe('taking a link’s group histories', () => {
  it('writes a record for a group here; drops and counts one unreadable or for a group not here', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    const metrics = new InMemoryMetrics();
    const ctx = { store: store.groups, metrics, log: silentLogger } as unknown as GroupContext;
    await store.groups.commit({ groups: [{ id: G, changes: [], applied: [], names: {}, nextOrder: 1, lastActivityAt: 10, createdAt: 10 }] });
    const record = (g: string) =>
      encodeLinkRecord({
        t: 'link.groupMessages',
        g: fromHex(g),
        messages: [
          { id: new Uint8Array(16).fill(1), dir: 'in', from: fromHex(BO), text: 'hello', sentAt: 50, status: 'delivered' },
          { id: new Uint8Array(16).fill(2), dir: 'out', text: 'hi Bo', sentAt: 60, status: 'read' },
        ],
      });
    await store.setMeta(groupHistoryKey(0), record(G));
    await store.setMeta(groupHistoryKey(1), new Uint8Array([0xff, 1, 2]));
    await store.setMeta(groupHistoryKey(2), record(OTHER));
    expect(await takeImportedHistory(ctx)).toBe(2);
    const rows = await store.groups.messagesOf(G);
    expect(rows.map((m) => [m.order, m.direction, m.senderId, m.body, m.status])).toEqual([
      [1, 'in', BO, 'hello', 'read'],
      [2, 'out', undefined, 'hi Bo', 'read'],
    ]);
    expect(await store.groups.messagesOf(OTHER)).toEqual([]);
    expect(await store.groups.pendingHistory()).toEqual([]);
    const counters = metrics.snapshot().counters;
    expect(counters['groups.drop{reason="history_unreadable"}']).toBe(1);
    expect(counters['groups.drop{reason="history_no_group"}']).toBe(1);
    // Nothing left: a second take writes nothing and counts nothing more.
    expect(await takeImportedHistory(ctx)).toBe(0);
    expect(metrics.snapshot().counters['groups.drop{reason="history_unreadable"}']).toBe(1);
  });
});
