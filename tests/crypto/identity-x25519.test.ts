import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityX25519Public, InvalidKeyError } from '../../src/core/crypto/index.ts';
import { isStrictEd25519PublicKey } from '../../src/core/crypto/ed25519-verify.ts';

describe('identityX25519Public', () => {
  it('gives the same X25519 key as the birational map of noble for every valid identity key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const pub = ed25519.getPublicKey(seed);
        expect(identityX25519Public(pub)).toEqual(ed25519.utils.toMontgomery(pub));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses exactly the keys the strict rule refuses, and maps the rest like noble', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        if (isStrictEd25519PublicKey(bytes)) expect(identityX25519Public(bytes)).toEqual(ed25519.utils.toMontgomery(bytes));
        else expect(() => identityX25519Public(bytes)).toThrow(InvalidKeyError);
      }),
      { numRuns: 500 },
    );
  });
});
