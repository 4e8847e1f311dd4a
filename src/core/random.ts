/**
 * Randomness as the core sees it: cryptographically secure bytes for keys and ids,
 * and a uniform float for jitter. Injected so tests can be deterministic.
 */
export interface Random {
  bytes(length: number): Uint8Array;
  /** Uniform in [0, 1). */
  float(): number;
}

export const secureRandom: Random = {
  bytes(length) {
    const out = new Uint8Array(length);
    // getRandomValues fills at most 65,536 bytes per call.
    for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
    return out;
  },
  float() {
    const b = new Uint32Array(2);
    crypto.getRandomValues(b);
    // 53 random bits -> [0, 1)
    return ((b[0]! >>> 5) * 67108864 + (b[1]! >>> 6)) / 9007199254740992;
  },
};

/** Deterministic PRNG (xorshift128+ seeded by splitmix64-ish mixing) for tests and seeded chaos runs. NOT for keys. */
export function seededRandom(seed: number): Random {
  let s0 = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
  let s1 = BigInt.asUintN(64, s0 ^ 0xbf58476d1ce4e5b9n);
  const next = (): bigint => {
    let x = s0;
    const y = s1;
    s0 = y;
    x = BigInt.asUintN(64, x ^ (x << 23n));
    s1 = BigInt.asUintN(64, x ^ y ^ (x >> 17n) ^ (y >> 26n));
    return BigInt.asUintN(64, s1 + y);
  };
  return {
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = Number(next() & 0xffn);
      return out;
    },
    float() {
      return Number(next() >> 11n) / 9007199254740992;
    },
  };
}
