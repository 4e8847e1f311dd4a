/**
 * AES-GCM (NIST SP 800-38D §7) for nonces of 1–7 bytes, which @noble/ciphers' `gcm` refuses
 * (it narrows IVs to 8 bytes or more, as §5.2.1.1 allows) and WebCrypto in Node too. Petrel
 * itself only uses 12-byte nonces; this exists so that aead.ts is a complete GCM (every
 * Wycheproof verdict right). Built from noble's own parts — the AES block cipher with GCM's
 * 32-bit counter (`unsafe.ctr32`) and GHASH — in the order of §7.1:
 *
 *   H  = E_K(0^128)
 *   J0 = GHASH_H(IV ‖ 0^(s+64) ‖ [len(IV)]_64)           (IV not 96 bits)
 *   C  = GCTR_K(inc32(J0), P)
 *   T  = E_K(J0) ⊕ GHASH_H(A ‖ 0^v ‖ C ‖ 0^u ‖ [len(A)]_64 ‖ [len(C)]_64)
 */
import { unsafe } from '@noble/ciphers/aes.js';
import { ghash } from '@noble/ciphers/_polyval.js';
import { AuthenticationFailedError } from './errors.ts';

const BLOCK = 16;

function lengthsBlock(firstBytes: number, secondBytes: number): Uint8Array {
  const out = new Uint8Array(BLOCK);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(firstBytes) * 8n, false);
  view.setBigUint64(8, BigInt(secondBytes) * 8n, false);
  return out;
}

/** H, the tag mask E_K(J0), and the counter block advanced to inc32(J0). */
function keys(key: Uint8Array, nonce: Uint8Array): { xk: Uint32Array; h: Uint8Array; tagMask: Uint8Array; counter: Uint8Array } {
  const xk = unsafe.expandKeyLE(key);
  const h = unsafe.ctr32(xk, false, new Uint8Array(BLOCK), new Uint8Array(BLOCK));
  // GHASH pads each update to a block: IV ‖ 0^s, then 0^64 ‖ [len(IV)]_64.
  const counter = ghash.create(h).update(nonce).update(lengthsBlock(0, nonce.length)).digest();
  const tagMask = unsafe.ctr32(xk, false, counter, new Uint8Array(BLOCK)); // leaves counter at inc32(J0)
  return { xk, h, tagMask, counter };
}

function tag(h: Uint8Array, tagMask: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const t = ghash.create(h).update(aad).update(ciphertext).update(lengthsBlock(aad.length, ciphertext.length)).digest();
  for (let i = 0; i < BLOCK; i++) t[i]! ^= tagMask[i]!;
  return t;
}

export function shortNonceGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const { xk, h, tagMask, counter } = keys(key, nonce);
  const out = new Uint8Array(plaintext.length + BLOCK);
  out.set(unsafe.ctr32(xk, false, counter, plaintext.slice()), 0);
  out.set(tag(h, tagMask, aad, out.subarray(0, plaintext.length)), plaintext.length);
  return out;
}

/** AuthenticationFailedError when the tag does not verify (checked before any plaintext exists). */
export function shortNonceGcmDecrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (sealed.length < BLOCK) throw new AuthenticationFailedError('ciphertext shorter than the GCM tag');
  const { xk, h, tagMask, counter } = keys(key, nonce);
  const ciphertext = sealed.subarray(0, sealed.length - BLOCK);
  const expected = tag(h, tagMask, aad, ciphertext);
  const given = sealed.subarray(sealed.length - BLOCK);
  let diff = 0;
  for (let i = 0; i < BLOCK; i++) diff |= expected[i]! ^ given[i]!;
  if (diff !== 0) throw new AuthenticationFailedError('AES-GCM authentication failed');
  return unsafe.ctr32(xk, false, counter, ciphertext.slice());
}
