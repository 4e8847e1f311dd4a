/**
 * The backup format (docs/PROTOCOL.md §16.1): round trip of any records; every truncation,
 * every flipped bit, a wrong key or passphrase, the other kind of secret and an unknown
 * version each end in a typed BackupError, never in a record that was not sealed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sealBackup, openBackup } from '../../src/core/backup/backup-stream.ts';
import type { BackupSecret } from '../../src/core/backup/backup-key.ts';
import { BackupError, BackupExtendedError, BackupMalformedError, BackupTamperedError, BackupTruncatedError, BackupVersionError, BackupWrongKeyError } from '../../src/core/backup/errors.ts';
import { CryptoRuntime } from '../../src/core/crypto/crypto-runtime.ts';
import { seededRandom } from '../../src/core/random.ts';

const runtime = new CryptoRuntime(seededRandom(17));
const recovery = (n: number): BackupSecret => ({ kind: 'recovery_key', key: new Uint8Array(20).fill(n) });

async function readAll(backup: Uint8Array, secret: BackupSecret): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const r of openBackup(backup, secret, { runtime })) out.push(r);
  return out;
}

/** Opens and reports what came out before the error (if any). */
async function attempt(backup: Uint8Array, secret: BackupSecret): Promise<{ records: Uint8Array[]; error?: unknown }> {
  const records: Uint8Array[] = [];
  try {
    for await (const r of openBackup(backup, secret, { runtime })) records.push(r);
    return { records };
  } catch (error) {
    return { records, error };
  }
}

const arbRecords = fc.array(fc.uint8Array({ minLength: 0, maxLength: 3000 }), { minLength: 1, maxLength: 6 });

