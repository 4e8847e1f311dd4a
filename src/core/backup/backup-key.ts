/**
 * What a recovery key or a passphrase derives (docs/PROTOCOL.md §16.2):
 *
 *   root      = the recovery key's 20 bytes, or Argon2id(NFC(passphrase), salt, params) (32 bytes)
 *   key       = HKDF-SHA-256(root, salt, "Petrel_BackupKey_v1", 32)      seals the records
 *   vault id  = HKDF-SHA-256(recovery key, "", "Petrel_BackupId", 16)     where the relay keeps it
 *   write     = HKDF-SHA-256(recovery key, "", "Petrel_BackupWrite", 32)  proves the right to replace it
 *
 * The salt is fresh per backup, so every backup has its own key and the STREAM nonces
 * (counter only) never repeat under one key. Argon2id runs in hash-wasm's WebAssembly
 * (measured against @noble/hashes in docs/BENCHMARKS.md, "Backup"), loaded only when a
 * passphrase is used, so it adds nothing to the first screen. The app's CSP allows it with
 * 'wasm-unsafe-eval' (src/relay/http/security-headers.ts); where a page may not compile
 * WebAssembly, @noble/hashes runs instead (slower, same output).
 */
import { utf8 } from '../bytes.ts';
import { hkdfSha256 } from '../crypto/kdf.ts';
import type { Argon2Params, BackupHeader } from './backup-header.ts';
import { RECOVERY_KEY_BYTES } from './recovery-key.ts';

export const BACKUP_KEY_BYTES = 32;
export const VAULT_ID_BYTES = 16;
export const VAULT_WRITE_TOKEN_BYTES = 32;

/** What opens a backup: a recovery key's bytes (recovery-key.ts) or a passphrase. */
export type BackupSecret = { readonly kind: 'recovery_key'; readonly key: Uint8Array } | { readonly kind: 'passphrase'; readonly passphrase: string };

/** Argon2id → 32 bytes; injectable (tests, a worker), hash-wasm by default. */
export type Argon2idFn = (password: Uint8Array, salt: Uint8Array, params: Argon2Params) => Promise<Uint8Array>;

export const hashWasmArgon2id: Argon2idFn = async (password, salt, params) => {
  const { argon2id } = await import('hash-wasm');
  return argon2id({ password, salt, parallelism: params.lanes, iterations: params.passes, memorySize: params.memoryKiB, hashLength: 32, outputType: 'binary' });
};

/** @noble/hashes' JavaScript Argon2id: about 3× slower in Chromium, but needs no WebAssembly. */
export const nobleArgon2id: Argon2idFn = async (password, salt, params) => {
  const { argon2idAsync } = await import('@noble/hashes/argon2.js');
  return argon2idAsync(password, salt, { t: params.passes, m: params.memoryKiB, p: params.lanes, dkLen: 32 });
};

/**
 * `primary`, or `fallback` where the page may not compile WebAssembly (a Content-Security-
 * Policy without 'wasm-unsafe-eval', e.g. one a proxy sets: a CompileError or EvalError).
 */
export function argon2idPreferring(primary: Argon2idFn, fallback: Argon2idFn): Argon2idFn {
  let useFallback = false;
  return async (password, salt, params) => {
    if (!useFallback) {
      try {
        return await primary(password, salt, params);
      } catch (err) {
        if (!(err instanceof Error) || (err.name !== 'CompileError' && err.name !== 'EvalError')) throw err;
        useFallback = true;
      }
    }
    return fallback(password, salt, params);
  };
}

/** hash-wasm, or @noble/hashes where WebAssembly is refused. */
export const defaultArgon2id: Argon2idFn = argon2idPreferring(hashWasmArgon2id, nobleArgon2id);

const KEY_INFO = utf8('Petrel_BackupKey_v1');
const ID_INFO = utf8('Petrel_BackupId');
const WRITE_INFO = utf8('Petrel_BackupWrite');
const NO_SALT = new Uint8Array(0);

function checkRecoveryKey(key: Uint8Array): void {
  if (key.length !== RECOVERY_KEY_BYTES) throw new RangeError(`a recovery key is ${RECOVERY_KEY_BYTES} bytes`);
}

/** The record key for a backup with `header`, from `secret` (which must suit the header's KDF; the caller checks). */
export async function deriveBackupKey(secret: BackupSecret, header: BackupHeader, argon2id: Argon2idFn = defaultArgon2id): Promise<Uint8Array> {
  let root: Uint8Array;
  if (secret.kind === 'recovery_key') {
    checkRecoveryKey(secret.key);
    root = secret.key;
  } else {
    if (header.kdf.kind !== 'argon2id') throw new RangeError('a passphrase needs an Argon2id header');
    root = await argon2id(utf8(secret.passphrase.normalize('NFC')), header.salt, header.kdf.params);
  }
  return hkdfSha256(root, header.salt, KEY_INFO, BACKUP_KEY_BYTES);
}

/** Where the relay keeps the backup made under this recovery key, and the token that may replace it. */
export function vaultCredentials(recoveryKey: Uint8Array): { readonly id: Uint8Array; readonly writeToken: Uint8Array } {
  checkRecoveryKey(recoveryKey);
  return { id: hkdfSha256(recoveryKey, NO_SALT, ID_INFO, VAULT_ID_BYTES), writeToken: hkdfSha256(recoveryKey, NO_SALT, WRITE_INFO, VAULT_WRITE_TOKEN_BYTES) };
}
