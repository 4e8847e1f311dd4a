import { MAX_ARRAY_LENGTH, MAX_DEPTH, MAX_KEY_BYTES, MAX_MAP_ENTRIES } from './limits.ts';
import { WireError } from './wire-error.ts';

/**
 * Walks untrusted bytes once, before any decoder allocates from them, and accepts only
 * the canonical CBOR subset Petrel frames use (RFC 8949 §4.2.1 "core deterministic"):
 *
 * - unsigned integers (major 0), byte strings (2), text strings (3), arrays (4),
 *   maps (5) with text-string keys, and the simple values false/true/null;
 * - every argument in its shortest form, definite lengths only;
 * - map keys in strictly increasing bytewise order of their encodings (so no duplicates);
 * - nesting at most MAX_DEPTH, arrays at most MAX_ARRAY_LENGTH, maps at most MAX_MAP_ENTRIES;
 * - exactly one top-level item, no trailing bytes.
 *
 * Refused: negative integers, tags (so none of cbor-x's record, shared-reference or
 * structured-clone extensions can run), floats, undefined and other simple values.
 * The scan is iterative over the input and allocates nothing proportional to it.
 */
export function scanCanonicalCbor(bytes: Uint8Array): void {
  const end = scanItem(bytes, 0, 0);
  if (end !== bytes.length) throw malformed('trailing bytes after the top-level item');
}

const MAJOR_UINT = 0;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_SIMPLE = 7;
const SIMPLE_FALSE = 20;
const SIMPLE_TRUE = 21;
const SIMPLE_NULL = 22;

function malformed(msg: string): WireError {
  return new WireError('malformed', msg);
}

interface Head {
  readonly major: number;
  readonly arg: number;
  /** Offset just after the head. */
  readonly next: number;
}

/** Reads an item head and checks its argument is in the shortest form. */
function readHead(b: Uint8Array, at: number): Head {
  if (at >= b.length) throw malformed('truncated item');
  const initial = b[at]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (info < 24) return { major, arg: info, next: at + 1 };
  if (major === MAJOR_SIMPLE) throw malformed('floats and extended simple values are not allowed');
  let size: number;
  if (info === 24) size = 1;
  else if (info === 25) size = 2;
  else if (info === 26) size = 4;
  else if (info === 27) size = 8;
  else throw malformed('indefinite lengths and reserved values are not allowed');
  if (at + 1 + size > b.length) throw malformed('truncated argument');
  let arg = 0;
  for (let i = 0; i < size; i++) arg = arg * 256 + b[at + 1 + i]!;
  if (size === 8 && arg > Number.MAX_SAFE_INTEGER) throw malformed('integer beyond 2^53-1');
  const min = size === 1 ? 24 : size === 2 ? 0x100 : size === 4 ? 0x1_0000 : 0x1_0000_0000;
  if (arg < min) throw malformed('argument not in its shortest form');
  return { major, arg, next: at + 1 + size };
}

function compareBytes(b: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const la = aEnd - aStart;
  const lb = bEnd - bStart;
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const d = b[aStart + i]! - b[bStart + i]!;
    if (d !== 0) return d;
  }
  return la - lb;
}

function scanItem(b: Uint8Array, at: number, depth: number): number {
  const { major, arg, next } = readHead(b, at);
  switch (major) {
    case MAJOR_UINT:
      return next;
    case MAJOR_BYTES:
    case MAJOR_TEXT:
      if (arg > b.length - next) throw malformed('string runs past the end');
      return next + arg;
    case MAJOR_ARRAY: {
      if (depth + 1 > MAX_DEPTH) throw new WireError('too_deep', `nesting deeper than ${MAX_DEPTH}`);
      if (arg > MAX_ARRAY_LENGTH) throw new WireError('too_deep', `array longer than ${MAX_ARRAY_LENGTH}`);
      let p = next;
      for (let i = 0; i < arg; i++) p = scanItem(b, p, depth + 1);
      return p;
    }
    case MAJOR_MAP: {
      if (depth + 1 > MAX_DEPTH) throw new WireError('too_deep', `nesting deeper than ${MAX_DEPTH}`);
      if (arg > MAX_MAP_ENTRIES) throw new WireError('too_deep', `map with more than ${MAX_MAP_ENTRIES} entries`);
      let p = next;
      let prevKeyStart = -1;
      let prevKeyEnd = -1;
      for (let i = 0; i < arg; i++) {
        const key = readHead(b, p);
        if (key.major !== MAJOR_TEXT) throw malformed('map keys must be text strings');
        if (key.arg > MAX_KEY_BYTES) throw malformed('map key too long');
        const keyEnd = key.next + key.arg;
        if (keyEnd > b.length) throw malformed('map key runs past the end');
        if (prevKeyStart >= 0 && compareBytes(b, prevKeyStart, prevKeyEnd, p, keyEnd) >= 0) {
          throw malformed('map keys not in canonical order (or duplicated)');
        }
        prevKeyStart = p;
        prevKeyEnd = keyEnd;
        p = scanItem(b, keyEnd, depth + 1);
      }
      return p;
    }
    case MAJOR_SIMPLE:
      if (arg === SIMPLE_FALSE || arg === SIMPLE_TRUE || arg === SIMPLE_NULL) return next;
      throw malformed('only false, true and null simple values are allowed');
    default:
      // Negative integers (1) and tags (6) are never used by Petrel frames.
      throw malformed(major === 6 ? 'CBOR tags are not allowed' : 'negative integers are not allowed');
  }
}