describe('backup format', () => {
  it('gives back exactly the records sealed, in order (any records, any count)', async () => {
    await fc.assert(
      fc.asyncProperty(arbRecords, async (records) => {
        const backup = await sealBackup(records, recovery(1), { runtime });
        expect(await readAll(backup, recovery(1))).toEqual(records);
      }),
      { numRuns: 30 },
    );
  });

  it('refuses any cut and any flipped bit of any backup with a typed error (property)', async () => {
    await fc.assert(
      fc.asyncProperty(arbRecords, fc.nat(), fc.nat(), async (records, cutAt, flipAt) => {
        const backup = await sealBackup(records, recovery(6), { runtime });
        const cut = await attempt(backup.subarray(0, cutAt % backup.length), recovery(6));
        expect(cut.error).toBeInstanceOf(BackupError);
        expect(records.slice(0, cut.records.length)).toEqual(cut.records);
        const flipped = backup.slice();
        flipped[flipAt % (8 * backup.length) >> 3]! ^= 1 << (flipAt % 8);
        const flip = await attempt(flipped, recovery(6));
        expect(flip.error).toBeInstanceOf(BackupError);
        expect(records.slice(0, flip.records.length)).toEqual(flip.records);
      }),
      { numRuns: 60 },
    );
  });

  it('pads to a Padmé bucket, at least 4096 bytes, and one 64 KiB record fits', async () => {
    const small = await sealBackup([new Uint8Array(10)], recovery(1), { runtime });
    expect(small.length).toBe(4096);
    const big = [new Uint8Array(64 * 1024).fill(7), new Uint8Array(1)];
    expect(await readAll(await sealBackup(big, recovery(1), { runtime }), recovery(1))).toEqual(big);
    await expect(sealBackup([new Uint8Array(64 * 1024 + 1)], recovery(1), { runtime })).rejects.toThrow(RangeError);
  });

  it('refuses every truncation with a typed error, after releasing only records that were sealed', async () => {
    const records = [Uint8Array.of(1, 2, 3), new Uint8Array(200).fill(9), Uint8Array.of(4)];
    const backup = await sealBackup(records, recovery(2), { runtime });
    const sealedEnd = 58 + (4 + 3 + 16) + (4 + 200 + 16) + (4 + 1 + 16);
    // Every cut up to the padding, then every 97th byte of the padding.
    const cuts = [...Array(sealedEnd + 2).keys(), ...Array.from({ length: Math.floor((backup.length - sealedEnd) / 97) }, (_, k) => sealedEnd + 2 + 97 * k), backup.length - 1];
    for (const len of cuts) {
      const { records: got, error } = await attempt(backup.subarray(0, len), recovery(2));
      expect(error, `cut at ${len}`).toBeInstanceOf(BackupError);
      expect(records.slice(0, got.length)).toEqual(got);
      if (len >= 6) expect(error).toBeInstanceOf(BackupTruncatedError);
    }
  });

  it('refuses every flipped bit of the header and records, and flips in the padding, with a typed error', async () => {
    const records = [Uint8Array.of(1, 2, 3), new Uint8Array(100).fill(9)];
    const backup = await sealBackup(records, recovery(3), { runtime });
    const sealedEnd = 58 + (4 + 3 + 16) + (4 + 100 + 16);
    const positions = [...Array(sealedEnd).keys(), sealedEnd, 1000, backup.length - 1];
    for (const byte of positions) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = backup.slice();
        copy[byte]! ^= 1 << bit;
        const { records: got, error } = await attempt(copy, recovery(3));
        expect(error, `byte ${byte} bit ${bit}`).toBeInstanceOf(BackupError);
        expect(records.slice(0, got.length)).toEqual(got);
      }
    }
  });

  it('tells what is wrong: wrong key, the other kind of secret, an unknown version, not a backup, swapped and extra records', async () => {
    const backup = await sealBackup([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)], recovery(4), { runtime });
    await expect(readAll(backup, recovery(5))).rejects.toBeInstanceOf(BackupWrongKeyError);
    await expect(readAll(backup, { kind: 'passphrase', passphrase: 'x' })).rejects.toBeInstanceOf(BackupMalformedError);
    const v2 = backup.slice();
    v2[4] = 2;
    await expect(readAll(v2, recovery(4))).rejects.toEqual(new BackupVersionError(2));
    await expect(readAll(new TextEncoder().encode('PK\x03\x04 a zip file'), recovery(4))).rejects.toBeInstanceOf(BackupMalformedError);
    const kdf = backup.slice();
    kdf[5] = 9;
    await expect(readAll(kdf, recovery(4))).rejects.toThrow(/unknown key derivation/);
    // Frames 0 and 1 (each 4 + 1 + 16 bytes) swapped: frame 0's place holds record 1.
    const swapped = backup.slice();
    swapped.set(backup.subarray(58 + 21, 58 + 42), 58);
    swapped.set(backup.subarray(58, 58 + 21), 58 + 21);
    await expect(readAll(swapped, recovery(4))).rejects.toEqual(new BackupTamperedError(0));
    const longer = new Uint8Array(backup.length + 1);
    longer.set(backup);
    await expect(readAll(longer, recovery(4))).rejects.toBeInstanceOf(BackupExtendedError);
  });

  it('opens a passphrase backup (Argon2id, 64 MiB, 3 passes) with the passphrase in either Unicode form, and not with another', async () => {
    const records = [Uint8Array.of(42)];
    const backup = await sealBackup(records, { kind: 'passphrase', passphrase: 'Ca\u0301diz harbour' }, { runtime });
    expect([...backup.subarray(5, 15)]).toEqual([2, 0, 1, 0, 0, 0, 0, 0, 3, 1]);
    expect(await readAll(backup, { kind: 'passphrase', passphrase: 'C\u00e1diz harbour' })).toEqual(records);
    await expect(readAll(backup, { kind: 'passphrase', passphrase: 'Cadiz harbour' })).rejects.toBeInstanceOf(BackupWrongKeyError);
    await expect(readAll(backup, recovery(1))).rejects.toBeInstanceOf(BackupMalformedError);
    // A header asking for less than the floor (or absurd memory) is refused before any work.
    const weak = backup.slice();
    weak[8] = 0; // 64 MiB → 0 KiB high bytes: 0x00000000
    weak[7] = 0;
    await expect(readAll(weak, { kind: 'passphrase', passphrase: 'x' })).rejects.toThrow(/memoryKiB/);
  }, 20_000);
});
