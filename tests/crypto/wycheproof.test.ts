/**
 * Every Wycheproof file Petrel's primitives have (x25519, ed25519, aes_gcm, hkdf_sha256,
 * hmac_sha256, mlkem_768 incl. encaps, keygen and semi-expanded decaps) through Petrel's own
 * wrappers — the functions the protocol calls, not the libraries under them — asserting
 * Wycheproof's verdict for every `valid` and `invalid` case and this policy for `acceptable`
 * ones (x25519 is the only file that has any):
 *
 *   X25519, acceptable with the ZeroSharedSecret flag (low-order public keys): refused
 *     with InvalidKeyError (RFC 7748 §6.1's all-zero check; PROTOCOL.md §5.4).
 *   X25519, every other acceptable case (public keys on the twist, non-canonical u ≥ p):
 *     accepted, with Wycheproof's shared secret (RFC 7748 §5 defines them; §7 recommends
 *     accepting them).
 *
 * "Refused" always means a typed error (a CryptoError kind or RangeError for a length the
 * caller chose), never a library's plain Error. The vectors are read from
 * `../shared/wycheproof` beside the repository (never copied into it); where that folder
 * is absent the suite is skipped and says why. PETREL_WYCHEPROOF_DIR points elsewhere.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { aesGcmDecrypt, aesGcmEncrypt } from '../../src/core/crypto/aead.ts';
import { AuthenticationFailedError, InvalidKeyError, MalformedMessageError } from '../../src/core/crypto/errors.ts';
import { verifyEd25519StrictAsync } from '../../src/core/crypto/ed25519-verify.ts';
import { verifySignature } from '../../src/core/crypto/identity.ts';
import { hkdfSha256, hmacSha256 } from '../../src/core/crypto/kdf.ts';
import { mlKemDecapsulate, mlKemDecapsulateNoble, mlKemEncapsulate, mlKemEncapsulateRandom, mlKemKeyGen } from '../../src/core/crypto/ml-kem.ts';
import { MlKemKeyPair } from '../../src/core/crypto/prekeys.ts';
import { dhKeyPair, X25519Engine } from '../../src/core/crypto/x25519.ts';
import { secureRandom, seededRandom } from '../../src/core/random.ts';
import { verifyEd25519 as relayVerifyEd25519 } from '../../src/relay/crypto/ed25519-verify.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The main checkout of a git worktree (its `.git` is a file naming `<main>/.git/worktrees/<name>`), else undefined. */
function mainCheckout(root: string): string | undefined {
  const dotGit = join(root, '.git');
  if (!existsSync(dotGit) || statSync(dotGit).isDirectory()) return undefined;
  const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
  return m ? resolve(m[1]!.trim(), '../../..') : undefined;
}

function vectorDir(): string | undefined {
  const candidates = [process.env.PETREL_WYCHEPROOF_DIR, join(repoRoot, '../shared/wycheproof')];
  const main = mainCheckout(repoRoot);
  if (main) candidates.push(join(main, '../shared/wycheproof'));
  return candidates.find((d): d is string => !!d && existsSync(join(d, 'x25519_test.json')));
}

const DIR = vectorDir();
const SKIP_REASON = 'Wycheproof vectors not found: expected ../shared/wycheproof beside the repository (or PETREL_WYCHEPROOF_DIR)';

interface TestFile<T> {
  numberOfTests: number;
  testGroups: ({ tests: (T & { tcId: number; result: 'valid' | 'invalid' | 'acceptable'; flags?: string[] })[] } & Record<string, unknown>)[];
}
function load<T>(name: string): TestFile<T> {
  return JSON.parse(readFileSync(join(DIR!, name), 'utf8')) as TestFile<T>;
}
const h = fromHex;

/** Runs `check` for every case of the file and asserts that every case was run. */
async function eachCase<T>(name: string, check: (t: T & { tcId: number; result: string; flags?: string[] }, group: Record<string, unknown>) => Promise<void> | void): Promise<number> {
  const file = load<T>(name);
  let n = 0;
  for (const group of file.testGroups) {
    for (const t of group.tests) {
      try {
        await check(t, group);
      } catch (e) {
        throw new Error(`${name} tcId ${t.tcId} (${t.result}, ${(t.flags ?? []).join(',')}): ${(e as Error).message}`, { cause: e });
      }
      n++;
    }
  }
  expect(n).toBe(file.numberOfTests);
  return n;
}

