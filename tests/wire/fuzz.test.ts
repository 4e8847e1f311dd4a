import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError, decodeContent, decodeFrame, encodeContent, encodeFrame, type Content, type Frame } from '../../src/core/wire/index.ts';
import { content, frame } from './arbitraries.ts';
import { rawCbor } from './raw-cbor.ts';

/**
 * Decoding never does anything but return a valid value or throw a WireError:
 * a returned frame re-encodes (so it satisfies the schema) and decodes to itself.
 */
function decodeOutcome(bytes: Uint8Array, decode: (b: Uint8Array) => unknown, encode: (v: never) => Uint8Array): 'ok' | 'refused' {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (err) {
    if (!(err instanceof WireError)) throw new Error(`decoder threw a non-WireError: ${String(err)}`, { cause: err });
    return 'refused';
  }
  const again = encode(value as never);
  expect(decode(again)).toEqual(value);
  return 'ok';
}

/** A decoded content frame encoded again; an unknown kind shown by its fallback is rebuilt as the kind it was. */
function reencodeContent(c: Content): Uint8Array {
  if (c.t !== 'fallback') return encodeContent(c);
  return rawCbor({ t: c.kind, v: 1, id: c.id, ts: c.ts > 0xffff_ffff ? BigInt(c.ts) : c.ts, fallback: c.text });
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 9 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let out = Array.from(bytes);
  for (const m of ms) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.kind === 'flip') out[at] = out[at]! ^ (1 << m.bit);
    else if (m.kind === 'set') out[at] = m.value;
    else if (m.kind === 'truncate') out = out.slice(0, at);
    else if (m.kind === 'insert') out.splice(at, 0, ...m.bytes);
    else out.splice(at, m.count);
  }
  return new Uint8Array(out);
}

describe('wire fuzzing (bounded runs)', () => {
  it('random bytes: a valid frame or a WireError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        decodeOutcome(bytes, decodeFrame, encodeFrame);
        decodeOutcome(bytes, decodeContent, encodeContent);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes after a valid map header and version/type prefix', () => {
    const prefix = encodeFrame({ t: 'ping', rid: 1 }).subarray(0, 7);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (tail) => {
        const bytes = new Uint8Array([...prefix, ...tail]);
        decodeOutcome(bytes, decodeFrame, encodeFrame);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid frames: a valid frame or a WireError, and some mutations still decode', () => {
    let ok = 0;
    fc.assert(
      fc.property(frame, fc.array(mutation, { minLength: 1, maxLength: 4 }), (f: Frame, ms) => {
        if (decodeOutcome(mutate(encodeFrame(f), ms), decodeFrame, encodeFrame) === 'ok') ok++;
      }),
      { numRuns: 1500 },
    );
    // Flipping a byte inside a byte string keeps the frame valid: the fuzzer reaches the schema checks.
    expect(ok).toBeGreaterThan(0);
  });

  it('mutated valid content frames: a valid content frame or a WireError', () => {
    fc.assert(
      fc.property(content, fc.array(mutation, { minLength: 1, maxLength: 4 }), (c, ms) => {
        decodeOutcome(mutate(encodeContent(c), ms), decodeContent, reencodeContent);
      }),
      { numRuns: 1500 },
    );
  });

  it('a hostile length header (4 GiB string) is refused without allocating it', () => {
    const bytes = new Uint8Array([0xa1, 0x61, 0x74, 0x5b, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(() => decodeFrame(bytes)).toThrow(WireError);
  });
});
