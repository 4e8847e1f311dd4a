import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from '../../src/core/wire/index.ts';

const b = (n: number) => new Uint8Array(n).fill(0xab);
/** The JSON equivalent: same keys, byte strings as base64url (what a JSON protocol would send). */
const jsonBytes = (f: Frame) =>
  Buffer.byteLength(JSON.stringify({ v: 1, ...f }, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v)));

describe('byte cost against JSON (docs/PROTOCOL.md §11)', () => {
  it.each<[string, Frame, number]>([
    ['ping', { t: 'ping', rid: 123456 }, 20],
    ['sent', { t: 'sent', rid: 123456, id: b(16) }, 40],
    ['auth', { t: 'auth', ik: b(32), sig: b(64) }, 118],
    ['send (1 KiB body)', { t: 'send', rid: 123456, env: { to: b(32), id: b(16), body: b(1024) } }, 1114],
  ])('%s: CBOR is the documented size and at most 3/4 of JSON+base64url', (_n, f, cbor) => {
    expect(encodeFrame(f).length).toBe(cbor);
    expect(encodeFrame(f).length).toBeLessThanOrEqual(jsonBytes(f) * 0.76);
  });
});
