/**
 * Runs in Chromium (bundled by bench/backup.bench.ts): Argon2id at the backup's parameters
 * (docs/PROTOCOL.md §16.2) with each candidate library, one derivation per call, ms.
 */
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { argon2id } from 'hash-wasm';

export interface Params {
  readonly memoryKiB: number;
  readonly passes: number;
}

const password = new TextEncoder().encode('correct horse battery staple');
const salt = new Uint8Array(16).fill(7);

export async function hashWasm(p: Params): Promise<{ ms: number; hex: string }> {
  const t0 = performance.now();
  const out = await argon2id({ password, salt, parallelism: 1, iterations: p.passes, memorySize: p.memoryKiB, hashLength: 32, outputType: 'binary' });
  return { ms: performance.now() - t0, hex: hex(out) };
}

export async function noble(p: Params): Promise<{ ms: number; hex: string }> {
  const t0 = performance.now();
  const out = await argon2idAsync(password, salt, { t: p.passes, m: p.memoryKiB, p: 1, dkLen: 32 });
  return { ms: performance.now() - t0, hex: hex(out) };
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
