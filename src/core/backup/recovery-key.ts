/**
 * The recovery key (docs/PROTOCOL.md §16.2): 160 random bits, shown once as 36 characters
 * of Crockford's base32 in nine groups of four, the last group a check:
 *
 *   ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789-CCCC
 *   └──────── 32 characters: the 20-byte key ────────┘ └ check ┘
 *
 * The check group is a CRC of degree 20 (generator x^20 + x^3 + 1, primitive) over the key's
 * 160 bits, so the 180-bit code word is a multiple of the generator. Any error burst of at
 * most 20 bits changes the remainder, which means every mistyped character (5 bits) and every
 * two neighbouring characters swapped (10 bits) is caught, always; other typos are caught
 * with probability 1 − 2^-20. Reading is forgiving: case, spaces and hyphens do not matter,
 * and O, I and L are read as 0, 1 and 1 (Crockford's alphabet has no I, L, O or U).
 */
import type { Random } from '../random.ts';
import { RecoveryKeyError } from './errors.ts';

export const RECOVERY_KEY_BYTES = 20;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DATA_CHARS = (RECOVERY_KEY_BYTES * 8) / 5; // 32
const CHECK_CHARS = 4;
const CHECK_BITS = CHECK_CHARS * 5; // 20
const GENERATOR = (1 << 20) | (1 << 3) | 1;
const GROUP = 4;

/** A recovery key: its 20 bytes (what the key derivations take) and the text shown to the user. */
export interface RecoveryKey {
  readonly bytes: Uint8Array;
  readonly text: string;
}

export function generateRecoveryKey(random: Random): RecoveryKey {
  const bytes = random.bytes(RECOVERY_KEY_BYTES);
  return { bytes, text: formatRecoveryKey(bytes) };
}

export function formatRecoveryKey(bytes: Uint8Array): string {
  if (bytes.length !== RECOVERY_KEY_BYTES) throw new RangeError(`a recovery key is ${RECOVERY_KEY_BYTES} bytes`);
  const symbols = [...toSymbols(bytes), ...checkSymbols(bytes)];
  const text = symbols.map((s) => ALPHABET[s]).join('');
  return text.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
}

/** The key's 20 bytes; RecoveryKeyError for a text of the wrong length, a character outside the alphabet, or a check that does not match. */
export function parseRecoveryKey(text: string): Uint8Array {
  const cleaned = text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (cleaned.length !== DATA_CHARS + CHECK_CHARS) throw new RecoveryKeyError(`a recovery key has ${DATA_CHARS + CHECK_CHARS} characters (besides spaces and hyphens); this has ${cleaned.length}`);
  const symbols: number[] = [];
  for (const c of cleaned) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) throw new RecoveryKeyError(`"${c}" is not a character of a recovery key`);
    symbols.push(v);
  }
  const bytes = fromSymbols(symbols.slice(0, DATA_CHARS));
  const check = checkSymbols(bytes);
  if (check.some((s, i) => s !== symbols[DATA_CHARS + i])) throw new RecoveryKeyError('the recovery key does not check out: a character is mistyped');
  return bytes;
}

function toSymbols(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

function fromSymbols(symbols: readonly number[]): Uint8Array {
  const out = new Uint8Array(RECOVERY_KEY_BYTES);
  let acc = 0;
  let bits = 0;
  let i = 0;
  for (const s of symbols) {
    acc = (acc << 5) | s;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[i++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return out;
}

/** The CRC remainder of the key's bits times x^20, as four 5-bit symbols. */
function checkSymbols(bytes: Uint8Array): number[] {
  let r = 0;
  const step = (bit: number) => {
    r = (r << 1) | bit;
    if (r & (1 << CHECK_BITS)) r ^= GENERATOR;
  };
  for (const b of bytes) for (let k = 7; k >= 0; k--) step((b >> k) & 1);
  for (let k = 0; k < CHECK_BITS; k++) step(0);
  return [15, 10, 5, 0].map((shift) => (r >> shift) & 31);
}
