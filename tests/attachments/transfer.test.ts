/**
 * The core's attachment uploader and downloader (src/core/attachments/) against a real
 * relay over the fetch adapter: round trip, lost answers and dropped connections resumed
 * with at most the in-flight chunk re-sent, an upload resumed after the app restarted, and
 * a blob altered on the relay's disk refused by the recipient.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeAttachment, downloadAttachment } from '../../src/core/attachments/attachment-downloader.ts';
import { uploadAttachment } from '../../src/core/attachments/attachment-uploader.ts';
import type { BlobAccount, BlobHttp } from '../../src/core/attachments/blob-http.ts';
import type { OpenCheckpoint } from '../../src/core/attachments/attachment-decryptor.ts';
import { AttachmentDigestMismatchError, AttachmentError } from '../../src/core/attachments/errors.ts';
import { systemClock } from '../../src/core/clock.ts';
import { fetchBlobHttp } from '../../src/platform/fetch-blob-http.ts';
import { attachmentBlobLength } from '../../src/core/wire/attachment-layout.ts';
import { startTestRelay, type TestRelay } from '../relay/helpers/relay-harness.ts';
import { chunked, collect, fileBytes, runtime } from './helpers.ts';

let relay: TestRelay;
let http: BlobHttp;
beforeAll(async () => {
  relay = await startTestRelay({ PETREL_BLOB_CHUNK_MAX_BYTES: String(256 * 1024) });
  http = fetchBlobHttp(relay.http);
});
afterAll(async () => {
  await relay.stop();
});

function account(): BlobAccount {
  const seed = new Uint8Array(randomBytes(32));
  return { identityKey: ed25519.getPublicKey(seed), sign: (m) => ed25519.sign(m, seed) };
}

const CHUNK = 256 * 1024;
const base = { runtime, clock: systemClock, chunkBytes: CHUNK };

describe('upload and download through the relay', () => {
  it('round-trips a file, and the relay deletes the blob once the recipient acknowledged it', async () => {
    const file = fileBytes(1024 * 1024 + 3);
    const alice = account();
    const bob = account();
    const progress: number[] = [];
    const up = await uploadAttachment(chunked(file, [100_000]), { ...base, http, account: alice, size: file.length, onProgress: (s) => progress.push(s) });
    const chunks = Math.ceil(attachmentBlobLength(file.length) / CHUNK);
    expect(up.chunksSent).toBe(chunks);
    expect(progress.at(-1)).toBe(up.blobBytes);
    const got = await collect(downloadAttachment(up, { ...base, http, account: bob }));
    expect(Buffer.from(got).equals(Buffer.from(file))).toBe(true);
    await acknowledgeAttachment(up.blobId, { http, account: bob, clock: systemClock });
    await expect(collect(downloadAttachment(up, { ...base, http, account: bob }))).rejects.toMatchObject({ kind: 'refused', status: 404 });
  });

  it('lost answers and failed connections cost at most the chunk in flight, each', async () => {
    const file = fileBytes(900_000);
    let patches = 0;
    let failures = 0;
    const flaky: BlobHttp = {
      async send(req) {
        if (req.method === 'PATCH' && ++patches % 3 === 0) {
          failures++;
          if (patches % 2 === 0) throw new TypeError('fetch failed'); // never reached the relay
          const res = await http.send(req); // reached the relay, the answer is lost
          await res.discard();
          throw new TypeError('fetch failed');
        }
        return http.send(req);
      },
    };
    const up = await uploadAttachment(chunked(file), { ...base, http: flaky, account: account(), size: file.length });
    const chunks = Math.ceil(up.blobBytes / CHUNK);
    expect(failures).toBeGreaterThan(0);
    expect(up.chunksSent).toBeLessThanOrEqual(chunks + failures);

    // A download whose connection drops after 100 kB each time continues with a Range request.
    let fetched = 0;
    const cutting: BlobHttp = {
      async send(req) {
        const res = await http.send(req);
        if (req.method !== 'GET') return res;
        return {
          ...res,
          body: (async function* () {
            let n = 0;
            for await (const piece of res.body) {
              fetched += piece.length;
              n += piece.length;
              yield piece;
              if (n >= 100_000) throw new TypeError('network error');
            }
          })(),
        };
      },
    };
    const got = await collect(downloadAttachment(up, { ...base, http: cutting, account: account() }));
    expect(Buffer.from(got).equals(Buffer.from(file))).toBe(true);
    expect(fetched).toBeLessThan(up.blobBytes + 2 * 65_536); // what a cut body had in flight, not the whole blob again
  });

  it('an upload cancelled by an app restart resumes under the same key and sends only what the relay lacks', async () => {
    const file = fileBytes(1_500_000);
    const alice = account();
    let saved: { blobId: Uint8Array; key: Uint8Array } | undefined;
    let sent = 0;
    await expect(
      uploadAttachment(chunked(file), { ...base, http, account: alice, size: file.length, onCreated: (r) => {
          saved = r;
        }, cancelled: () => sent++ >= 3 }),
    ).rejects.toThrow('cancelled');
    expect(saved).toBeDefined();
    const up = await uploadAttachment(chunked(file), { ...base, http, account: alice, size: file.length, resume: saved! });
    const chunks = Math.ceil(up.blobBytes / CHUNK);
    expect(up.chunksSent).toBe(chunks - 3);
    const got = await collect(downloadAttachment(up, { ...base, http, account: account() }));
    expect(Buffer.from(got).equals(Buffer.from(file))).toBe(true);
  });

  it('a download interrupted by an app restart resumes from its checkpoint, re-fetching at most a digest segment', async () => {
    const file = fileBytes(3 * 1024 * 1024 + 777);
    const up = await uploadAttachment(chunked(file), { ...base, http, account: account(), size: file.length });
    let fetched = 0;
    const counting: BlobHttp = {
      async send(req) {
        const res = await http.send(req);
        if (req.method !== 'GET') return res;
        return {
          ...res,
          body: (async function* () {
            for await (const piece of res.body) {
              fetched += piece.length;
              yield piece;
            }
          })(),
        };
      },
    };
    const kept: Uint8Array[] = [];
    let checkpoint: OpenCheckpoint | undefined;
    for await (const record of downloadAttachment(up, { ...base, http: counting, account: account(), onCheckpoint: (c) => (checkpoint = c) })) {
      kept.push(record);
      if (kept.length === 40) break; // the app goes away after 2.5 MiB; record 40 was taken but no checkpoint written for it
    }
    expect(checkpoint).toMatchObject({ records: 39 });
    expect(checkpoint!.segmentDigests).toHaveLength(2);
    const firstRun = fetched;
    fetched = 0;
    const rest: Uint8Array[] = kept.slice(0, checkpoint!.records);
    for await (const record of downloadAttachment(up, { ...base, http: counting, account: account(), resumeFrom: checkpoint! })) rest.push(record);
    expect(Buffer.concat(rest.map((r) => Buffer.from(r))).equals(Buffer.from(file))).toBe(true);
    expect(fetched).toBe(up.blobBytes - 2 * 1024 * 1024);
    expect(firstRun).toBeGreaterThan(0);

    // A checkpoint with a wrong segment digest does not let a different blob through.
    const forged = { ...checkpoint!, segmentDigests: [checkpoint!.segmentDigests[0]!, new Uint8Array(32)] };
    await expect(collect(downloadAttachment(up, { ...base, http, account: account(), resumeFrom: forged }))).rejects.toBeInstanceOf(AttachmentDigestMismatchError);
  });

  it('retries a 429 from the relay, and gives up on a relay that keeps sending empty bodies instead of looping', async () => {
    const immediate = { now: () => Date.now(), setTimeout: (fn: () => void) => (setImmediate(fn), () => {}) };
    const file = fileBytes(300_000);
    let limitedOnce = false;
    const limiting: BlobHttp = {
      async send(req) {
        if (req.method === 'PATCH' && !limitedOnce) {
          limitedOnce = true;
          return { status: 429, header: () => '1', body: (async function* () {})(), discard: async () => {} };
        }
        return http.send(req);
      },
    };
    const up = await uploadAttachment(chunked(file), { ...base, clock: immediate, http: limiting, account: account(), size: file.length });
    expect(limitedOnce).toBe(true);
    const empty: BlobHttp = {
      async send(req) {
        const res = await http.send(req);
        if (req.method !== 'GET') return res;
        await res.discard();
        return { status: 200, header: () => undefined, body: (async function* () {})(), discard: async () => {} };
      },
    };
    await expect(collect(downloadAttachment(up, { ...base, clock: immediate, http: empty, account: account() }))).rejects.toMatchObject({ kind: 'network' });
  });

  it('a blob altered on the relay is refused by the recipient with an attachment error', async () => {
    const file = fileBytes(300_000);
    const up = await uploadAttachment(chunked(file), { ...base, http, account: account(), size: file.length });
    const path = join(relay.dataDir, 'blobs', Buffer.from(up.blobId).toString('hex'));
    const bytes = readFileSync(path);
    bytes[70_000]! ^= 0x01;
    writeFileSync(path, bytes);
    await expect(collect(downloadAttachment(up, { ...base, http, account: account() }))).rejects.toBeInstanceOf(AttachmentError);
  });
});
