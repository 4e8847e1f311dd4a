/**
 * The key check value in a blob's header: HMAC-SHA-256(key, "petrel/1 attachment key check").
 * It tells "this blob was not sealed under this key" (a wrong key, or a blob swapped for
 * another file's) apart from an altered record, before any record is tried. It also commits
 * the blob to one key: AES-GCM alone is not key-committing, so without it one ciphertext
 * could be crafted to open under two keys (Len, Grubbs, Ristenpart, "Partitioning Oracle
 * Attacks", USENIX Security 2021). It reveals nothing about the key (HMAC is a PRF).
 */
import { hmacSha256 } from '../crypto/kdf.ts';

const LABEL = new TextEncoder().encode('petrel/1 attachment key check');

export function attachmentKeyCheck(key: Uint8Array): Uint8Array {
  return hmacSha256(key, LABEL);
}
