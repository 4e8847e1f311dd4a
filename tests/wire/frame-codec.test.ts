import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import {
  MAX_ACK_IDS,
  MAX_ARRAY_LENGTH,
  MAX_FRAME_BYTES,
  VALIDATION_FAILURE_METRIC,
  WireError,
  decodeFrame,
  encodeFrame,
  isFrameFrom,
  type Frame,
  type FrameOrigin,
  type FrameType,
  type WireErrorReason,
} from '../../src/core/wire/index.ts';
import { frame } from './arbitraries.ts';
import { hex, rawCbor } from './raw-cbor.ts';
import { reasonOf } from './wire-reason.ts';

const b = (n: number, fill = 7) => new Uint8Array(n).fill(fill);
const env = { to: b(32, 1), id: b(16, 2), body: b(100, 3) };
const pq = { id: 9, pub: b(1184, 4), sig: b(64, 5) };
const spk = { id: 8, pub: b(32, 6), sig: b(64, 7) };

/** One hand-written example of every frame type. */
const EXAMPLES: Record<string, Frame> = {
  auth: { t: 'auth', ik: b(32), sig: b(64) },
  send: { t: 'send', rid: 1, env },
  'send.multi': { t: 'send.multi', rid: 9, id: b(16), to: [b(32, 1), b(32, 2)], body: b(40) },
  ack: { t: 'ack', ids: [b(16, 1), b(16, 2)] },
  'prekeys.publish': { t: 'prekeys.publish', rid: 2, bundle: { ik: b(32), spk, pqspk: pq, opks: [{ id: 1, pub: b(32) }], pqopks: [pq] } },
  'prekeys.fetch': { t: 'prekeys.fetch', rid: 3, ik: b(32) },
  'signal(send)': { t: 'signal', to: b(32), blob: b(50) },
  ping: { t: 'ping', rid: 0xffff_ffff },
  challenge: { t: 'challenge', nonce: b(32) },
  ready: { t: 'ready', mailbox: b(32), queued: 12 },
  sent: { t: 'sent', rid: 4, id: b(16) },
  'sent.multi': { t: 'sent.multi', rid: 9, id: b(16), full: [b(32, 1)], unlinked: [] },
  deliver: { t: 'deliver', env },
  'prekeys.published': { t: 'prekeys.published', rid: 5, opks: 100, pqopks: 100 },
  'prekeys.bundle': { t: 'prekeys.bundle', rid: 6, bundle: { ik: b(32), spk, pq: { ...pq, lastResort: true }, opk: { id: 3, pub: b(32) } } },
  'prekeys.bundle(no opk)': { t: 'prekeys.bundle', rid: 6, bundle: { ik: b(32), spk, pq: { ...pq, lastResort: false } } },
  'prekeys.low': { t: 'prekeys.low', opks: 3, pqopks: 0 },
  'signal(deliver)': { t: 'signal', blob: b(50) },
  pong: { t: 'pong', rid: 7 },
  error: { t: 'error', code: 'rate_limited', rid: 8, msg: 'slow down' },
  'error(no rid)': { t: 'error', code: 'malformed', msg: '' },
  'p2p.env': { t: 'p2p.env', env },
  'p2p.ack': { t: 'p2p.ack', ids: [b(16)] },
  'p2p.blob': { t: 'p2p.blob', id: b(16), total: 102 * 1024 * 1024, off: 65_536, data: b(1000) },
  'p2p.blob.ack': { t: 'p2p.blob.ack', id: b(16), got: 3_000_000, saved: 2_000_000 },
};


function expectPlainBytes(value: unknown): void {
  if (value instanceof Uint8Array) {
    expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
    expect(value.byteOffset).toBe(0);
    expect(value.buffer.byteLength).toBe(value.length);
  } else if (Array.isArray(value)) value.forEach(expectPlainBytes);
  else if (value && typeof value === 'object') Object.values(value).forEach(expectPlainBytes);
}

