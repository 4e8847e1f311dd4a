import type { FetchedBundle, PublishedBundle } from '../../core/wire/index.ts';

/** How many one-time keys of each kind are left for an identity. */
export interface PreKeyCounts {
  readonly opks: number;
  readonly pqopks: number;
}

export type PublishOutcome = { readonly ok: true; readonly counts: PreKeyCounts } | { readonly ok: false; readonly reason: 'pool_full' };

/**
 * The prekey directory. Signatures are verified before `publish` is called; the store
 * only keeps keys and hands out each one-time key at most once.
 */
export interface PreKeyStore {
  /**
   * Replaces the identity's signed prekey and last-resort PQ key, and adds the one-time
   * keys to its pools (an id already present is replaced). Refuses the whole upload when a
   * pool would exceed `poolMax`.
   */
  publish(bundle: PublishedBundle, poolMax: number, now: number): Promise<PublishOutcome>;
  /**
   * Atomically takes (removes) at most one X25519 and one ML-KEM one-time key and returns
   * the bundle; the PQ slot falls back to the last-resort key when the PQ pool is empty.
   * With `oneTime: false` (the identity's one-time-key budget is spent) it takes none: the
   * bundle has no X25519 one-time key and the last-resort PQ key, as PQXDH allows.
   * Concurrent callers never receive the same one-time key. Undefined if nothing was published.
   */
  takeBundle(ik: Uint8Array, opts?: { readonly oneTime?: boolean }): Promise<{ readonly bundle: FetchedBundle; readonly remaining: PreKeyCounts } | undefined>;
  /** Remaining one-time keys, or undefined if the identity never published. */
  counts(ik: Uint8Array): Promise<PreKeyCounts | undefined>;
}
