/**
 * X25519 (RFC 7748) through each backend called directly — WebCrypto (what Node and current
 * browsers use) and @noble/curves (the fallback for runtimes without WebCrypto X25519, which
 * Node never takes on its own) — and through `x25519Dh`, which picks one. Every backend gets
 * the §5.2 and §6.1 vectors, the §5.2 iterated vector (1 and 1,000 rounds), and refuses the
 * low-order points. Properties: the backends agree on random private keys with random
 * u-coordinates (points on the curve or its twist) and refuse the same inputs; a DH computed
 * with one backend on each side agrees.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromBase64Url, fromHex, toHex } from '../../src/core/bytes.ts';
import { InvalidKeyError } from '../../src/core/crypto/errors.ts';
import { dhKeyPair, generateDhKeyPair, nobleX25519Dh, webCryptoX25519Dh, X25519Engine, x25519Dh, x25519PublicKey } from '../../src/core/crypto/x25519.ts';
import { secureRandom, seededRandom } from '../../src/core/random.ts';

/** The public key computed by WebCrypto itself (PKCS#8 import, JWK export), independent of noble. */
async function webCryptoPublicKey(privateKey: Uint8Array): Promise<Uint8Array> {
  const pkcs8 = new Uint8Array([...fromHex('302e020100300506032b656e04220420'), ...privateKey]);
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'X25519' }, true, ['deriveBits']);
  const jwk = await crypto.subtle.exportKey('jwk', key);
  return fromBase64Url(jwk.x!);
}

afterEach(() => {
  vi.restoreAllMocks();
});

type Backend = {
  publicKey(privateKey: Uint8Array): Promise<Uint8Array>;
  dh(privateKey: Uint8Array, theirPublic: Uint8Array): Promise<Uint8Array>;
};

const BACKENDS: Record<string, Backend> = {
  noble: {
    publicKey: async (k) => x25519PublicKey(k),
    dh: async (k, u) => nobleX25519Dh(dhKeyPair(k.slice()), u),
  },
  webcrypto: {
    publicKey: webCryptoPublicKey,
    dh: async (k, u) => webCryptoX25519Dh(dhKeyPair(k.slice(), await webCryptoPublicKey(k)), u),
  },
  'x25519Dh (runtime choice)': {
    publicKey: async (k) => x25519PublicKey(k),
    dh: (k, u) => x25519Dh(dhKeyPair(k.slice()), u),
  },
};

// RFC 7748 §6.1
const ALICE_PRIVATE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_PRIVATE = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

// RFC 7748 §5.2: two scalar multiplications (unclamped scalars; the second u has its top bit set).
const SCALAR_MULT = [
  {
    scalar: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    out: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  },
  {
    scalar: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
    u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
    out: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
  },
];

// RFC 7748 §5.2 iterated: k = u = 9; repeat k, u = X25519(k, u), k.
const ITERATED: Record<number, string> = {
  1: '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079',
  1000: '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51',
};

/** u-coordinates whose X25519 output is all zero for every scalar: 0, 1, the two order-8 points, p−1, p, p+1, and 0 and 1 with the ignored top bit set. */
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '0100000000000000000000000000000000000000000000000000000000000080',
];

