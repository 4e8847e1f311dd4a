/**
 * Attachments benchmark (issue 19), on loopback with the relay in its own process:
 *
 *   throughput  a 100 MiB file encrypted, uploaded in 4 MiB chunks, downloaded and
 *               decrypted (src/core/attachments over the fetch adapter), against the same
 *               bytes uploaded and downloaded unencrypted through the same relay, same run,
 *               same chunking and signing. Goal: ≥ 0.5× the plain throughput.
 *   memory      peak JS heap (V8 heapUsed) and heap + array buffers above the idle heap
 *               while the encrypted file is sent and received, sampled every 5 ms.
 *               Goal: ≤ 32 MiB above idle.
 *
 * Standalone (prints the result, writes nothing): `npx tsx bench/attachments.bench.ts [--quick]`.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { downloadAttachment } from '../src/core/attachments/attachment-downloader.ts';
import { uploadAttachment } from '../src/core/attachments/attachment-uploader.ts';
import { sendSigned, type BlobAccount, type BlobHttp } from '../src/core/attachments/blob-http.ts';
import { systemClock } from '../src/core/clock.ts';
import { CryptoRuntime } from '../src/core/crypto/crypto-runtime.ts';
import { secureRandom } from '../src/core/random.ts';
import { fetchBlobHttp } from '../src/platform/fetch-blob-http.ts';
import { tempDataDir } from '../tests/relay/helpers/relay-harness.ts';
import { spawnRelay } from '../tests/relay/helpers/relay-process.ts';
import { row } from './stats.ts';
import type { BenchResult, Benchmark } from './types.ts';

const MIB = 1024 * 1024;
const CHUNK = 4 * MIB;

/** V8's gc(), exposed on demand (so idle heap is measured after a collection). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function account(): BlobAccount {
  const seed = new Uint8Array(randomBytes(32));
  return { identityKey: ed25519.getPublicKey(seed), sign: (m) => ed25519.sign(m, seed) };
}

/** `size` bytes as 1 MiB pieces of one random block (nothing is held but the block). */
function* fileSource(size: number, block: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < size; at += block.length) yield at + block.length <= size ? block : block.subarray(0, size - at);
}

/** Samples heap use every 5 ms until stopped; returns the peaks. */
function heapSampler(): () => { heap: number; heapAndBuffers: number } {
  let heap = 0;
  let heapAndBuffers = 0;
  const sample = () => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    heapAndBuffers = Math.max(heapAndBuffers, m.heapUsed + m.arrayBuffers);
  };
  const timer = setInterval(sample, 5);
  return () => {
    clearInterval(timer);
    sample();
    return { heap, heapAndBuffers };
  };
}

async function plainRoundTrip(http: BlobHttp, size: number, block: Uint8Array): Promise<number> {
  const acct = account();
  const created = await sendSigned(http, acct, systemClock, { method: 'POST', path: '/blobs', headers: { 'Upload-Length': String(size) } });
  await created.discard();
  const path = created.header('location')!;
  const chunk = new Uint8Array(CHUNK);
  for (let o = 0; o < CHUNK; o += block.length) chunk.set(block.subarray(0, Math.min(block.length, CHUNK - o)), o);
  for (let at = 0; at < size; at += CHUNK) {
    const res = await sendSigned(http, acct, systemClock, { method: 'PATCH', path, headers: { 'Upload-Offset': String(at) }, body: chunk.subarray(0, Math.min(CHUNK, size - at)) });
    await res.discard();
    if (res.status !== 204) throw new Error(`plain PATCH: ${res.status}`);
  }
  const res = await sendSigned(http, account(), systemClock, { method: 'GET', path, headers: {} });
  let n = 0;
  for await (const piece of res.body) n += piece.length;
  if (n !== size) throw new Error(`plain download: ${n} of ${size}`);
  return n;
}

async function encryptedRoundTrip(http: BlobHttp, size: number, block: Uint8Array, runtime: CryptoRuntime): Promise<number> {
  const up = await uploadAttachment(fileSource(size, block), { http, account: account(), runtime, clock: systemClock, size, chunkBytes: CHUNK });
  let n = 0;
  for await (const piece of downloadAttachment(up, { http, account: account(), runtime, clock: systemClock })) n += piece.length;
  if (n !== size) throw new Error(`encrypted download: ${n} of ${size}`);
  return up.blobBytes;
}

