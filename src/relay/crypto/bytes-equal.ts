import { timingSafeEqual } from 'node:crypto';

/** Equality of two byte strings without an early exit (lengths are not secret). */
export function bytesEqualTimingSafe(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
