/**
 * IndexedDB key order for the keys Petrel uses (IndexedDB 3.0 §2.6 "compare two keys"):
 * numbers < strings < arrays; arrays compare element by element, then by length.
 */
import type { StoreKey } from './schema.ts';

function typeRank(k: StoreKey): number {
  if (typeof k === 'number') return 0;
  if (typeof k === 'string') return 1;
  return 2;
}

export function compareKeys(a: StoreKey, b: StoreKey): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' || typeof a === 'string') {
    const bb = b as number | string;
    return a < bb ? -1 : a > bb ? 1 : 0;
  }
  const bArr = b as readonly (number | string)[];
  const n = Math.min(a.length, bArr.length);
  for (let i = 0; i < n; i++) {
    const c = compareKeys(a[i]!, bArr[i]!);
    if (c !== 0) return c;
  }
  return a.length - bArr.length;
}

/** True when `key` lies in the range (unbounded ends allowed). */
export function keyInRange(key: StoreKey, range: { lower?: StoreKey; upper?: StoreKey; lowerOpen?: boolean; upperOpen?: boolean }): boolean {
  if (range.lower !== undefined) {
    const c = compareKeys(key, range.lower);
    if (c < 0 || (c === 0 && range.lowerOpen)) return false;
  }
  if (range.upper !== undefined) {
    const c = compareKeys(key, range.upper);
    if (c > 0 || (c === 0 && range.upperOpen)) return false;
  }
  return true;
}

/** A valid key (number but NaN, string, or array of those); anything else is refused before it reaches a backend. */
export function isValidKey(k: unknown): k is StoreKey {
  if (typeof k === 'number') return !Number.isNaN(k);
  if (typeof k === 'string') return true;
  return Array.isArray(k) && k.every((e) => (typeof e === 'number' && !Number.isNaN(e)) || typeof e === 'string');
}
