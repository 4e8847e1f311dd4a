/**
 * Per-primitive cost, @noble against WebCrypto, at the input sizes the ratchet uses: the
 * measurements behind the backend choices in src/core/crypto (kdf.ts, aead.ts, x25519.ts),
 * reported in docs/BENCHMARKS.md with the rest of the crypto benchmark.
 *
 * µs per operation, one operation at a time and each awaited, as the ratchet runs them.
 * Keys are fresh for every operation (every chain and message key is new, so WebCrypto pays
 * its key import each time) except in rows whose subject says the key was imported once.
 * The noble rows call the same functions the crypto core calls; inputs are made untimed.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { toBase64Url } from '../../src/core/bytes.ts';
import { hkdfSha256, hmacSha256 } from '../../src/core/crypto/kdf.ts';
import { MESSAGE_KEYS_INFO_BYTES } from '../../src/core/crypto/limits.ts';
import { dhKeyPair, nobleX25519Dh, x25519PublicKey } from '../../src/core/crypto/x25519.ts';
import { secureRandom } from '../../src/core/random.ts';
import { row } from '../stats.ts';
import type { BenchRow } from '../types.ts';

export const NOBLE = '@noble';
export const WEBCRYPTO = 'WebCrypto';
export const WEBCRYPTO_IMPORTED = 'WebCrypto, key imported once';
const UNIT = 'µs/op';

const subtle = globalThis.crypto.subtle;
type Buf = Uint8Array<ArrayBuffer>;
const bytes = (n: number): Buf => secureRandom.bytes(n) as Buf;
const many = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);

/** AD (64) ‖ header (40): what every ratchet message authenticates. */
const AAD_BYTES = 104;

interface Case {
  readonly metric: string;
  readonly subject: string;
  /** Noble X25519 is ~100× slower per op than the hashes: fewer ops per round. */
  readonly heavy?: boolean;
  /** Makes inputs for n operations (untimed) and returns the timed loop. */
  prepare(n: number): Promise<() => Promise<void>>;
}

async function x25519Pairs(n: number): Promise<Array<{ priv: Buf; pub: Uint8Array; peer: Uint8Array }>> {
  return many(n, () => {
    const priv = bytes(32);
    return { priv, pub: x25519PublicKey(priv), peer: x25519PublicKey(bytes(32)) };
  });
}

