/**
 * Input checks run before any transaction starts, so bad input changes nothing and
 * surfaces as one `InvalidStoreInputError` naming the field.
 */
import { InvalidStoreInputError } from './errors.ts';
import { ERROR_TEXT_MAX_CHARS, MESSAGE_BODY_MAX_CHARS } from './limits.ts';

const HEX_128 = /^[0-9a-f]{32}$/;
const HEX_256 = /^[0-9a-f]{64}$/;

/** A 16-byte id as 32 lower-case hex chars (message and envelope ids). */
export function checkId128(field: string, v: unknown): string {
  if (typeof v !== 'string' || !HEX_128.test(v)) throw new InvalidStoreInputError(field, 'expected 32 lower-case hex characters');
  return v;
}

/** A contact id: the hex of a 32-byte identity key. */
export function checkContactId(field: string, v: unknown): string {
  if (typeof v !== 'string' || !HEX_256.test(v)) throw new InvalidStoreInputError(field, 'expected 64 lower-case hex characters');
  return v;
}

export function checkBytes(field: string, v: unknown, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new InvalidStoreInputError(field, 'expected bytes');
  if (length !== undefined && v.length !== length) throw new InvalidStoreInputError(field, `expected ${length} bytes`);
  return v;
}

export function checkTime(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidStoreInputError(field, 'expected a time in ms');
  return v;
}

export function checkCount(field: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new InvalidStoreInputError(field, `expected an integer 0..${max}`);
  return v;
}

/** null (no session yet) or a positive integer version. */
export function checkVersion(field: string, v: unknown): number | null {
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InvalidStoreInputError(field, 'expected null or a version >= 1');
  return v;
}

export function checkBody(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length > MESSAGE_BODY_MAX_CHARS) throw new InvalidStoreInputError(field, `expected text up to ${MESSAGE_BODY_MAX_CHARS} characters`);
  return v;
}

export function checkText(field: string, v: unknown): string {
  if (typeof v !== 'string') throw new InvalidStoreInputError(field, 'expected text');
  return v.slice(0, ERROR_TEXT_MAX_CHARS);
}

export function checkArray<T>(field: string, v: unknown, max: number): readonly T[] {
  if (!Array.isArray(v) || v.length > max) throw new InvalidStoreInputError(field, `expected a list of at most ${max}`);
  return v as T[];
}

export function checkOneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new InvalidStoreInputError(field, `expected one of ${allowed.join(', ')}`);
  return v as T;
}

export function checkObject(field: string, v: unknown): void {
  if (typeof v !== 'object' || v === null) throw new InvalidStoreInputError(field, 'expected an object');
}
