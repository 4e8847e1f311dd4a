/**
 * How fast could a Petrel session setup be with the primitives it uses (issue 15)? Times,
 * in one process and one run (so machine load affects all of them alike):
 *   - libsignal-client's and Petrel's setup as the crypto benchmark runs them;
 *   - each primitive a setup calls, one at a time and awaited, fresh inputs each time;
 * then adds up count × cost per setup (the counts profile-setup.ts reports) into the floor:
 * a setup that did nothing but its cryptography, with no serialisation, no state hashing,
 * no promise hops and no garbage. Its ratio to libsignal-client is the best the current
 * primitives (WebCrypto X25519/Ed25519, @noble ML-KEM-768, @noble hashes and AES-GCM)
 * allow.
 *
 *   npx tsx bench/crypto/setup-floor.ts          (CPU time; FLOOR_CLOCK=wall for elapsed time)
 */
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { toBase64Url } from '../../src/core/bytes.ts';
import { identityX25519Public } from '../../src/core/crypto/identity.ts';
import { hkdfSha256, hmacSha256Pair } from '../../src/core/crypto/kdf.ts';
import { mlKemDecapsulate, mlKemEncapsulate, mlKemEncapsulateRandom, mlKemKeyGen } from '../../src/core/crypto/ml-kem.ts';
import { loadMlKemWasm } from '../../src/core/crypto/ml-kem-wasm.ts';
import { x25519PublicKey } from '../../src/core/crypto/x25519.ts';
import { secureRandom } from '../../src/core/random.ts';
import { libsignalClient } from './libsignal-client.ts';
import { petrel } from './petrel.ts';
import type { Subject } from './subject.ts';

const subtle = globalThis.crypto.subtle;
type Buf = Uint8Array<ArrayBuffer>;
const bytes = (n: number): Buf => secureRandom.bytes(n) as Buf;

/**
 * What the floor adds up: 'cpu' (default) is CPU time of all threads of this process per
 * operation, which a busy machine inflates much less than wall time (waiting for a core is
 * not counted); 'wall' is elapsed time. Set with FLOOR_CLOCK=wall.
 */
const clock = process.env.FLOOR_CLOCK === 'wall' ? 'wall' : 'cpu';
function timer(): () => number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    if (clock === 'wall') return performance.now() - t0;
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
}

async function setupMs(subject: Subject, n: number): Promise<number> {
  const pairs = [];
  for (let i = 0; i < n; i++) pairs.push(await subject.createPair());
  const elapsed = timer();
  for (const p of pairs) await p.setup();
  return elapsed() / n;
}

/** ms per operation: `make` builds the inputs of one operation (untimed), `op` runs it. */
async function perOp<T>(n: number, make: () => Promise<T> | T, op: (input: T) => unknown): Promise<number> {
  const inputs: T[] = [];
  for (let i = 0; i < n; i++) inputs.push(await make());
  const elapsed = timer();
  for (const input of inputs) await op(input);
  return elapsed() / n;
}

const x25519Jwk = (priv: Uint8Array) => ({ kty: 'OKP', crv: 'X25519', d: toBase64Url(priv), x: toBase64Url(x25519PublicKey(priv)) });