describe('frame codec: round trips', () => {
  it.each(Object.entries(EXAMPLES))('%s decodes to what was encoded, with plain Uint8Array fields', (_name, f) => {
    const bytes = encodeFrame(f);
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    const back = decodeFrame(bytes);
    expect(back).toEqual(f);
    expectPlainBytes(back);
    expect(encodeFrame(back)).toEqual(bytes);
  });

  it('covers every frame type of the contract', () => {
    const types = new Set(Object.values(EXAMPLES).map((f) => f.t));
    const all: FrameType[] = ['auth', 'send', 'send.multi', 'sent.multi', 'ack', 'prekeys.publish', 'prekeys.fetch', 'signal', 'ping', 'challenge', 'ready', 'sent', 'deliver', 'prekeys.published', 'prekeys.bundle', 'prekeys.low', 'pong', 'error', 'p2p.env', 'p2p.ack', 'p2p.blob', 'p2p.blob.ack'];
    expect([...types].sort()).toEqual([...all].sort());
  });

  it('property: every generated frame round-trips and re-encodes to identical bytes', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const bytes = encodeFrame(f);
        expect(bytes.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
        const back = decodeFrame(bytes);
        expect(back).toEqual(f);
        expect(encodeFrame(back)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: key order and integer width do not depend on how the object was built', () => {
    const a = encodeFrame({ t: 'send', rid: 1, env });
    const c = encodeFrame({ env: { body: env.body, id: env.id, to: env.to }, rid: 1, t: 'send' } as Frame);
    expect(c).toEqual(a);
    // v and t first (1-char keys), then "env", "rid" (3-char keys, bytewise).
    expect(Buffer.from(a.subarray(0, 11)).toString('hex')).toBe('a4' + '6174' + '6473656e64' + '6176' + '01');
  });

  it('a full prekey upload (100 + 100 one-time keys) fits in one frame', () => {
    const bundle = { ik: b(32), spk, pqspk: pq, opks: Array.from({ length: 100 }, (_, i) => ({ id: i, pub: b(32) })), pqopks: Array.from({ length: 100 }, (_, i) => ({ ...pq, id: i })) };
    const bytes = encodeFrame({ t: 'prekeys.publish', rid: 1, bundle });
    expect(bytes.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(decodeFrame(bytes)).toEqual({ t: 'prekeys.publish', rid: 1, bundle });
  });
});

describe('frame codec: a frame narrowed to its origin (isFrameFrom)', () => {
  const origins: readonly FrameOrigin[] = ['client', 'relay', 'peer'];

  it('property: a frame decodes with `from: o` exactly when isFrameFrom(o) holds for it', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const bytes = encodeFrame(f);
        for (const o of origins) {
          let decoded: Frame | undefined;
          try {
            decoded = decodeFrame(bytes, { from: o });
          } catch {
            decoded = undefined;
          }
          if (decoded) expect(isFrameFrom(o, decoded)).toBe(true);
          // A type that origin never sends is never narrowed to it.
          if (!isFrameFrom(o, f)) expect(decoded).toBeUndefined();
        }
      }),
    );
  });
});

