/** The in-memory engine's key order against IndexedDB's own (`indexedDB.cmp`), and the status rules. */
import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../src/core/store/key-order.ts';
import { isForwardStatus, MESSAGE_STATUSES, type MessageStatus } from '../../src/core/store/index.ts';

const scalar = fc.oneof(fc.double({ noNaN: true }), fc.string({ maxLength: 6 }));
const key = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }), fc.array(fc.array(scalar, { maxLength: 2 }), { maxLength: 2 }));

describe('store primitives', () => {
  it('compareKeys orders keys exactly as IndexedDB does (property)', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(Math.sign(compareKeys(a as never, b as never))).toBe(indexedDB.cmp(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('status moves: forward only, failed only from queued, failed → queued is not a forward move', () => {
    const allowed: Record<MessageStatus, MessageStatus[]> = {
      queued: ['sent', 'delivered', 'read', 'failed'],
      sent: ['delivered', 'read'],
      delivered: ['read'],
      read: [],
      failed: ['sent', 'delivered', 'read'],
    };
    for (const from of MESSAGE_STATUSES) {
      for (const to of MESSAGE_STATUSES) {
        expect(isForwardStatus(from, to), `${from} → ${to}`).toBe(allowed[from].includes(to));
      }
    }
  });
});
