/**
 * The recovery key's text: 160 bits in nine groups of four, the last a CRC check group that
 * always catches one mistyped character and two neighbours swapped (checked exhaustively per
 * key), and forgiving reading (case, spaces, O/I/L).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecoveryKeyError } from '../../src/core/backup/errors.ts';
import { formatRecoveryKey, generateRecoveryKey, parseRecoveryKey, RECOVERY_KEY_BYTES } from '../../src/core/backup/recovery-key.ts';
import { seededRandom } from '../../src/core/random.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const arbKey = fc.uint8Array({ minLength: RECOVERY_KEY_BYTES, maxLength: RECOVERY_KEY_BYTES });

describe('recovery key', () => {
  it('is 36 characters of Crockford base32 in nine groups of four and reads back to its bytes', () => {
    const key = generateRecoveryKey(seededRandom(7));
    expect(key.text).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){8}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(parseRecoveryKey(key.text)).toEqual(key.bytes);
    fc.assert(
      fc.property(arbKey, (bytes) => {
        expect(parseRecoveryKey(formatRecoveryKey(bytes))).toEqual(bytes);
      }),
    );
  });

  it('reads lower case, spaces instead of hyphens, and O, I, L as 0, 1, 1', () => {
    const bytes = new Uint8Array(RECOVERY_KEY_BYTES); // all zero: "0000-…"
    const text = formatRecoveryKey(bytes);
    expect(parseRecoveryKey(text.toLowerCase().replace(/-/g, ' '))).toEqual(bytes);
    expect(parseRecoveryKey(text.replace(/0/g, 'O'))).toEqual(bytes);
    const ones = formatRecoveryKey(Uint8Array.from({ length: RECOVERY_KEY_BYTES }, () => 0x08)); // 00001000… has 1s
    if (ones.includes('1')) expect(parseRecoveryKey(ones.replace(/1/g, 'l'))).toEqual(parseRecoveryKey(ones));
  });

  it('catches every single mistyped character and every swap of two different neighbours', () => {
    fc.assert(
      fc.property(arbKey, (bytes) => {
        const chars = formatRecoveryKey(bytes).replace(/-/g, '').split('');
        for (let i = 0; i < chars.length; i++) {
          for (const c of ALPHABET) {
            if (c === chars[i]) continue;
            const typo = [...chars];
            typo[i] = c;
            expect(() => parseRecoveryKey(typo.join(''))).toThrow(RecoveryKeyError);
          }
          if (i + 1 < chars.length && chars[i] !== chars[i + 1]) {
            const swapped = [...chars];
            [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
            expect(() => parseRecoveryKey(swapped.join(''))).toThrow(RecoveryKeyError);
          }
        }
      }),
      { numRuns: 15 },
    );
  });

  it('refuses a wrong length or a character outside the alphabet, typed', () => {
    const text = generateRecoveryKey(seededRandom(1)).text;
    expect(() => parseRecoveryKey(text.slice(0, -1))).toThrow(RecoveryKeyError);
    expect(() => parseRecoveryKey(`${text}A`)).toThrow(RecoveryKeyError);
    expect(() => parseRecoveryKey(`U${text.slice(1)}`)).toThrow(/not a character/);
    expect(() => parseRecoveryKey('')).toThrow(RecoveryKeyError);
  });
});