async function refusal(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe.skipIf(!DIR)(DIR ? 'Wycheproof through Petrel’s wrappers' : `Wycheproof (skipped: ${SKIP_REASON})`, () => {
  it('x25519_test.json: valid agree; acceptable low-order keys refused, the other acceptable ones agree (both engines)', async () => {
    for (const engine of [new X25519Engine(seededRandom(1)), new X25519Engine(seededRandom(1), { backend: 'noble' })]) {
      await eachCase<{ public: string; private: string; shared: string }>('x25519_test.json', async (t) => {
        const ours = dhKeyPair(h(t.private));
        const refuse = t.result === 'acceptable' && t.flags!.includes('ZeroSharedSecret');
        if (refuse) expect(await refusal(() => engine.dh(ours, h(t.public)))).toBeInstanceOf(InvalidKeyError);
        else expect(toHex(await engine.dh(ours, h(t.public)))).toBe(t.shared);
      });
    }
  });

  it('ed25519_test.json: the core (JavaScript and native paths) and the relay give Wycheproof’s verdict on every case', async () => {
    await eachCase<{ msg: string; sig: string }>('ed25519_test.json', async (t, group) => {
      const pk = h((group.publicKey as { pk: string }).pk);
      const expected = t.result === 'valid';
      expect(verifySignature(pk, h(t.msg), h(t.sig))).toBe(expected);
      expect(await verifyEd25519StrictAsync(pk, h(t.msg), h(t.sig))).toBe(expected);
      expect(relayVerifyEd25519(pk, h(t.msg), h(t.sig))).toBe(expected);
    });
  });

  it('aes_gcm_test.json: noble (Node’s threshold) and WebCrypto (threshold 0) encrypt and decrypt valid cases, refuse invalid ones', async () => {
    for (const threshold of [2048, 0]) {
      await eachCase<{ key: string; iv: string; aad: string; msg: string; ct: string; tag: string }>('aes_gcm_test.json', async (t) => {
        const [key, iv, aad] = [h(t.key), h(t.iv), h(t.aad)];
        const sealed = h(t.ct + t.tag);
        if (t.result === 'valid') {
          expect(toHex(await aesGcmEncrypt(key, iv, h(t.msg), aad, threshold))).toBe(t.ct + t.tag);
          expect(toHex(await aesGcmDecrypt(key, iv, sealed, aad, threshold))).toBe(t.msg);
        } else {
          const err = await refusal(() => aesGcmDecrypt(key, iv, sealed, aad, threshold));
          if (iv.length === 0) expect(err).toBeInstanceOf(RangeError);
          else expect(err).toBeInstanceOf(AuthenticationFailedError);
        }
      });
    }
  });

  it('hkdf_sha256_test.json: every output, and a typed refusal of an over-long one', async () => {
    await eachCase<{ ikm: string; salt: string; info: string; size: number; okm: string }>('hkdf_sha256_test.json', async (t) => {
      if (t.result === 'valid') expect(toHex(hkdfSha256(h(t.ikm), h(t.salt), h(t.info), t.size))).toBe(t.okm);
      else expect(await refusal(() => hkdfSha256(h(t.ikm), h(t.salt), h(t.info), t.size))).toBeInstanceOf(RangeError);
    });
  });

  it('hmac_sha256_test.json: valid tags match (truncated to the group’s tag size), modified ones do not', async () => {
    await eachCase<{ key: string; msg: string; tag: string }>('hmac_sha256_test.json', (t, group) => {
      const tag = hmacSha256(h(t.key), h(t.msg)).subarray(0, (group.tagSize as number) / 8);
      expect(toHex(tag) === t.tag).toBe(t.result === 'valid');
    });
  });

  it('mlkem_768_test.json: key generation from the seed, decapsulation (implicit rejection included), typed refusals of bad lengths', async () => {
    await eachCase<{ seed: string; ek?: string; c: string; K: string }>('mlkem_768_test.json', async (t) => {
      const seed = h(t.seed);
      if (seed.length !== 64) {
        expect(t.result).toBe('invalid');
        expect(await refusal(() => MlKemKeyPair.fromSeed(seed))).toBeInstanceOf(InvalidKeyError);
        return;
      }
      const pair = MlKemKeyPair.fromSeed(seed);
      if (t.ek) expect(toHex(pair.publicKey)).toBe(t.ek);
      if (t.result === 'valid') expect(toHex(await pair.decapsulate(h(t.c)))).toBe(t.K);
      else expect(await refusal(() => pair.decapsulate(h(t.c)))).toBeInstanceOf(MalformedMessageError);
    });
  });

  it('mlkem_768_encaps_test.json: encapsulation, and the FIPS 203 §7.2 length and modulus checks', async () => {
    await eachCase<{ ek: string; m: string; c: string; K: string }>('mlkem_768_encaps_test.json', async (t) => {
      if (t.result === 'valid') {
        const out = mlKemEncapsulate(h(t.ek), h(t.m));
        expect(toHex(out.cipherText)).toBe(t.c);
        expect(toHex(out.sharedSecret)).toBe(t.K);
      } else {
        expect(await refusal(() => mlKemEncapsulate(h(t.ek), h(t.m)))).toBeInstanceOf(InvalidKeyError);
        // liboqs draws its own m, so only its refusals can be checked against these vectors.
        expect(await refusal(() => mlKemEncapsulateRandom(h(t.ek), secureRandom))).toBeInstanceOf(InvalidKeyError);
      }
    });
  });

  it('mlkem_768_keygen_seed_test.json: ek and dk from the 64-byte seed', async () => {
    await eachCase<{ seed: string; ek: string; dk: string }>('mlkem_768_keygen_seed_test.json', (t) => {
      const keys = mlKemKeyGen(h(t.seed));
      expect(toHex(keys.publicKey)).toBe(t.ek);
      expect(toHex(keys.secretKey)).toBe(t.dk);
    });
  });

  it('mlkem_768_semi_expanded_decaps_test.json: decapsulation with an expanded key, and the §7.3 input checks', async () => {
    await eachCase<{ dk: string; c: string; K?: string }>('mlkem_768_semi_expanded_decaps_test.json', async (t) => {
      // liboqs (WebAssembly) and noble, each against the vectors.
      if (t.result === 'valid') {
        expect(toHex(await mlKemDecapsulate(h(t.dk), h(t.c)))).toBe(t.K);
        expect(toHex(mlKemDecapsulateNoble(h(t.dk), h(t.c)))).toBe(t.K);
        return;
      }
      const expected = t.flags!.includes('IncorrectCiphertextLength') ? MalformedMessageError : InvalidKeyError;
      expect(await refusal(() => mlKemDecapsulate(h(t.dk), h(t.c)))).toBeInstanceOf(expected);
      expect(await refusal(() => mlKemDecapsulateNoble(h(t.dk), h(t.c)))).toBeInstanceOf(expected);
    });
  });
});
