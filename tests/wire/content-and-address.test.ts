import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import {
  MAX_CONTENT_BYTES,
  WireError,
  authPayload,
  decodeContent,
  decodeFrame,
  encodeContent,
  encodeFrame,
  mailboxAddress,
  pqpkSignaturePayload,
  spkSignaturePayload,
  type SendableContent,
  type WireErrorReason,
} from '../../src/core/wire/index.ts';
import { content } from './arbitraries.ts';
import { rawCbor } from './raw-cbor.ts';
import { reasonOf } from './wire-reason.ts';

const b = (n: number, fill = 7) => new Uint8Array(n).fill(fill);
const enc = (s: string) => new TextEncoder().encode(s);


describe('content frames', () => {
  it('property: every content frame round-trips and re-encodes identically', () => {
    fc.assert(
      fc.property(content, (c) => {
        const bytes = encodeContent(c);
        const back = decodeContent(bytes);
        expect(back).toEqual(c);
        expect(encodeContent(back as SendableContent)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps millisecond timestamps as exact integers (uint64, not float)', () => {
    const ts = 1_763_890_000_123;
    const bytes = encodeContent({ t: 'msg', id: b(16), ts, text: 'hi' });
    expect(Buffer.from(bytes).toString('hex')).toContain('1b0000019a');
    expect(decodeContent(bytes)).toEqual({ t: 'msg', id: b(16), ts, text: 'hi' });
  });

  it('accepts 16 KiB of UTF-8 text and refuses one byte more', () => {
    const max = 'é'.repeat(8192); // 2 bytes each
    expect((decodeContent(encodeContent({ t: 'msg', id: b(16), ts: 1, text: max })) as { text: string }).text).toBe(max);
    expect(reasonOf(() => encodeContent({ t: 'msg', id: b(16), ts: 1, text: max + 'a' }))).toBe('invalid_field');
    expect(reasonOf(() => decodeContent(rawCbor({ t: 'msg', v: 1, id: b(16), ts: 1, text: max + 'a' })))).toBe('invalid_field');
  });

  const refusals: Array<[string, () => unknown, WireErrorReason]> = [
    ['content over MAX_CONTENT_BYTES', () => decodeContent(new Uint8Array(MAX_CONTENT_BYTES + 1)), 'too_large'],
    ['a transport frame as content', () => decodeContent(encodeFrame({ t: 'ping', rid: 1 })), 'unknown_type'],
    ['content as a transport frame', () => decodeFrame(encodeContent({ t: 'rtc', kind: 'bye', data: '' })), 'unknown_type'],
    ['an unknown receipt kind', () => decodeContent(rawCbor({ t: 'receipt', v: 1, ids: [], kind: 'seen' })), 'invalid_field'],
    ['an unknown rtc kind', () => encodeContent({ t: 'rtc', kind: 'hangup', data: '' } as unknown as SendableContent), 'invalid_field'],
    ['257 receipt ids', () => encodeContent({ t: 'receipt', kind: 'read', ids: Array.from({ length: 257 }, () => b(16)) }), 'invalid_field'],
    ['a fractional timestamp', () => encodeContent({ t: 'msg', id: b(16), ts: 1.5, text: '' }), 'invalid_field'],
    ['version 0', () => decodeContent(rawCbor({ t: 'msg', v: 0 })), 'unsupported_version'],
    ['a profile name over 64 bytes', () => encodeContent({ t: 'profile', name: 'x'.repeat(65) }), 'invalid_field'],
    ['a profile with an extra field', () => decodeContent(rawCbor({ t: 'profile', v: 1, id: b(16), name: 'Al' })), 'unknown_field'],
  ];
  it.each(refusals)('refuses %s', (_n, fn, reason) => expect(reasonOf(fn)).toBe(reason));

  it('counts content refusals in metrics', () => {
    const metrics = new InMemoryMetrics();
    expect(() => decodeContent(new Uint8Array([0xff]), { metrics })).toThrow(WireError);
    expect(metrics.counter('packet.validation.failure', { reason: 'malformed' })).toBe(1);
  });
});

describe('addresses and signed payloads', () => {
  it('mailbox address = SHA-256("Petrel_Mailbox" ‖ IK_pub)', () => {
    const ik = ed25519.getPublicKey(b(32, 9));
    expect(mailboxAddress(ik)).toEqual(sha256(new Uint8Array([...enc('Petrel_Mailbox'), ...ik])));
    expect(mailboxAddress(ik)).toHaveLength(32);
    expect(mailboxAddress(b(32, 1))).not.toEqual(mailboxAddress(b(32, 2)));
    expect(reasonOf(() => mailboxAddress(b(31)))).toBe('invalid_field');
  });

  it('auth payload = "Petrel_Auth" ‖ nonce, verifiable with the identity key', () => {
    const seed = b(32, 3);
    const nonce = b(32, 4);
    const payload = authPayload(nonce);
    expect(payload).toEqual(new Uint8Array([...enc('Petrel_Auth'), ...nonce]));
    expect(ed25519.verify(ed25519.sign(payload, seed), payload, ed25519.getPublicKey(seed))).toBe(true);
    expect(reasonOf(() => authPayload(b(16)))).toBe('invalid_field');
  });

  it('prekey signature payloads carry their labels', () => {
    expect(spkSignaturePayload(b(32, 1))).toEqual(new Uint8Array([...enc('Petrel_SPK'), ...b(32, 1)]));
    expect(pqpkSignaturePayload(b(4, 1))).toEqual(new Uint8Array([...enc('Petrel_PQPK'), ...b(4, 1)]));
  });
});
