/**
 * The relay's test-only blob throttle (PETREL_BLOB_TEST_THROTTLE_BYTES_PER_SEC, docs/OPERATIONS.md):
 * off by default; when set, an upload and a download of a blob take at least its size over
 * the rate (what lets an end-to-end test act in the middle of a transfer without sleeping).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAttachment } from '../../src/core/attachments/attachment-downloader.ts';
import { uploadAttachment } from '../../src/core/attachments/attachment-uploader.ts';
import type { BlobAccount } from '../../src/core/attachments/blob-http.ts';
import { systemClock } from '../../src/core/clock.ts';
import { fetchBlobHttp } from '../../src/platform/fetch-blob-http.ts';
import { loadConfig } from '../../src/relay/config.ts';
import { chunked, collect, fileBytes, runtime } from '../attachments/helpers.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';

const RATE = 1024 * 1024;
let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({ PETREL_LOG_LEVEL: 'silent', PETREL_BLOB_TEST_THROTTLE_BYTES_PER_SEC: String(RATE) });
});
afterAll(async () => {
  await relay.stop();
});

function account(): BlobAccount {
  const seed = new Uint8Array(randomBytes(32));
  return { identityKey: ed25519.getPublicKey(seed), sign: (m) => ed25519.sign(m, seed) };
}

describe('blob test throttle', () => {
  it('is off unless set', () => {
    expect(loadConfig({ PETREL_DATA_DIR: '/tmp' }).blobs.testThrottleBytesPerSec).toBe(0);
  });

  it('holds uploads and downloads to the rate', async () => {
    const file = fileBytes(400_000);
    const http = fetchBlobHttp(relay.http);
    const alice = account();
    const base = { http, runtime, clock: systemClock };
    let t = performance.now();
    const up = await uploadAttachment(chunked(file), { ...base, account: alice, size: file.length, chunkBytes: 256 * 1024 });
    const upMs = performance.now() - t;
    expect(upMs).toBeGreaterThanOrEqual(((up.blobBytes / RATE) * 1000) * 0.95);
    t = performance.now();
    expect(await collect(downloadAttachment(up, { ...base, account: alice }))).toEqual(file);
    expect(performance.now() - t).toBeGreaterThanOrEqual(((up.blobBytes / RATE) * 1000) * 0.95);
  });
});
