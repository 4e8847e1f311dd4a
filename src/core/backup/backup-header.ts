/**
 * The backup header (docs/PROTOCOL.md §16.1): what a reader needs before any record, all of
 * it authenticated (it is every record's associated data, and the key check covers it):
 *
 *   magic     "PTBK" (0x50 0x54 0x42 0x4B)
 *   version   u8 = 1
 *   kdf       u8: 1 = recovery key (HKDF-SHA-256), 2 = passphrase (Argon2id)
 *   params    kdf 1: nothing; kdf 2: u32be memory (KiB) ‖ u32be passes ‖ u8 lanes
 *   salt      16 bytes, fresh per backup
 *   key_check 32 bytes = HMAC-SHA-256(key, "Petrel_BackupKeyCheck" ‖ every header byte before it)
 */
import { bytesEqual, concatBytes, utf8 } from '../bytes.ts';
import { hmacSha256 } from '../crypto/kdf.ts';
import { BackupMalformedError, BackupTruncatedError, BackupVersionError, BackupWrongKeyError } from './errors.ts';

export const BACKUP_MAGIC = Uint8Array.of(0x50, 0x54, 0x42, 0x4b);
export const BACKUP_VERSION = 1;
export const BACKUP_SALT_BYTES = 16;
export const BACKUP_KEY_CHECK_BYTES = 32;

export interface Argon2Params {
  /** Memory in KiB. */
  readonly memoryKiB: number;
  readonly passes: number;
  readonly lanes: number;
}

/** What a writer uses: 64 MiB, 3 passes, one lane (issue 17's floor; measured in docs/BENCHMARKS.md). */
export const ARGON2_DEFAULTS: Argon2Params = { memoryKiB: 64 * 1024, passes: 3, lanes: 1 };
/** What a reader accepts: never below the writer's floor (a forged weak header gains nothing), never so high that opening one file exhausts the device. */
export const ARGON2_BOUNDS = { memoryKiB: [64 * 1024, 1024 * 1024], passes: [3, 16], lanes: [1, 16] } as const;

export type BackupKdf = { readonly kind: 'recovery_key' } | { readonly kind: 'argon2id'; readonly params: Argon2Params };

export interface BackupHeader {
  readonly kdf: BackupKdf;
  readonly salt: Uint8Array;
}

const KDF_CODE = { recovery_key: 1, argon2id: 2 } as const;
const ARGON2_PARAMS_BYTES = 9;
const KEY_CHECK_LABEL = utf8('Petrel_BackupKeyCheck');

/** The header bytes before the key check. */
function headerBody(header: BackupHeader): Uint8Array {
  const params = new Uint8Array(header.kdf.kind === 'argon2id' ? ARGON2_PARAMS_BYTES : 0);
  if (header.kdf.kind === 'argon2id') {
    const view = new DataView(params.buffer);
    view.setUint32(0, header.kdf.params.memoryKiB);
    view.setUint32(4, header.kdf.params.passes);
    view.setUint8(8, header.kdf.params.lanes);
  }
  return concatBytes(BACKUP_MAGIC, Uint8Array.of(BACKUP_VERSION, KDF_CODE[header.kdf.kind]), params, header.salt);
}

function keyCheck(key: Uint8Array, body: Uint8Array): Uint8Array {
  return hmacSha256(key, concatBytes(KEY_CHECK_LABEL, body));
}

export function encodeBackupHeader(header: BackupHeader, key: Uint8Array): Uint8Array {
  if (header.salt.length !== BACKUP_SALT_BYTES) throw new RangeError(`a backup salt is ${BACKUP_SALT_BYTES} bytes`);
  const body = headerBody(header);
  return concatBytes(body, keyCheck(key, body));
}

/** The header at the start of `bytes` and its length; the key check is verified separately (it needs the key, and so the header). */
export function parseBackupHeader(bytes: Uint8Array): { readonly header: BackupHeader; readonly length: number } {
  const prefix = bytes.subarray(0, BACKUP_MAGIC.length);
  if (!bytesEqual(prefix, BACKUP_MAGIC.subarray(0, prefix.length))) throw new BackupMalformedError('not a Petrel backup (magic)');
  if (bytes.length < BACKUP_MAGIC.length + 2) throw new BackupTruncatedError('the backup ends inside its header');
  const version = bytes[4]!;
  if (version !== BACKUP_VERSION) throw new BackupVersionError(version);
  const code = bytes[5]!;
  let kdf: BackupKdf;
  let at = 6;
  if (code === KDF_CODE.recovery_key) kdf = { kind: 'recovery_key' };
  else if (code === KDF_CODE.argon2id) {
    if (bytes.length < at + ARGON2_PARAMS_BYTES) throw new BackupTruncatedError('the backup ends inside its header');
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, ARGON2_PARAMS_BYTES);
    const params = { memoryKiB: view.getUint32(0), passes: view.getUint32(4), lanes: view.getUint8(8) };
    for (const name of ['memoryKiB', 'passes', 'lanes'] as const) {
      const [lo, hi] = ARGON2_BOUNDS[name];
      if (params[name] < lo || params[name] > hi) throw new BackupMalformedError(`Argon2id ${name} ${params[name]} is outside ${lo}..${hi}`);
    }
    kdf = { kind: 'argon2id', params };
    at += ARGON2_PARAMS_BYTES;
  } else throw new BackupMalformedError(`unknown key derivation ${code}`);
  const length = at + BACKUP_SALT_BYTES + BACKUP_KEY_CHECK_BYTES;
  if (bytes.length < length) throw new BackupTruncatedError('the backup ends inside its header');
  return { header: { kdf, salt: bytes.slice(at, at + BACKUP_SALT_BYTES) }, length };
}

/** BackupWrongKeyError unless `headerBytes` (the whole header) carries the key check of `key`. */
export function checkBackupKey(headerBytes: Uint8Array, key: Uint8Array): void {
  const body = headerBytes.subarray(0, headerBytes.length - BACKUP_KEY_CHECK_BYTES);
  if (!bytesEqual(headerBytes.subarray(body.length), keyCheck(key, body))) {
    throw new BackupWrongKeyError('this recovery key or passphrase does not open this backup (or its header was altered)');
  }
}