describe.each(Object.entries(BACKENDS))('X25519 through %s (RFC 7748)', (name, backend) => {
  it('§6.1: both public keys and the shared secret from both sides', async () => {
    expect(toHex(await backend.publicKey(fromHex(ALICE_PRIVATE)))).toBe(ALICE_PUBLIC);
    expect(toHex(await backend.publicKey(fromHex(BOB_PRIVATE)))).toBe(BOB_PUBLIC);
    expect(toHex(await backend.dh(fromHex(ALICE_PRIVATE), fromHex(BOB_PUBLIC)))).toBe(SHARED);
    expect(toHex(await backend.dh(fromHex(BOB_PRIVATE), fromHex(ALICE_PUBLIC)))).toBe(SHARED);
  });

  it.each(SCALAR_MULT)('§5.2 scalar multiplication $out', async ({ scalar, u, out }) => {
    expect(toHex(await backend.dh(fromHex(scalar), fromHex(u)))).toBe(out);
  });

  it('§5.2 iterated vector after 1 and 1,000 rounds', async () => {
    let k: Uint8Array = fromHex('09'.padEnd(64, '0'));
    let u: Uint8Array = k.slice();
    for (let i = 1; i <= 1000; i++) {
      const next = await backend.dh(k, u);
      u = k;
      k = next;
      if (ITERATED[i]) expect(toHex(k), `round ${i}`).toBe(ITERATED[i]);
    }
  }, 60_000);

  it('refuses every low-order point and wrong lengths', async () => {
    const k = fromHex(ALICE_PRIVATE);
    for (const p of LOW_ORDER) {
      const refused = backend.dh(k, fromHex(p));
      // WebCrypto may refuse the point itself (its own error) or return zeros (InvalidKeyError).
      if (name === 'webcrypto') await expect(refused, p).rejects.toThrow();
      else await expect(refused, p).rejects.toBeInstanceOf(InvalidKeyError);
    }
    await expect(backend.dh(k, new Uint8Array(31).fill(9))).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(backend.dh(k, new Uint8Array(33).fill(9))).rejects.toBeInstanceOf(InvalidKeyError);
  });
});

describe('X25519 backends agree', () => {
  it('on random private keys and random u-coordinates (curve or twist), or both refuse', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), async (k, u) => {
        const noble = await BACKENDS['noble']!.dh(k, u).then(toHex, () => 'refused');
        const web = await BACKENDS['webcrypto']!.dh(k, u).then(toHex, () => 'refused');
        expect(web).toBe(noble);
        compared++;
      }),
      { numRuns: 200 },
    );
    expect(compared).toBe(200);
  });

  it('a DH with noble on one side and WebCrypto on the other gives one secret', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), async (a, b) => {
        const viaNoble = await BACKENDS['noble']!.dh(a, await BACKENDS['webcrypto']!.publicKey(b));
        const viaWeb = await BACKENDS['webcrypto']!.dh(b, await BACKENDS['noble']!.publicKey(a));
        expect(toHex(viaWeb)).toBe(toHex(viaNoble));
      }),
      { numRuns: 100 },
    );
  });

  it('Node takes the WebCrypto path on its own', async () => {
    const engine = new X25519Engine(seededRandom(1));
    expect(engine.backend()).toBe('undecided');
    await engine.dh(dhKeyPair(fromHex(ALICE_PRIVATE)), fromHex(BOB_PUBLIC));
    expect(engine.backend()).toBe('webcrypto');
  });

  it('a damaged private key is never answered from the key cache (same public key, other private bytes)', async () => {
    const engine = new X25519Engine(seededRandom(1));
    const good = dhKeyPair(fromHex(ALICE_PRIVATE));
    const expected = await engine.dh(good, fromHex(BOB_PUBLIC));
    expect(toHex(expected)).toBe(SHARED);
    // As a stored key read back with one byte flipped: the public key stored beside it is unchanged.
    const damagedBytes = fromHex(ALICE_PRIVATE);
    damagedBytes[5]! ^= 0x40;
    const damaged = dhKeyPair(damagedBytes, good.publicKey);
    const out = await engine.dh(damaged, fromHex(BOB_PUBLIC));
    expect(toHex(out)).not.toBe(SHARED);
    expect(toHex(out)).toBe(toHex(nobleX25519Dh(damaged, fromHex(BOB_PUBLIC))));
    // And the good key still gives the right answer afterwards.
    expect(toHex(await engine.dh(good, fromHex(BOB_PUBLIC)))).toBe(SHARED);
  });

  it('DHs started together with the same keys share one import of each key, and give the same answer', async () => {
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const engine = new X25519Engine(seededRandom(1));
    const ours = dhKeyPair(fromHex(ALICE_PRIVATE));
    const outs = await Promise.all([engine.dh(ours, fromHex(BOB_PUBLIC)), engine.dh(ours, fromHex(BOB_PUBLIC)), engine.dh(ours, fromHex(BOB_PUBLIC))]);
    expect(outs.map(toHex)).toEqual([SHARED, SHARED, SHARED]);
    expect(importKey).toHaveBeenCalledTimes(2); // our private key once (JWK), their public key once (raw)
    expect(importKey.mock.calls.map((c) => c[0]).sort()).toEqual(['jwk', 'raw']);
  });

  it('a refused import is not kept: the next DH with that key imports again', async () => {
    const engine = new X25519Engine(seededRandom(1));
    await engine.dh(dhKeyPair(fromHex(ALICE_PRIVATE)), fromHex(BOB_PUBLIC)); // decide the WebCrypto backend first
    const importKey = vi.spyOn(crypto.subtle, 'importKey').mockRejectedValueOnce(new Error('refused once'));
    const other = dhKeyPair(new Uint8Array(32).fill(7));
    // The failed import falls back to noble for this DH (same answer) and is forgotten.
    expect(toHex(await engine.dh(other, fromHex(BOB_PUBLIC)))).toBe(toHex(nobleX25519Dh(other, fromHex(BOB_PUBLIC))));
    const callsAfterFailure = importKey.mock.calls.length;
    expect(toHex(await engine.dh(other, fromHex(BOB_PUBLIC)))).toBe(toHex(nobleX25519Dh(other, fromHex(BOB_PUBLIC))));
    expect(importKey.mock.calls.length).toBe(callsAfterFailure + 1); // our private key again; their public key came from the cache
    expect(engine.backend()).toBe('webcrypto');
  });

  it('engines share nothing: a noble-only engine never takes WebCrypto, whatever another one did', async () => {
    const webcrypto = new X25519Engine(seededRandom(1));
    const noble = new X25519Engine(seededRandom(1), { backend: 'noble' });
    await webcrypto.dh(dhKeyPair(fromHex(ALICE_PRIVATE)), fromHex(BOB_PUBLIC));
    expect(toHex(await noble.dh(dhKeyPair(fromHex(ALICE_PRIVATE)), fromHex(BOB_PUBLIC)))).toBe(SHARED);
    expect(noble.backend()).toBe('noble');
    expect(webcrypto.backend()).toBe('webcrypto');
  });
});

