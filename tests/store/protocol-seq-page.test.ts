/**
 * A receive commit tells a contact's highest queued protocol seq from the start of the
 * queue it read anyway (protocol-seq.ts `lastProtocolSeqIn`), and reads again only when
 * that page cannot tell. The verdict from the page must equal the one from the store.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore, type OutboxRecord } from '../../src/core/store/index.ts';
import { lastProtocolSeqIn, PROTOCOL_SEQ_STEP } from '../../src/core/store/protocol-seq.ts';
import { contact, contactId, MAILBOX, newId, outgoing } from './fixtures.ts';

const entry = (seq: number, messageId?: string): OutboxRecord => ({
  envelopeId: newId(),
  contactId: 'c',
  mailbox: MAILBOX,
  state: 'ready',
  seq,
  attempts: 0,
  nextAttemptAt: 0,
  createdAt: 0,
  ...(messageId ? { messageId } : {}),
});

describe('lastProtocolSeqIn', () => {
  it('tells the highest protocol seq when the page reaches past the protocol entries or holds the whole queue', () => {
    expect(lastProtocolSeqIn([entry(0), entry(PROTOCOL_SEQ_STEP), entry(3, 'm')], 3)).toBe(PROTOCOL_SEQ_STEP);
    expect(lastProtocolSeqIn([entry(0)], 16)).toBe(0);
    expect(lastProtocolSeqIn([], 16)).toBeUndefined();
    // A conversation's first message sits at seq 0 too: it is no protocol entry.
    expect(lastProtocolSeqIn([entry(0, 'm'), entry(1, 'n')], 2)).toBeUndefined();
  });

  it('says it cannot tell when a full page holds nothing past the protocol entries', () => {
    expect(lastProtocolSeqIn([entry(0), entry(PROTOCOL_SEQ_STEP)], 2)).toBe('unknown');
  });

  it("reads the seqs a real store gave: three protocol entries after a conversation's first message", async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    await store.putContact(contact(1));
    await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
    // Three protocol entries (no message row), one commit each.
    for (let k = 1; k <= 3; k++) await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: k, withMessage: false }));
    const queue = (await store.dueOutbox(1e12, 50)).filter((e) => e.contactId === contactId(1)).sort((a, b) => a.seq - b.seq);
    // The message is the conversation's first (order 0): it shares seq 0 with the first protocol entry.
    expect(queue.map((e) => e.seq)).toEqual([0, 0, PROTOCOL_SEQ_STEP, 2 * PROTOCOL_SEQ_STEP]);
    expect(queue.filter((e) => e.messageId !== undefined)).toHaveLength(1);
    expect(lastProtocolSeqIn(queue, 16)).toBe(2 * PROTOCOL_SEQ_STEP);
    expect(lastProtocolSeqIn(queue.slice(0, 3), 3)).toBe('unknown');
  });
});
