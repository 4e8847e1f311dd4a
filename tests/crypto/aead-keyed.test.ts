/** aesGcmKeyed (one key, many messages; used for attachment records) agrees with the one-shot AES-GCM. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toHex } from '../../src/core/bytes.ts';
import { aesGcmDecrypt, aesGcmEncrypt, aesGcmKeyed } from '../../src/core/crypto/aead.ts';
import { AuthenticationFailedError } from '../../src/core/crypto/errors.ts';

describe('aesGcmKeyed', () => {
  it('seals exactly as the one-shot function and opens what it sealed, on both sides of the WebCrypto threshold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 5000 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom(0, 2048, 1_000_000),
        async (key, nonce, plaintext, aad, threshold) => {
          const keyed = aesGcmKeyed(key, threshold);
          const sealed = await keyed.encrypt(nonce, plaintext, aad);
          expect(toHex(sealed)).toBe(toHex(await aesGcmEncrypt(key, nonce, plaintext, aad, threshold)));
          expect(toHex(await keyed.decrypt(nonce, sealed, aad))).toBe(toHex(plaintext));
          expect(toHex(await aesGcmDecrypt(key, nonce, sealed, aad))).toBe(toHex(plaintext));
          sealed[sealed.length - 1]! ^= 1;
          await expect(keyed.decrypt(nonce, sealed, aad)).rejects.toBeInstanceOf(AuthenticationFailedError);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is not affected by the caller changing its key buffer afterwards', async () => {
    const key = new Uint8Array(32).fill(7);
    const keyed = aesGcmKeyed(key, 0);
    const nonce = new Uint8Array(12);
    const first = await keyed.encrypt(nonce, new Uint8Array(100), new Uint8Array(0));
    key.fill(8);
    expect(toHex(await keyed.encrypt(nonce, new Uint8Array(100), new Uint8Array(0)))).toBe(toHex(first));
  });
});