async function primitives(n: number): Promise<Array<{ name: string; count: number; ms: number; kind: string }>> {
  const kem = mlKemKeyGen(bytes(64));
  const ct = mlKemEncapsulate(kem.publicKey, bytes(32)).cipherText;
  await loadMlKemWasm(); // once per process, as in a running device: not part of a setup
  const edSeed = bytes(32);
  const edPub = ed25519.getPublicKey(edSeed);
  const msg = bytes(42);
  const sig = ed25519.sign(msg, edSeed) as Buf;
  const importPriv = (priv: Uint8Array) => subtle.importKey('jwk', x25519Jwk(priv), { name: 'X25519' }, false, ['deriveBits']);
  const importPub = (pub: Uint8Array) => subtle.importKey('raw', pub as Buf, { name: 'X25519' }, false, []);
  return [
    { name: 'X25519 DH (keys imported)', count: 11, kind: 'X25519', ms: await perOp(n, async () => [await importPriv(bytes(32)), await importPub(x25519PublicKey(bytes(32)))] as const, ([priv, pub]) => subtle.deriveBits({ name: 'X25519', public: pub }, priv, 256)) },
    { name: 'X25519 private key import (JWK)', count: 4, kind: 'X25519', ms: await perOp(n, () => x25519Jwk(bytes(32)), (jwk) => subtle.importKey('jwk', jwk, { name: 'X25519' }, false, ['deriveBits'])) },
    { name: 'X25519 public key import (raw)', count: 6, kind: 'X25519', ms: await perOp(n, () => x25519PublicKey(bytes(32)), importPub) },
    { name: 'X25519 native key generation + JWK export', count: 3, kind: 'X25519', ms: await perOp(n, () => undefined, async () => { const k = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair; await subtle.exportKey('jwk', k.privateKey); }) },
    { name: 'Ed25519 verify (native, key imported)', count: 2, kind: 'Ed25519', ms: await perOp(n, () => subtle.importKey('raw', edPub as Buf, { name: 'Ed25519' }, false, ['verify']), (key) => subtle.verify({ name: 'Ed25519' }, key, sig, msg)) },
    { name: 'Ed25519 public key import', count: 1, kind: 'Ed25519', ms: await perOp(n, () => undefined, () => subtle.importKey('raw', edPub as Buf, { name: 'Ed25519' }, false, ['verify'])) },
    { name: 'identity key strict decode + X25519 form', count: 2, kind: 'Ed25519', ms: await perOp(n, () => ed25519.getPublicKey(bytes(32)), identityX25519Public) },
    { name: 'ML-KEM-768 keygen from seed (pool load)', count: 1, kind: 'ML-KEM', ms: await perOp(Math.ceil(n / 4), () => bytes(64), mlKemKeyGen) },
    // A device's runtime encapsulates in liboqs (m drawn inside it); decapsulation is liboqs for every runtime.
    { name: 'ML-KEM-768 encapsulate (liboqs)', count: 1, kind: 'ML-KEM', ms: await perOp(Math.ceil(n / 4), () => kem.publicKey, (ek) => mlKemEncapsulateRandom(ek, secureRandom)) },
    { name: 'ML-KEM-768 decapsulate (liboqs)', count: 1, kind: 'ML-KEM', ms: await perOp(Math.ceil(n / 4), () => ct, (c) => mlKemDecapsulate(kem.secretKey, c)) },
    { name: 'HKDF-SHA-256 (SK, root steps, message keys)', count: 7, kind: 'hash/AEAD', ms: await perOp(n, () => bytes(32), (ikm) => hkdfSha256(ikm, ikm, msg, 64)) },
    { name: 'HMAC-SHA-256 chain step (pair)', count: 2, kind: 'hash/AEAD', ms: await perOp(n, () => bytes(32), (k) => hmacSha256Pair(k, 1, 2)) },
    { name: 'AES-256-GCM 16 B (noble)', count: 2, kind: 'hash/AEAD', ms: await perOp(n, () => bytes(32), (k) => gcm(k, bytes(12), bytes(104)).encrypt(bytes(16))) },
  ];
}

async function main(): Promise<void> {
  await setupMs(petrel, 10);
  await setupMs(libsignalClient, 10);
  await primitives(50);
  const libsignal = await setupMs(libsignalClient, 100);
  const ours = await setupMs(petrel, 100);
  const rows = await primitives(400);
  const libsignal2 = await setupMs(libsignalClient, 100);
  const lib = (libsignal + libsignal2) / 2;
  const floor = rows.reduce((a, r) => a + r.count * r.ms, 0);
  console.log(`clock: ${clock === 'cpu' ? 'CPU time, all threads' : 'wall time'}`);
  console.log(`libsignal-client setup ${lib.toFixed(3)} ms (${(1000 / lib).toFixed(0)}/s; ${libsignal.toFixed(3)} before, ${libsignal2.toFixed(3)} after the primitives)`);
  console.log(`petrel setup ${ours.toFixed(3)} ms (${(1000 / ours).toFixed(0)}/s) = ${(lib / ours).toFixed(2)}× libsignal-client`);
  console.log('| primitive | per setup | ms each | ms per setup |\n|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.count} | ${r.ms.toFixed(3)} | ${(r.count * r.ms).toFixed(3)} |`);
  const byKind = new Map<string, number>();
  for (const r of rows) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + r.count * r.ms);
  console.log(`floor ${floor.toFixed(3)} ms = at best ${(lib / floor).toFixed(2)}× libsignal-client; by kind: ${[...byKind].map(([k, v]) => `${k} ${v.toFixed(3)} ms`).join(', ')}`);
  const kemMs = byKind.get('ML-KEM') ?? 0;
  console.log(`without ML-KEM the floor is ${(floor - kemMs).toFixed(3)} ms (${(lib / (floor - kemMs)).toFixed(2)}×); ML-KEM is ${((100 * kemMs) / ours).toFixed(0)}% of the measured setup and ${((100 * kemMs) / floor).toFixed(0)}% of the floor`);
}

await main();
