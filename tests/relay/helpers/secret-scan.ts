import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Something that must not appear, in one encoding. */
export interface Needle {
  readonly what: string;
  readonly bytes: Buffer;
}

/** The shortest needle we accept: shorter ones match random ciphertext by chance. */
const MIN_NEEDLE_BYTES = 8;

/**
 * A secret in every encoding a careless log line or column could use: raw bytes, hex
 * (both cases), base64 and base64url. Base64 only matches when the secret starts on a
 * 3-byte boundary of the encoded data, so callers also pass aligned slices when it matters.
 */
export function encodings(what: string, secret: Uint8Array): Needle[] {
  const b = Buffer.from(secret);
  const all: Needle[] = [
    { what: `${what} (raw)`, bytes: b },
    { what: `${what} (hex)`, bytes: Buffer.from(b.toString('hex')) },
    { what: `${what} (HEX)`, bytes: Buffer.from(b.toString('hex').toUpperCase()) },
    { what: `${what} (base64)`, bytes: Buffer.from(b.toString('base64').replace(/=+$/, '')) },
    { what: `${what} (base64url)`, bytes: Buffer.from(b.toString('base64url')) },
  ];
  return all.filter((n) => n.bytes.length >= MIN_NEEDLE_BYTES);
}

/** Labels of the needles found in `haystack`. */
export function findNeedles(haystack: Buffer, needles: readonly Needle[]): string[] {
  return needles.filter((n) => haystack.includes(n.bytes)).map((n) => n.what);
}

/** Every regular file under `dir`, recursively (the database, its -wal and -shm, anything else). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** `file: label` for every needle found in any file under `dir`. */
export function scanDir(dir: string, needles: readonly Needle[]): string[] {
  return filesUnder(dir).flatMap((f) => findNeedles(readFileSync(f), needles).map((what) => `${f}: ${what}`));
}
