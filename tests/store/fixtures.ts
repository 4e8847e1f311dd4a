/** Builders for store tests: valid ids and commits with readable defaults. */
import { toHex } from '../../src/core/bytes.ts';
import type { ContactRecord, IncomingCommit, OutgoingCommit, PendingOutgoingCommit } from '../../src/core/store/index.ts';

let counter = 0;

/** A fresh 16-byte id as 32 hex chars (deterministic per test run). */
export function newId(): string {
  counter++;
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(12, counter);
  b[0] = 0xab;
  return toHex(b);
}

export function contactId(n: number): string {
  const b = new Uint8Array(32).fill(n);
  return toHex(b);
}

export const MAILBOX = new Uint8Array(32).fill(7);

export function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

export function contact(n: number, name = `contact ${n}`): ContactRecord {
  return { id: contactId(n), displayName: name, identityKey: new Uint8Array(32).fill(n), verification: 'unverified', addedAt: 1_000 };
}

export function outgoing(opts: { contact: number; expectedVersion: number | null; body?: string; state?: Uint8Array; envelope?: Uint8Array; sentAt?: number; withMessage?: boolean }): OutgoingCommit & { messageId: string; envelopeId: string } {
  const messageId = newId();
  const envelopeId = newId();
  const cid = contactId(opts.contact);
  return {
    messageId,
    envelopeId,
    sessionUpdate: { contactId: cid, expectedVersion: opts.expectedVersion, state: opts.state ?? bytes(1, 2, 3) },
    ...(opts.withMessage === false ? {} : { message: { id: messageId, contactId: cid, body: opts.body ?? 'hello', sentAt: opts.sentAt ?? 5_000 } }),
    outboxEntry: { envelopeId, contactId: cid, mailbox: MAILBOX, envelope: opts.envelope ?? bytes(9, 9, 9) },
  };
}

export function pending(contactN: number, body = 'later'): PendingOutgoingCommit & { messageId: string; envelopeId: string } {
  const messageId = newId();
  const envelopeId = newId();
  return {
    messageId,
    envelopeId,
    message: { id: messageId, contactId: contactId(contactN), body, sentAt: 6_000 },
    job: { envelopeId, mailbox: MAILBOX, plaintext: new TextEncoder().encode(body) },
  };
}

export function incoming(opts: { contact: number; expectedVersion?: number | null; body?: string; receivedAt?: number; withMessage?: boolean; envelopeId?: string } & Partial<IncomingCommit>): IncomingCommit & { messageId: string } {
  const messageId = newId();
  const cid = contactId(opts.contact);
  const { contact: _c, expectedVersion, body, withMessage, ...rest } = opts;
  return {
    messageId,
    envelopeId: opts.envelopeId ?? messageId,
    from: cid,
    receivedAt: opts.receivedAt ?? 10_000,
    ...(expectedVersion !== undefined ? { sessionUpdate: { contactId: cid, expectedVersion, state: bytes(4, 5, 6) } } : {}),
    ...(withMessage === false ? {} : { message: { id: messageId, contactId: cid, body: body ?? 'hi', sentAt: 9_000 } }),
    ...rest,
  };
}
