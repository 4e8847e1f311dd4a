/**
 * The notices a cluster's nodes exchange on a link channel (src/relay/link/link-notice.ts):
 * every kind round-trips byte-exact, and anything that is not exactly one notice is a
 * LinkNoticeError, never a notice of another shape.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeLinkNotice, encodeLinkNotice, LinkNoticeError, otherRole, type LinkNotice } from '../../src/relay/link/link-notice.ts';

describe('link notices', () => {
  it('round-trip every kind from either end', () => {
    const notices: LinkNotice[] = [];
    for (const from of ['holder', 'joiner'] as const) {
      notices.push({ kind: 'data', from, data: new Uint8Array(randomBytes(300)) }, { kind: 'data', from, data: new Uint8Array(0) });
      notices.push({ kind: 'closed', from }, { kind: 'ack', from, bytes: 0 }, { kind: 'ack', from, bytes: 2 ** 32 - 1 });
    }
    for (const n of notices) expect(decodeLinkNotice(encodeLinkNotice(n))).toEqual(n);
  });

  it('gives data its own copy of the bytes', () => {
    const wire = encodeLinkNotice({ kind: 'data', from: 'holder', data: Uint8Array.of(1, 2, 3) });
    const n = decodeLinkNotice(wire);
    wire[2] = 9;
    expect(n.kind === 'data' && [...n.data]).toEqual([1, 2, 3]);
  });

  it('refuses what is not exactly one notice', () => {
    const bad = [Buffer.alloc(0), Buffer.of(1), Buffer.of(0, 0), Buffer.of(4, 0), Buffer.of(1, 2), Buffer.of(2, 0, 0), Buffer.of(3, 1, 7, 7), Buffer.of(3, 1, 0, 0, 0, 0, 0), Buffer.of(3, 255, 0, 0, 0, 0)];
    for (const b of bad) expect(() => decodeLinkNotice(b), b.toString('hex')).toThrow(LinkNoticeError);
  });

  it('names the other end', () => {
    expect(otherRole('holder')).toBe('joiner');
    expect(otherRole('joiner')).toBe('holder');
  });
});
