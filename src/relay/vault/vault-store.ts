/**
 * The backup vault (docs/PROTOCOL.md §16.4): one encrypted backup per vault id, where the id
 * and the write token are derived from the user's recovery key (the relay never sees the
 * key, only SHA-256 of the token). The first write of an id sets its write hash; a later
 * write must present the same token, and replaces the backup at most once per
 * `replaceIntervalMs`. Both implementations pass tests/relay/contracts/vault-store.contract.ts.
 */
export const VAULT_ID_BYTES = 16;
export const VAULT_WRITE_HASH_BYTES = 32;

export interface VaultLimits {
  /** A vault entry may be replaced at most this often (the first write is free). */
  readonly replaceIntervalMs: number;
  /** An entry not written for this long is deleted. */
  readonly retentionMs: number;
  /** Bytes across all entries; a write past it is refused `storage_full`. 0 = no cap. */
  readonly maxTotalBytes: number;
}

export interface VaultEntry {
  readonly blob: Uint8Array;
  readonly updatedAt: number;
}

export type VaultPutResult =
  | { readonly ok: true; readonly created: boolean }
  | { readonly ok: false; readonly why: 'forbidden' | 'storage_full' }
  | { readonly ok: false; readonly why: 'too_soon'; readonly retryAt: number };

export interface VaultStore {
  /** The entry, unless absent or past retention. */
  get(id: Uint8Array, now: number): Promise<VaultEntry | undefined>;
  /** Stores or replaces the entry atomically; a refusal changes nothing. An expired entry counts as absent (its hash too). */
  put(entry: { readonly id: Uint8Array; readonly writeHash: Uint8Array; readonly blob: Uint8Array }, now: number): Promise<VaultPutResult>;
  /** Deletes the entry if `writeHash` is its hash. */
  delete(id: Uint8Array, writeHash: Uint8Array, now: number): Promise<'deleted' | 'forbidden' | 'not_found'>;
  /** Deletes entries past retention; returns how many. */
  expire(now: number): Promise<number>;
  /** Bytes of all entries (the `petrel_vault_bytes` gauge). */
  totalBytes(): Promise<number>;
}