const CASES: readonly Case[] = [
  {
    metric: 'X25519 DH',
    subject: NOBLE,
    heavy: true,
    async prepare(n) {
      const inputs = await x25519Pairs(n);
      return async () => {
        for (const k of inputs) nobleX25519Dh(dhKeyPair(k.priv, k.pub), k.peer);
      };
    },
  },
  {
    metric: 'X25519 DH',
    subject: WEBCRYPTO,
    async prepare(n) {
      const inputs = await x25519Pairs(n);
      return async () => {
        for (const k of inputs) {
          const jwk = { kty: 'OKP', crv: 'X25519', d: toBase64Url(k.priv), x: toBase64Url(k.pub) };
          const priv = await subtle.importKey('jwk', jwk, { name: 'X25519' }, false, ['deriveBits']);
          const pub = await subtle.importKey('raw', k.peer as Buf, { name: 'X25519' }, false, []);
          await subtle.deriveBits({ name: 'X25519', public: pub }, priv, 256);
        }
      };
    },
  },
  {
    metric: 'X25519 DH',
    subject: WEBCRYPTO_IMPORTED,
    async prepare(n) {
      const [k] = await x25519Pairs(1);
      const priv = await subtle.importKey('jwk', { kty: 'OKP', crv: 'X25519', d: toBase64Url(k!.priv), x: toBase64Url(k!.pub) }, { name: 'X25519' }, false, ['deriveBits']);
      const pub = await subtle.importKey('raw', k!.peer as Buf, { name: 'X25519' }, false, []);
      return async () => {
        for (let i = 0; i < n; i++) await subtle.deriveBits({ name: 'X25519', public: pub }, priv, 256);
      };
    },
  },
  {
    metric: 'X25519 key generation',
    subject: NOBLE,
    heavy: true,
    async prepare(n) {
      const privs = many(n, () => bytes(32));
      return async () => {
        for (const p of privs) x25519PublicKey(p);
      };
    },
  },
  {
    metric: 'X25519 key generation',
    subject: WEBCRYPTO,
    async prepare(n) {
      return async () => {
        for (let i = 0; i < n; i++) {
          const pair = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
          await subtle.exportKey('jwk', pair.privateKey);
        }
      };
    },
  },
  ...[100, 16 * 1024].flatMap((size): Case[] => [
    {
      metric: `AES-256-GCM encrypt ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}`,
      subject: NOBLE,
      heavy: size > 1024,
      async prepare(n) {
        const inputs = many(n, () => ({ key: bytes(32), nonce: bytes(12), aad: bytes(AAD_BYTES), pt: bytes(size) }));
        return async () => {
          for (const x of inputs) gcm(x.key, x.nonce, x.aad).encrypt(x.pt);
        };
      },
    },
    {
      metric: `AES-256-GCM encrypt ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}`,
      subject: WEBCRYPTO,
      async prepare(n) {
        const inputs = many(n, () => ({ key: bytes(32), nonce: bytes(12), aad: bytes(AAD_BYTES), pt: bytes(size) }));
        return async () => {
          for (const x of inputs) {
            const k = await subtle.importKey('raw', x.key, 'AES-GCM', false, ['encrypt']);
            await subtle.encrypt({ name: 'AES-GCM', iv: x.nonce, additionalData: x.aad }, k, x.pt);
          }
        };
      },
    },
  ]),
  {
    metric: 'HMAC-SHA-256, 1-byte input',
    subject: NOBLE,
    async prepare(n) {
      const keys = many(n, () => bytes(32));
      const one = Uint8Array.of(1);
      return async () => {
        for (const k of keys) hmacSha256(k, one);
      };
    },
  },
  {
    metric: 'HMAC-SHA-256, 1-byte input',
    subject: WEBCRYPTO,
    async prepare(n) {
      const keys = many(n, () => bytes(32));
      const one = Uint8Array.of(1);
      return async () => {
        for (const k of keys) await subtle.sign('HMAC', await subtle.importKey('raw', k, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), one);
      };
    },
  },
  {
    metric: 'HMAC-SHA-256, 1-byte input',
    subject: WEBCRYPTO_IMPORTED,
    async prepare(n) {
      const key = await subtle.importKey('raw', bytes(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const one = Uint8Array.of(1);
      return async () => {
        for (let i = 0; i < n; i++) await subtle.sign('HMAC', key, one);
      };
    },
  },
  {
    metric: 'HKDF-SHA-256, 44-byte output',
    subject: NOBLE,
    async prepare(n) {
      const ikms = many(n, () => bytes(32));
      const salt = new Uint8Array(32);
      return async () => {
        for (const ikm of ikms) hkdfSha256(ikm, salt, MESSAGE_KEYS_INFO_BYTES, 44);
      };
    },
  },
  {
    metric: 'HKDF-SHA-256, 44-byte output',
    subject: WEBCRYPTO,
    async prepare(n) {
      const ikms = many(n, () => bytes(32));
      const params = { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: MESSAGE_KEYS_INFO_BYTES as Buf };
      return async () => {
        for (const ikm of ikms) await subtle.deriveBits(params, await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']), 44 * 8);
      };
    },
  },
];

export interface PrimitiveSizes {
  /** Operations per round (heavy cases: a tenth). */
  readonly ops: number;
  readonly rounds: number;
  readonly warmup: number;
}
export const PRIMITIVES_FULL: PrimitiveSizes = { ops: 2000, rounds: 5, warmup: 1 };
export const PRIMITIVES_QUICK: PrimitiveSizes = { ops: 10, rounds: 1, warmup: 0 };

/** One row per (primitive, backend): µs per operation, one sample per round. */
export async function measurePrimitives(sizes: PrimitiveSizes): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of CASES) {
    const n = c.heavy ? Math.max(1, Math.round(sizes.ops / 10)) : sizes.ops;
    const samples: number[] = [];
    for (let r = 0; r < sizes.warmup + sizes.rounds; r++) {
      const loop = await c.prepare(n);
      const t0 = performance.now();
      await loop();
      const us = ((performance.now() - t0) * 1000) / n;
      if (r >= sizes.warmup) samples.push(us);
    }
    rows.push(row(c.subject, c.metric, UNIT, samples));
  }
  return rows;
}
