import { Encoder } from 'cbor-x';

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false, pack: false, structuredClone: false });

/** Encodes an arbitrary value as CBOR with keys in the given order (to craft bad frames). */
export function rawCbor(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(value));
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}
