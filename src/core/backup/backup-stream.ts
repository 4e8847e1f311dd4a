/**
 * Sealing and opening a backup's records (docs/PROTOCOL.md §16.1):
 *
 *   backup  = header ‖ frame_0 ‖ … ‖ frame_{n-1} ‖ padding
 *   frame_i = u32be(|sealed_i|) ‖ sealed_i
 *   sealed_i = AES-256-GCM(key, nonce_i, record_i, AD = header)
 *   nonce_i = the attachments' STREAM nonce (attachments/stream-nonce.ts): counter i, last flag on frame n-1
 *   padding = zero bytes up to paddedBlobLength(|header| + Σ|frame_i|) (Padmé, §14.2)
 *
 * Records are whole link records (wire/link-records.ts, at most 64 KiB each). The reader
 * tries each frame as "not last", then as "last": a stream that ends before a frame sealed
 * as last was cut short, and only zero padding to the exact padded length may follow it.
 * A frame that opens under neither flag was altered (or moved: its counter differs).
 */
import type { CryptoRuntime } from '../crypto/crypto-runtime.ts';
import { AuthenticationFailedError } from '../crypto/errors.ts';
import { streamNonce } from '../attachments/stream-nonce.ts';
import { paddedBlobLength } from '../wire/attachment-layout.ts';
import { MAX_LINK_RECORD_BYTES } from '../wire/link-records.ts';
import { BACKUP_SALT_BYTES, ARGON2_DEFAULTS, checkBackupKey, encodeBackupHeader, parseBackupHeader, type BackupHeader } from './backup-header.ts';
import { deriveBackupKey, defaultArgon2id, type Argon2idFn, type BackupSecret } from './backup-key.ts';
import { BackupExtendedError, BackupMalformedError, BackupTamperedError, BackupTruncatedError } from './errors.ts';

const TAG_BYTES = 16;
const LENGTH_BYTES = 4;
const MAX_SEALED_BYTES = MAX_LINK_RECORD_BYTES + TAG_BYTES;

export interface BackupCryptoDeps {
  readonly runtime: CryptoRuntime;
  /** Argon2id for passphrases; hash-wasm (or @noble/hashes without WebAssembly) by default. */
  readonly argon2id?: Argon2idFn;
}

/** Seals `records` (encoded, in order; at least one) into one backup under `secret`. */
export async function sealBackup(records: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, secret: BackupSecret, deps: BackupCryptoDeps): Promise<Uint8Array> {
  const salt = deps.runtime.random.bytes(BACKUP_SALT_BYTES);
  const header: BackupHeader = { kdf: secret.kind === 'recovery_key' ? { kind: 'recovery_key' } : { kind: 'argon2id', params: ARGON2_DEFAULTS }, salt };
  const key = await deriveBackupKey(secret, header, deps.argon2id ?? defaultArgon2id);
  const headerBytes = encodeBackupHeader(header, key);
  const aead = deps.runtime.aesGcmKeyed(key);
  const frames: Uint8Array[] = [headerBytes];
  let length = headerBytes.length;
  let counter = 0;
  let pending: Uint8Array | undefined;
  const seal = async (record: Uint8Array, last: boolean) => {
    if (record.length > MAX_LINK_RECORD_BYTES) throw new RangeError(`a backup record is at most ${MAX_LINK_RECORD_BYTES} bytes`);
    const sealed = await aead.encrypt(streamNonce(counter++, last), record, headerBytes);
    const frame = new Uint8Array(LENGTH_BYTES + sealed.length);
    new DataView(frame.buffer).setUint32(0, sealed.length);
    frame.set(sealed, LENGTH_BYTES);
    frames.push(frame);
    length += frame.length;
  };
  // One record of look-ahead: the last is known only when the records end.
  for await (const record of records) {
    if (pending) await seal(pending, false);
    pending = record;
  }
  if (!pending) throw new RangeError('a backup has at least one record');
  await seal(pending, true);
  const out = new Uint8Array(paddedBlobLength(length));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/**
 * The records of `backup`, each released only after it authenticated in its place. Throws
 * the BackupError of the first fault; the whole backup was read only if the generator ends
 * without one. The secret must suit the header (a passphrase for an Argon2id header, a
 * recovery key otherwise), else BackupMalformedError.
 */
export async function* openBackup(backup: Uint8Array, secret: BackupSecret, deps: BackupCryptoDeps): AsyncGenerator<Uint8Array, void, undefined> {
  const { header, length: headerLength } = parseBackupHeader(backup);
  if ((header.kdf.kind === 'argon2id') !== (secret.kind === 'passphrase')) {
    throw new BackupMalformedError(header.kdf.kind === 'argon2id' ? 'this backup is opened with its passphrase, not a recovery key' : 'this backup is opened with its recovery key, not a passphrase');
  }
  const key = await deriveBackupKey(secret, header, deps.argon2id ?? defaultArgon2id);
  const headerBytes = backup.subarray(0, headerLength);
  checkBackupKey(headerBytes, key);
  const aead = deps.runtime.aesGcmKeyed(key);
  const tryOpen = async (i: number, last: boolean, sealed: Uint8Array): Promise<Uint8Array | undefined> => {
    try {
      return await aead.decrypt(streamNonce(i, last), sealed, headerBytes);
    } catch (err) {
      if (err instanceof AuthenticationFailedError) return undefined;
      throw err;
    }
  };
  let at = headerLength;
  for (let i = 0; ; i++) {
    if (backup.length < at + LENGTH_BYTES) throw new BackupTruncatedError(`the backup ends before record ${i}, and no record before it was the last`);
    const sealedLength = new DataView(backup.buffer, backup.byteOffset + at, LENGTH_BYTES).getUint32(0);
    if (sealedLength < TAG_BYTES || sealedLength > MAX_SEALED_BYTES) throw new BackupTamperedError(i);
    if (backup.length < at + LENGTH_BYTES + sealedLength) throw new BackupTruncatedError(`the backup ends inside record ${i}`);
    const sealed = backup.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + sealedLength);
    at += LENGTH_BYTES + sealedLength;
    const middle = await tryOpen(i, false, sealed);
    if (middle) {
      yield middle;
      continue;
    }
    const last = await tryOpen(i, true, sealed);
    if (!last) throw new BackupTamperedError(i);
    const end = paddedBlobLength(at);
    if (backup.length < end) throw new BackupTruncatedError('the backup ends inside its padding');
    if (backup.length > end) throw new BackupExtendedError('bytes follow the end of the backup');
    for (let p = at; p < end; p++) if (backup[p] !== 0) throw new BackupExtendedError('the padding after the last record is not all zero');
    yield last;
    return;
  }
}
