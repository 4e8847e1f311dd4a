import { Decoder, Encoder, type Options as CborOptions } from 'cbor-x';
import type { Metrics } from '../metrics.ts';
import { scanCanonicalCbor } from './cbor-scan.ts';
import { WIRE_VERSION } from './limits.ts';
import { canonicalKeyOrder, normalizeStruct, type StructSchema } from './schema.ts';
import { WireError } from './wire-error.ts';

/** The only part of the core's Metrics the codecs use (the relay adapts prom-client to it). */
export type WireMetrics = Pick<Metrics, 'inc'>;

export const VALIDATION_FAILURE_METRIC = 'packet.validation.failure';

/**
 * cbor-x configured for deterministic output: plain maps in the key order we give
 * (already canonical), minimal map headers, no records, no structured clone, no
 * shared-string bundles, byte strings untagged. Integers above 2^32-1 arrive as bigint
 * and are written as major-0 uint64.
 */
const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  tagUint8Array: false,
  pack: false,
  structuredClone: false,
  bundleStrings: false,
});

/**
 * Only ever fed bytes that passed scanCanonicalCbor, so no tag or extension can reach it.
 * Maps come back as `Map` (no prototype tricks with a `__proto__` key); uint64 values
 * (already capped at 2^53-1 by the scan) as numbers via cbor-x's untyped `int64AsNumber`.
 */
const decoderOptions: CborOptions & { int64AsNumber: boolean } = {
  useRecords: false,
  mapsAsObjects: false,
  int64AsNumber: true,
  structuredClone: false,
  bundleStrings: false,
};
const decoder = new Decoder(decoderOptions);

/** Encodes `{v, t, ...fields}` after checking the fields against `schema`. */
export function encodeVersioned(t: string, fields: object, schema: StructSchema): Uint8Array {
  const rest: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(fields)) if (k !== 't') rest[k] = val;
  const checked = normalizeStruct(schema, rest, '', 'encode');
  const all: Record<string, unknown> = { ...checked, t, v: WIRE_VERSION };
  const ordered: Record<string, unknown> = {};
  for (const k of canonicalKeyOrder(Object.keys(all))) ordered[k] = all[k];
  try {
    // Copy out of cbor-x's shared output buffer into a plain, exactly-sized Uint8Array.
    return new Uint8Array(encoder.encode(ordered));
  } catch (err) {
    throw new WireError('malformed', `encoding failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export interface DecodeOptions {
  readonly metrics?: WireMetrics;
}

/**
 * Decodes untrusted bytes into `{t, ...fields}`. `schemaFor` picks the schema for a
 * type (or returns undefined for an unknown one). Throws only WireError, and counts
 * every refusal as `packet.validation.failure{reason}`.
 */
export function decodeVersioned<T>(
  bytes: unknown,
  maxBytes: number,
  schemaFor: (t: string, fields: ReadonlyMap<string, unknown>) => StructSchema | undefined,
  opts: DecodeOptions | undefined,
): T {
  try {
    return decodeUnchecked<T>(bytes, maxBytes, schemaFor);
  } catch (err) {
    const wireError = err instanceof WireError ? err : new WireError('malformed', 'undecodable input');
    opts?.metrics?.inc(VALIDATION_FAILURE_METRIC, { reason: wireError.reason });
    throw wireError;
  }
}

function decodeUnchecked<T>(bytes: unknown, maxBytes: number, schemaFor: (t: string, fields: ReadonlyMap<string, unknown>) => StructSchema | undefined): T {
  if (!(bytes instanceof Uint8Array)) throw new WireError('malformed', 'expected bytes');
  if (bytes.length > maxBytes) throw new WireError('too_large', `${bytes.length} bytes exceed the ${maxBytes}-byte limit`);
  scanCanonicalCbor(bytes);
  let value: unknown;
  try {
    // cbor-x caches a DataView as a property on the array it decodes: give it a
    // throwaway view (no copy) so the caller's array is never mutated.
    value = decoder.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    throw new WireError('malformed', 'not decodable CBOR');
  }
  if (!(value instanceof Map)) throw new WireError('malformed', 'a frame is a CBOR map');
  const v = value.get('v');
  if (v !== WIRE_VERSION) throw new WireError('unsupported_version', `unsupported version ${typeof v === 'number' ? v : typeof v}`);
  const t = value.get('t');
  if (typeof t !== 'string') throw new WireError('unknown_type', 'missing frame type');
  const fields = new Map(value as Map<string, unknown>);
  fields.delete('v');
  fields.delete('t');
  const schema = schemaFor(t, fields);
  if (!schema) throw new WireError('unknown_type', `unknown frame type "${t.slice(0, 32)}"`);
  return { t, ...normalizeStruct(schema, fields, '', 'decode') } as T;
}
