import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, tempDataDir, type TestRelay } from './helpers/relay-harness.ts';

// The relay serves the build's precompressed copies (scripts/precompress.mjs) by Accept-Encoding.
const SCRIPT = 'export const answer = 42;\n'.repeat(200);
const ICON = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

let relay: TestRelay;
beforeAll(async () => {
  const dir = tempDataDir();
  const app = join(dir, 'app');
  mkdirSync(join(app, 'assets'), { recursive: true });
  writeFileSync(join(app, 'index.html'), '<!doctype html><title>Petrel</title>');
  writeFileSync(join(app, 'assets', 'main.js'), SCRIPT);
  writeFileSync(join(app, 'assets', 'main.js.br'), brotliCompressSync(SCRIPT));
  writeFileSync(join(app, 'assets', 'main.js.gz'), gzipSync(SCRIPT));
  writeFileSync(join(app, 'assets', 'only-gzip.css'), 'body{}'.repeat(300));
  writeFileSync(join(app, 'assets', 'only-gzip.css.gz'), gzipSync('body{}'.repeat(300)));
  writeFileSync(join(app, 'icon.png'), ICON);
  // sw.js changed after the build compressed it: its copies are an hour older.
  writeFileSync(join(app, 'sw.js.br'), brotliCompressSync('old version'.repeat(100)));
  writeFileSync(join(app, 'sw.js.gz'), gzipSync('old version'.repeat(100)));
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(join(app, 'sw.js.br'), hourAgo, hourAgo);
  utimesSync(join(app, 'sw.js.gz'), hourAgo, hourAgo);
  writeFileSync(join(app, 'sw.js'), 'new version'.repeat(100));
  relay = await startTestRelay({ PETREL_APP_DIR: app }, dir);
});
afterAll(async () => {
  await relay.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET whose body is NOT decompressed (fetch would hide the encoding). */
function rawGet(path: string, acceptEncoding?: string, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${relay.http}${path}`, { method, headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static files, compressed', () => {
  it('sends the Brotli copy to a client that takes br, with its own length and Vary', async () => {
    const res = await rawGet('/assets/main.js', 'gzip, deflate, br, zstd');
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['vary']).toBe('Accept-Encoding');
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(res.body.length).toBeLessThan(SCRIPT.length / 10);
    expect(brotliDecompressSync(res.body).toString()).toBe(SCRIPT);
  });

  it('sends gzip when br is refused with q=0 or not offered', async () => {
    for (const accept of ['gzip', 'br;q=0, gzip;q=0.5', 'BR;Q=0, *']) {
      const res = await rawGet('/assets/main.js', accept);
      expect(res.headers['content-encoding'], accept).toBe('gzip');
      expect(gunzipSync(res.body).toString()).toBe(SCRIPT);
    }
  });

  it('sends the file itself without Accept-Encoding, with identity only, or when every copy is refused', async () => {
    for (const accept of [undefined, 'identity', 'br;q=0, gzip;q=0', '*;q=0']) {
      const res = await rawGet('/assets/main.js', accept);
      expect(res.headers['content-encoding'], String(accept)).toBeUndefined();
      expect(res.headers['vary']).toBe('Accept-Encoding');
      expect(res.body.toString()).toBe(SCRIPT);
    }
  });

  it('falls back to the copy the build wrote (gzip only)', async () => {
    const res = await rawGet('/assets/only-gzip.css', 'br, gzip');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(res.body).toString()).toBe('body{}'.repeat(300));
  });

  it('a HEAD names the encoded length and sends no body', async () => {
    const res = await rawGet('/assets/main.js', 'br', 'HEAD');
    expect(res.headers['content-encoding']).toBe('br');
    expect(Number(res.headers['content-length'])).toBe(brotliCompressSync(SCRIPT).length);
    expect(res.body.length).toBe(0);
  });

  it('a copy older than its file is stale: the file itself goes out', async () => {
    const res = await rawGet('/sw.js', 'br, gzip');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.toString()).toBe('new version'.repeat(100));
  });

  it('a file without copies goes out as it is, with no Vary', async () => {
    const res = await rawGet('/icon.png', 'br, gzip');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['vary']).toBeUndefined();
    expect(res.body.equals(ICON)).toBe(true);
  });
});
