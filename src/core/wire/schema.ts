import { UINT32_MAX } from './limits.ts';
import { WireError } from './wire-error.ts';

/**
 * A tiny schema language for frames: each frame type is a `struct` of named fields.
 * The same schema checks a frame before it is encoded and rebuilds a decoded one,
 * so what goes out and what comes in obey identical rules.
 */
export type FieldSchema =
  | { readonly kind: 'bytes'; readonly length?: number; readonly maxLength?: number }
  | { readonly kind: 'uint'; readonly max: number }
  | { readonly kind: 'text'; readonly maxBytes: number }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'bool' }
  | { readonly kind: 'array'; readonly of: FieldSchema; readonly maxLength: number }
  | StructSchema;

export interface StructSchema {
  readonly kind: 'struct';
  readonly fields: Readonly<Record<string, FieldSchema>>;
  readonly optional?: readonly string[];
  /**
   * Keys the schema does not name are skipped instead of refused (only for the
   * fallback view of a content kind this version does not know, docs/PROTOCOL.md §11.2).
   */
  readonly open?: boolean;
}

export const bytesN = (length: number): FieldSchema => ({ kind: 'bytes', length });
export const bytesMax = (maxLength: number): FieldSchema => ({ kind: 'bytes', maxLength });
export const uint32: FieldSchema = { kind: 'uint', max: UINT32_MAX };
export const uintSafe: FieldSchema = { kind: 'uint', max: Number.MAX_SAFE_INTEGER };
export const text = (maxBytes: number): FieldSchema => ({ kind: 'text', maxBytes });
export const oneOf = (...values: string[]): FieldSchema => ({ kind: 'enum', values });
export const bool: FieldSchema = { kind: 'bool' };
export const arrayOf = (of: FieldSchema, maxLength: number): FieldSchema => ({ kind: 'array', of, maxLength });
export const struct = (fields: Record<string, FieldSchema>, optional: string[] = []): StructSchema => ({ kind: 'struct', fields, optional });

/**
 * RFC 8949 §4.2.1 map key order for short text keys: shorter first, then bytewise.
 * (A text key's encoding starts with its length, so this is the bytewise order of the encodings.)
 */
export function canonicalKeyOrder(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
}

function utf8Length(s: string): number {
  // Exact UTF-8 length without allocating for ASCII-heavy strings.
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function hasLoneSurrogate(s: string): boolean {
  // TextEncoder would silently turn a lone surrogate into U+FFFD; refuse it instead.
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

function invalid(path: string, msg: string): WireError {
  return new WireError('invalid_field', `${path}: ${msg}`, path);
}

/** Direction of a check: 'encode' takes app objects, 'decode' takes what cbor-x built (Maps). */
export type Mode = 'encode' | 'decode';

/**
 * Checks `value` against `schema` and returns the canonical representation:
 * for 'encode' a plain object in canonical key order (integers above 2^32-1 as
 * bigint so cbor-x writes them as integers), for 'decode' a plain object with
 * fresh plain `Uint8Array`s (never views into the input buffer).
 */
export function normalize(schema: FieldSchema, value: unknown, path: string, mode: Mode): unknown {
  switch (schema.kind) {
    case 'bytes': {
      if (!(value instanceof Uint8Array)) throw invalid(path, 'expected bytes');
      if (schema.length !== undefined && value.length !== schema.length) throw invalid(path, `expected ${schema.length} bytes, got ${value.length}`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) throw invalid(path, `more than ${schema.maxLength} bytes`);
      // A fresh plain Uint8Array: never a Buffer, never a view pinning the whole input frame.
      if (mode === 'decode') return new Uint8Array(value);
      return value;
    }
    case 'uint': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > schema.max) {
        throw invalid(path, `expected an integer from 0 to ${schema.max}`);
      }
      return mode === 'encode' && value > UINT32_MAX ? BigInt(value) : value;
    }
    case 'text': {
      if (typeof value !== 'string') throw invalid(path, 'expected text');
      if (utf8Length(value) > schema.maxBytes) throw invalid(path, `more than ${schema.maxBytes} UTF-8 bytes`);
      if (mode === 'encode' && hasLoneSurrogate(value)) throw invalid(path, 'text is not well-formed Unicode');
      return value;
    }
    case 'enum': {
      if (typeof value !== 'string' || !schema.values.includes(value)) throw invalid(path, `expected one of ${schema.values.join(', ')}`);
      return value;
    }
    case 'bool': {
      if (typeof value !== 'boolean') throw invalid(path, 'expected a boolean');
      return value;
    }
    case 'array': {
      if (!Array.isArray(value)) throw invalid(path, 'expected an array');
      if (value.length > schema.maxLength) throw invalid(path, `more than ${schema.maxLength} items`);
      return value.map((item, i) => normalize(schema.of, item, `${path}[${i}]`, mode));
    }
    case 'struct':
      return normalizeStruct(schema, value, path, mode);
  }
}

/** Reads the entries of a struct value: an object when encoding, a Map when decoding. */
function entriesOf(value: unknown, path: string, mode: Mode): Map<string, unknown> {
  if (mode === 'decode') {
    if (!(value instanceof Map)) throw invalid(path, 'expected a map');
    return value as Map<string, unknown>;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw invalid(path, 'expected an object');
  }
  const m = new Map<string, unknown>();
  for (const [k, v] of Object.entries(value)) if (v !== undefined) m.set(k, v);
  return m;
}

export function normalizeStruct(schema: StructSchema, value: unknown, path: string, mode: Mode): Record<string, unknown> {
  const entries = entriesOf(value, path, mode);
  for (const key of entries.keys()) {
    if (!Object.hasOwn(schema.fields, key) && !schema.open) {
      throw new WireError('unknown_field', `${join(path, String(key))}: not part of this frame`, join(path, String(key)));
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of canonicalKeyOrder(Object.keys(schema.fields))) {
    const fieldPath = join(path, key);
    if (!entries.has(key)) {
      if (schema.optional?.includes(key)) continue;
      throw new WireError('missing_field', `${fieldPath}: required`, fieldPath);
    }
    out[key] = normalize(schema.fields[key]!, entries.get(key), fieldPath, mode);
  }
  return out;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