async function run(opts: { quick: boolean }): Promise<BenchResult> {
  const size = opts.quick ? 4 * MIB : 100 * MIB;
  const dataDir = tempDataDir();
  const relay = await spawnRelay(dataDir, { PETREL_BLOB_CHUNK_MAX_BYTES: String(CHUNK), PETREL_BLOB_ACCOUNT_QUOTA_BYTES: String(1024 * MIB), PETREL_LOG_LEVEL: 'info' });
  try {
    const http = fetchBlobHttp(`http://127.0.0.1:${relay.port}`);
    const runtime = new CryptoRuntime(secureRandom);
    const block = new Uint8Array(randomBytes(MIB));
    // Warm-up: connections, JIT, key imports.
    await plainRoundTrip(http, MIB, block);
    await encryptedRoundTrip(http, MIB, block, runtime);

    // Rounds alternate plain and encrypted, so a busy machine weighs on both alike; medians reported.
    const rounds = opts.quick ? 1 : 3;
    const plainSamples: number[] = [];
    const encSamples: number[] = [];
    const heapSamples: number[] = [];
    const allSamples: number[] = [];
    let blobBytes = 0;
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      const plainBytes = await plainRoundTrip(http, size, block);
      plainSamples.push((2 * plainBytes) / MIB / ((performance.now() - t) / 1000));

      collectGarbage();
      const idle = process.memoryUsage();
      const stop = heapSampler();
      t = performance.now();
      blobBytes = await encryptedRoundTrip(http, size, block, runtime);
      encSamples.push((2 * size) / MIB / ((performance.now() - t) / 1000));
      const peak = stop();
      heapSamples.push((peak.heap - idle.heapUsed) / MIB);
      allSamples.push((peak.heapAndBuffers - idle.heapUsed - idle.arrayBuffers) / MIB);
    }
    const plainRow = row('plain upload + download', `${size / MIB} MiB file`, 'MiB/s', plainSamples);
    const encRow = row('encrypt + upload + download + decrypt', `${size / MIB} MiB file`, 'MiB/s', encSamples);
    const ratio = encRow.median / plainRow.median;
    const heapAbove = Math.max(...heapSamples);
    return {
      name: 'attachments',
      title: 'Attachments: 100 MiB encrypted through the relay vs plain',
      rows: [
        plainRow,
        encRow,
        row('encrypted round trip', 'peak JS heap above idle', 'MiB', heapSamples),
        row('encrypted round trip', 'peak heap + array buffers above idle', 'MiB', allSamples),
      ],
      goals: [
        { description: 'encrypted attachment round trip ≥ 0.5× plain upload + download through the same relay', met: ratio >= 0.5, measured: `${ratio.toFixed(2)}×` },
        { description: 'peak JS heap during a 100 MiB send and receive ≤ 32 MiB above idle', met: heapAbove <= 32, measured: `${heapAbove.toFixed(1)} MiB` },
      ],
      notes: [
        `Throughput counts file bytes up and down (2 × ${size / MIB} MiB) over the wall time of each round trip (${rounds} rounds, plain and encrypted alternating; ratio of medians); the encrypted blob is ${(blobBytes / MIB).toFixed(1)} MiB (padding).`,
        `Chunks of ${CHUNK / MIB} MiB, each fdatasynced by the relay (SQLite mode, files under the data dir) before it answers.`,
        'Heap is sampled every 5 ms (V8 heapUsed, garbage included, so an upper bound; the goal uses the worst round); array buffers are the chunk and record bytes held outside the JS heap, most of them garbage not yet collected.',
      ],
    };
  } finally {
    relay.child.kill('SIGTERM');
    await relay.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const benchmark: Benchmark = { name: 'attachments', title: 'Attachments: 100 MiB encrypted through the relay vs plain', run };
export default benchmark;

if (import.meta.url === `file://${process.argv[1]}`) {
  void run({ quick: process.argv.includes('--quick') }).then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'));
}
