/**
 * The scenario with the real pieces: the core uploader sends a file through a relay
 * process that is SIGKILLed in the middle of the upload and started again on the same
 * port; the upload resumes and completes with at most the chunk in flight sent twice, and
 * the download that follows (on the restarted relay) gives the file back.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadAttachment } from '../../src/core/attachments/attachment-downloader.ts';
import { uploadAttachment } from '../../src/core/attachments/attachment-uploader.ts';
import type { BlobAccount, BlobHttp } from '../../src/core/attachments/blob-http.ts';
import type { Clock } from '../../src/core/clock.ts';
import { fetchBlobHttp } from '../../src/platform/fetch-blob-http.ts';
import { tempDataDir } from '../relay/helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from '../relay/helpers/relay-process.ts';
import { chunked, collect, fileBytes, runtime } from './helpers.ts';

const procs: RelayProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function account(): BlobAccount {
  const seed = new Uint8Array(randomBytes(32));
  return { identityKey: ed25519.getPublicKey(seed), sign: (m) => ed25519.sign(m, seed) };
}

describe('upload across a relay restart', () => {
  it('resumes after the relay is killed mid-upload and restarted, sending at most one chunk twice', { timeout: 90_000 }, async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const port = await freePort();
    const env = { PORT: String(port), PETREL_BLOB_CHUNK_MAX_BYTES: String(256 * 1024) };
    procs.push(await spawnRelay(dir, env));
    const http = fetchBlobHttp(`http://127.0.0.1:${port}`);

    // After the third chunk is confirmed the relay dies; retries wait (through the clock) until it is back.
    let patches = 0;
    let restarted: Promise<void> = Promise.resolve();
    const killing: BlobHttp = {
      async send(req) {
        const res = await http.send(req);
        if (req.method === 'PATCH' && ++patches === 3) {
          const proc = procs.at(-1)!;
          proc.child.kill('SIGKILL');
          await proc.exited;
          restarted = spawnRelay(dir, env).then((p) => void procs.push(p));
        }
        return res;
      },
    };
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout: (fn) => {
        void restarted.then(fn);
        return () => {};
      },
    };
    const file = fileBytes(2 * 1024 * 1024 + 99);
    const up = await uploadAttachment(chunked(file, [65_536]), { http: killing, account: account(), runtime, clock, size: file.length, chunkBytes: 256 * 1024 });
    const chunks = Math.ceil(up.blobBytes / (256 * 1024));
    expect(patches).toBeGreaterThan(3);
    expect(up.chunksSent).toBeLessThanOrEqual(chunks + 1);
    const got = await collect(downloadAttachment(up, { http, account: account(), runtime, clock }));
    expect(Buffer.from(got).equals(Buffer.from(file))).toBe(true);
  });
});
