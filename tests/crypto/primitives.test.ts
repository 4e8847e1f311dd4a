/**
 * Published vectors for the primitives the crypto core wraps: RFC 8032 (Ed25519 identity
 * keys), RFC 5869 (HKDF), and the AES-GCM size switch (noble below, WebCrypto above the
 * threshold) giving identical bytes. X25519 through both backends: x25519.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { gcm } from '@noble/ciphers/aes.js';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { identityFromSeed, verifySignature } from '../../src/core/crypto/identity.ts';
import { hkdfSha256, hkdfSha256WithFixedSalt, hmacSha256, hmacSha256Pair } from '../../src/core/crypto/kdf.ts';
import { x25519PublicKey } from '../../src/core/crypto/x25519.ts';
import { AEAD_WEBCRYPTO_THRESHOLD_BYTES, aesGcmDecrypt, aesGcmEncrypt } from '../../src/core/crypto/aead.ts';
import { CryptoRuntime } from '../../src/core/crypto/crypto-runtime.ts';
import { AuthenticationFailedError } from '../../src/core/crypto/errors.ts';
import { seededRandom } from '../../src/core/random.ts';

describe('Ed25519 identity keys (RFC 8032 §7.1)', () => {
  const cases = [
    {
      seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      msg: '',
      sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      msg: '72',
      sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
  ];
  it.each(cases)('TEST vector with public key $pub', ({ seed, pub, msg, sig }) => {
    const id = identityFromSeed(fromHex(seed));
    expect(toHex(id.publicKey)).toBe(pub);
    expect(toHex(id.sign(fromHex(msg)))).toBe(sig);
    expect(verifySignature(id.publicKey, fromHex(msg), fromHex(sig))).toBe(true);
    const bad = fromHex(sig);
    bad[0]! ^= 1;
    expect(verifySignature(id.publicKey, fromHex(msg), bad)).toBe(false);
  });

  it('X25519 form: the mapped private key yields the mapped public key (birational map)', () => {
    const id = identityFromSeed(fromHex(cases[0]!.seed));
    expect(toHex(x25519PublicKey(id.dhPrivate().privateKey.expose()))).toBe(toHex(id.x25519PublicKey));
  });
});

describe('HKDF-SHA-256 (RFC 5869 Appendix A)', () => {
  it('test case 1', () => {
    const okm = hkdfSha256(new Uint8Array(22).fill(0x0b), fromHex('000102030405060708090a0b0c'), fromHex('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(toHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
  it('test case 3 (empty salt and info)', () => {
    const okm = hkdfSha256(new Uint8Array(22).fill(0x0b), new Uint8Array(0), new Uint8Array(0), 42);
    expect(toHex(okm)).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
  });
  it('the fixed-salt form gives the same bytes (test case 1 and random inputs)', () => {
    const tc1 = hkdfSha256WithFixedSalt(fromHex('000102030405060708090a0b0c'), fromHex('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(toHex(tc1(new Uint8Array(22).fill(0x0b)))).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
    const r = seededRandom(9);
    for (const len of [1, 32, 44, 64, 100]) {
      const salt = r.bytes(32);
      const info = r.bytes(len % 17);
      const ikm = r.bytes(32);
      expect(toHex(hkdfSha256WithFixedSalt(salt, info, len)(ikm))).toBe(toHex(hkdfSha256(ikm, salt, info, len)));
    }
  });

  it('the shared-pad HMAC pair equals two plain HMACs', () => {
    const key = seededRandom(3).bytes(32);
    const [a, b] = hmacSha256Pair(key, 1, 2);
    expect(toHex(a)).toBe(toHex(hmacSha256(key, Uint8Array.of(1))));
    expect(toHex(b)).toBe(toHex(hmacSha256(key, Uint8Array.of(2))));
  });
});

describe('AES-256-GCM size switch', () => {
  it.each([0, 1, 100, AEAD_WEBCRYPTO_THRESHOLD_BYTES, AEAD_WEBCRYPTO_THRESHOLD_BYTES + 1, 70_000])('%i bytes: same bytes as noble, round-trips, refuses tampering', async (n) => {
    const r = seededRandom(n + 1);
    const key = r.bytes(32);
    const nonce = r.bytes(12);
    const aad = r.bytes(104);
    const pt = r.bytes(n);
    const ct = await aesGcmEncrypt(key, nonce, pt, aad);
    expect(toHex(ct)).toBe(toHex(gcm(key, nonce, aad).encrypt(pt)));
    expect(toHex(await aesGcmDecrypt(key, nonce, ct, aad))).toBe(toHex(pt));
    const bad = ct.slice();
    bad[bad.length - 1]! ^= 0x80;
    await expect(aesGcmDecrypt(key, nonce, bad, aad)).rejects.toBeInstanceOf(AuthenticationFailedError);
  });

  it.each([1, 16, 150])('threshold 0 (the browser runtime): %i bytes through WebCrypto, same bytes as noble, refuses tampering', async (n) => {
    const rt = new CryptoRuntime(seededRandom(1), { aeadWebCryptoThresholdBytes: 0 });
    const r = seededRandom(n + 7);
    const [key, nonce, aad, pt] = [r.bytes(32), r.bytes(12), r.bytes(64), r.bytes(n)];
    const ct = await rt.aesGcmEncrypt(key, nonce, pt, aad);
    expect(toHex(ct)).toBe(toHex(gcm(key, nonce, aad).encrypt(pt)));
    expect(toHex(await rt.aesGcmDecrypt(key, nonce, ct, aad))).toBe(toHex(pt));
    expect(toHex(await aesGcmDecrypt(key, nonce, ct, aad, 0))).toBe(toHex(pt));
    const bad = ct.slice();
    bad[0]! ^= 0x01;
    await expect(rt.aesGcmDecrypt(key, nonce, bad, aad)).rejects.toBeInstanceOf(AuthenticationFailedError);
  });

  it("a runtime's threshold is its own: another runtime keeps the default", () => {
    const browser = new CryptoRuntime(seededRandom(1), { aeadWebCryptoThresholdBytes: 0 });
    const node = new CryptoRuntime(seededRandom(1));
    expect(browser.aeadWebCryptoThresholdBytes).toBe(0);
    expect(node.aeadWebCryptoThresholdBytes).toBe(2048);
  });

  it('refuses a negative or fractional threshold, and an empty nonce', async () => {
    expect(() => new CryptoRuntime(seededRandom(1), { aeadWebCryptoThresholdBytes: -1 })).toThrow(RangeError);
    expect(() => new CryptoRuntime(seededRandom(1), { aeadWebCryptoThresholdBytes: 1.5 })).toThrow(RangeError);
    await expect(aesGcmEncrypt(new Uint8Array(32), new Uint8Array(0), new Uint8Array(1), new Uint8Array(0))).rejects.toBeInstanceOf(RangeError);
    await expect(aesGcmDecrypt(new Uint8Array(32), new Uint8Array(0), new Uint8Array(17), new Uint8Array(0))).rejects.toBeInstanceOf(RangeError);
  });
});