describe('frame codec: refusals', () => {
  const cases: Array<[string, () => unknown, WireErrorReason]> = [
    ['a frame over MAX_FRAME_BYTES (before parsing)', () => decodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)), 'too_large'],
    ['not bytes', () => decodeFrame('hello' as unknown as Uint8Array), 'malformed'],
    ['empty input', () => decodeFrame(new Uint8Array(0)), 'malformed'],
    ['truncated frame', () => decodeFrame(encodeFrame(EXAMPLES.send!).subarray(0, 20)), 'malformed'],
    ['trailing bytes', () => decodeFrame(new Uint8Array([...encodeFrame(EXAMPLES.ping!), 0])), 'malformed'],
    ['a top-level array', () => decodeFrame(rawCbor([1, 2])), 'malformed'],
    ['a CBOR tag (cbor-x record/extension)', () => decodeFrame(hex('d9dfff a0')), 'malformed'],
    ['a shared-reference tag', () => decodeFrame(hex('d81c a0')), 'malformed'],
    ['a float', () => decodeFrame(hex('a3 6174 6470696e67 6176 01 63726964 fb3ff0000000000000')), 'malformed'],
    ['an indefinite-length map', () => decodeFrame(hex('bf ff')), 'malformed'],
    ['a non-shortest integer', () => decodeFrame(hex('a3 6174 6470696e67 6176 1801 63726964 01')), 'malformed'],
    ['keys out of canonical order', () => decodeFrame(hex('a3 6176 01 6174 6470696e67 63726964 01')), 'malformed'],
    ['a duplicated key', () => decodeFrame(hex('a3 6174 6470696e67 6174 6470696e67 6176 01')), 'malformed'],
    ['a negative integer', () => decodeFrame(rawCbor({ t: 'ping', v: 1, rid: -1 })), 'malformed'],
    ['a non-text map key', () => decodeFrame(hex('a1 01 01')), 'malformed'],
    ['nesting deeper than the limit', () => decodeFrame(hex('81'.repeat(40) + '01')), 'too_deep'],
    ['an array longer than the limit', () => decodeFrame(rawCbor({ t: 'ack', v: 1, ids: Array.from({ length: MAX_ARRAY_LENGTH + 1 }, () => 0) })), 'too_deep'],
    ['more ack ids than an ack may carry', () => decodeFrame(rawCbor({ t: 'ack', v: 1, ids: Array.from({ length: MAX_ACK_IDS + 1 }, () => new Uint8Array(16)) })), 'invalid_field'],
    ['version 2', () => decodeFrame(rawCbor({ t: 'ping', v: 2, rid: 1 })), 'unsupported_version'],
    ['no version', () => decodeFrame(rawCbor({ t: 'ping', rid: 1 })), 'unsupported_version'],
    ['an unknown type', () => decodeFrame(rawCbor({ t: 'teleport', v: 1 })), 'unknown_type'],
    ['no type', () => decodeFrame(rawCbor({ v: 1 })), 'unknown_type'],
    ['a prototype key as type', () => decodeFrame(rawCbor({ t: 'constructor', v: 1 })), 'unknown_type'],
    ['a relay frame from a client', () => decodeFrame(encodeFrame(EXAMPLES.deliver!), { from: 'client' }), 'unknown_type'],
    ['a peer frame from the relay', () => decodeFrame(encodeFrame(EXAMPLES['p2p.ack']!), { from: 'relay' }), 'unknown_type'],
    ['a file frame from a client (only peers send them)', () => decodeFrame(encodeFrame(EXAMPLES['p2p.blob']!), { from: 'client' }), 'unknown_type'],
    ['a file frame over 64 KiB of data', () => decodeFrame(rawCbor({ t: 'p2p.blob', v: 1, id: b(16), off: 0, data: b(64 * 1024 + 1), total: 1 })), 'invalid_field'],
    ['a relay-shaped signal from a client', () => decodeFrame(encodeFrame(EXAMPLES['signal(deliver)']!), { from: 'client' }), 'missing_field'],
    ['a missing field', () => decodeFrame(rawCbor({ t: 'send', v: 1, rid: 1 })), 'missing_field'],
    ['an extra field', () => decodeFrame(rawCbor({ t: 'ping', v: 1, rid: 1, zzz: 1 })), 'unknown_field'],
    ['a __proto__ field', () => decodeFrame(hex('a3 6174 6470696e67 6176 01 695f5f70726f746f5f5f a0')), 'unknown_field'],
    ['a 31-byte identity key', () => decodeFrame(rawCbor({ t: 'prekeys.fetch', v: 1, ik: b(31), rid: 1 })), 'invalid_field'],
    ['a 17-byte message id', () => decodeFrame(rawCbor({ t: 'sent', v: 1, id: b(17), rid: 1 })), 'invalid_field'],
    ['a 63-byte signature', () => decodeFrame(rawCbor({ t: 'auth', v: 1, ik: b(32), sig: b(63) })), 'invalid_field'],
    ['a 1183-byte ML-KEM key', () => decodeFrame(rawCbor({ t: 'prekeys.bundle', v: 1, rid: 1, bundle: { ik: b(32), pq: { id: 1, pub: b(1183), sig: b(64), lastResort: true }, spk } })), 'invalid_field'],
    ['a rid over 2^32-1', () => decodeFrame(rawCbor({ t: 'ping', v: 1, rid: BigInt(2 ** 32) })), 'invalid_field'],
    ['text where bytes belong', () => decodeFrame(rawCbor({ t: 'challenge', v: 1, nonce: 'x'.repeat(32) })), 'invalid_field'],
    ['an unknown error code', () => decodeFrame(rawCbor({ t: 'error', v: 1, msg: '', code: 'oops' })), 'invalid_field'],
    ['an envelope body over 192 KiB', () => decodeFrame(rawCbor({ t: 'send', v: 1, env: { id: b(16), to: b(32), body: b(192 * 1024 + 1) }, rid: 1 })), 'invalid_field'],
    ['a signal blob over 16 KiB', () => decodeFrame(rawCbor({ t: 'signal', v: 1, to: b(32), blob: b(16 * 1024 + 1) })), 'invalid_field'],
  ];

  it.each(cases)('refuses %s', (_name, fn, reason) => {
    expect(reasonOf(fn)).toBe(reason);
  });

  it('counts each refusal as packet.validation.failure{reason}', () => {
    const metrics = new InMemoryMetrics();
    expect(() => decodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1), { metrics })).toThrow(WireError);
    expect(() => decodeFrame(hex('ff'), { metrics })).toThrow(WireError);
    expect(() => decodeFrame(rawCbor({ t: 'ping', v: 9, rid: 1 }), { metrics })).toThrow(WireError);
    decodeFrame(encodeFrame(EXAMPLES.ping!), { metrics });
    expect(metrics.counter(VALIDATION_FAILURE_METRIC, { reason: 'too_large' })).toBe(1);
    expect(metrics.counter(VALIDATION_FAILURE_METRIC, { reason: 'malformed' })).toBe(1);
    expect(metrics.counter(VALIDATION_FAILURE_METRIC, { reason: 'unsupported_version' })).toBe(1);
  });

  it('refuses to encode an invalid frame', () => {
    expect(reasonOf(() => encodeFrame({ t: 'sent', rid: 1, id: b(15) }))).toBe('invalid_field');
    expect(reasonOf(() => encodeFrame({ t: 'ping', rid: -1 }))).toBe('invalid_field');
    expect(reasonOf(() => encodeFrame({ t: 'nope' } as unknown as Frame))).toBe('unknown_type');
    expect(reasonOf(() => encodeFrame({ t: 'ping', rid: 1, extra: 1 } as unknown as Frame))).toBe('unknown_field');
    expect(reasonOf(() => encodeFrame({ t: 'error', code: 'internal', msg: '\ud800' }))).toBe('invalid_field');
    expect(reasonOf(() => encodeFrame({ t: 'error', code: 'internal', msg: 'x'.repeat(257) }))).toBe('invalid_field');
  });

  it('does not mutate its input', () => {
    const f = { t: 'send' as const, rid: 1, env: { to: b(32), id: b(16), body: b(10) } };
    const copy = structuredClone(f);
    encodeFrame(f);
    expect(f).toEqual(copy);
  });
});