describe('X25519 key generation', () => {
  it('a native engine makes key pairs ahead only for demand it has seen (none for its first)', async () => {
    const generateKey = vi.spyOn(crypto.subtle, 'generateKey');
    const engine = new X25519Engine(secureRandom, { nativeKeyGeneration: true });
    // A refill starts its first generation within the call, so the counts right after each call are exact.
    await engine.generateKeyPair();
    expect(generateKey).toHaveBeenCalledTimes(1); // the pair handed out, none ahead
    await engine.generateKeyPair();
    expect(generateKey).toHaveBeenCalledTimes(3); // the second pair, and one made ahead
    const third = await engine.generateKeyPair();
    expect(toHex(x25519PublicKey(third.privateKey.expose()))).toBe(toHex(third.publicKey));
    // Three handed out: two kept ready (whether the third came ready-made or fresh, five in all).
    await vi.waitFor(() => expect(generateKey).toHaveBeenCalledTimes(5));
  });

  it('native (an engine with nativeKeyGeneration) and seeded key pairs are consistent and work together', async () => {
    const a = await new X25519Engine(secureRandom, { nativeKeyGeneration: true }).generateKeyPair();
    expect(toHex(x25519PublicKey(a.privateKey.expose()))).toBe(toHex(a.publicKey));
    const b = await generateDhKeyPair(seededRandom(8));
    expect(toHex(x25519PublicKey(b.privateKey.expose()))).toBe(toHex(b.publicKey));
    expect(toHex(await x25519Dh(a, b.publicKey))).toBe(toHex(await x25519Dh(b, a.publicKey)));
    expect(toHex(nobleX25519Dh(a, b.publicKey))).toBe(toHex(await webCryptoX25519Dh(b, a.publicKey)));
  });
});
