/**
 * The relay's blob endpoints (issue 19, docs/PROTOCOL.md §14.5) against a real relay:
 * resumable chunked upload, ranged download, every refusal typed and counted, deletion
 * on acknowledgement and at the end of retention, and an upload that survives the relay
 * being killed in the middle of a chunk.
 */
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ATTACHMENT_BLOB_BYTES } from '../../src/core/wire/attachment-layout.ts';
import { mailboxAddress } from '../../src/core/wire/index.ts';
import { BlobClient, blobAuth } from './helpers/blob-client.ts';
import { newIdentity } from './helpers/identity.ts';
import { startTestRelay, tempDataDir, type TestRelay } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';
import { scrape, waitFor } from './helpers/wait-for.ts';

const KIB = 1024;
const rnd = (n: number) => new Uint8Array(randomBytes(n));

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({
    PETREL_BLOB_ACCOUNT_QUOTA_BYTES: String(1024 * KIB),
    PETREL_BLOB_CHUNK_MAX_BYTES: String(64 * KIB),
    PETREL_IP_BLOB_REQUESTS_PER_SEC: '100000',
    PETREL_IP_BLOB_REQUEST_BURST: '100000',
  });
});
afterAll(async () => {
  await relay.stop();
});

const refused = (op: string, result: string) => new RegExp(`petrel_blob_requests_total\\{op="${op}",result="${result}"\\} (\\d+)`);

async function upload(client: BlobClient, bytes: Uint8Array, chunk: number, recipients = 1): Promise<string> {
  const created = await client.create(bytes.length, recipients);
  expect(created.status).toBe(201);
  for (let at = 0; at < bytes.length; at += chunk) {
    const res = await client.patch(created.path, at, bytes.subarray(at, at + chunk));
    expect(res.status).toBe(204);
    expect(Number(res.headers.get('upload-offset'))).toBe(Math.min(bytes.length, at + chunk));
  }
  return created.path;
}

describe('upload and download', () => {
  it('stores chunks at the offset, tells where to resume, and serves the whole blob and any range of it', async () => {
    const alice = new BlobClient(relay.http, newIdentity());
    const bob = new BlobClient(relay.http, newIdentity());
    const bytes = rnd(150 * KIB + 7);
    const created = await alice.create(bytes.length);
    expect(created.status).toBe(201);
    expect(created.path).toMatch(/^\/blobs\/[A-Za-z0-9_-]{22}$/);
    await alice.patch(created.path, 0, bytes.subarray(0, 64 * KIB));
    expect(await alice.offset(created.path)).toBe(64 * KIB);
    expect((await bob.download(created.path)).status).toBe(409); // not finished yet
    await alice.patch(created.path, 64 * KIB, bytes.subarray(64 * KIB, 128 * KIB));
    await alice.patch(created.path, 128 * KIB, bytes.subarray(128 * KIB));
    const whole = await bob.download(created.path);
    expect(whole.status).toBe(200);
    expect(whole.bytes.equals(Buffer.from(bytes))).toBe(true);
    const part = await bob.download(created.path, 'bytes=1000-70999');
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-70999/${bytes.length}`);
    expect(part.bytes.equals(Buffer.from(bytes.subarray(1000, 71000)))).toBe(true);
    const tail = await bob.download(created.path, 'bytes=150000-');
    expect(tail.bytes.equals(Buffer.from(bytes.subarray(150000)))).toBe(true);
    expect((await bob.download(created.path, `bytes=${bytes.length}-`)).status).toBe(416);
    expect(await scrape(relay.http, /petrel_blob_bytes_total\{direction="in"\} (\d+)/)).toBeGreaterThanOrEqual(bytes.length);
  });
});

describe('refusals', () => {
  it('refuses requests without a valid signature, and counts them', async () => {
    const id = newIdentity();
    const path = '/blobs';
    const headers = { 'Upload-Length': '100' };
    const before = await scrape(relay.http, refused('create', 'unauthenticated'));
    const attempts: Record<string, string | undefined> = {
      none: undefined,
      garbage: 'Petrel nonsense',
      stale: blobAuth(id, 'POST', path, headers, Date.now() - 120_000),
      otherPath: blobAuth(id, 'POST', '/blobs/AAAAAAAAAAAAAAAAAAAAAA', headers),
      otherLength: blobAuth(id, 'POST', path, { 'Upload-Length': '99' }),
    };
    for (const [what, auth] of Object.entries(attempts)) {
      const res = await fetch(`${relay.http}${path}`, { method: 'POST', headers: { ...headers, ...(auth ? { Authorization: auth } : {}) } });
      expect(res.status, what).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('unauthenticated');
    }
    expect(await scrape(relay.http, refused('create', 'unauthenticated'))).toBe(before + 5);
  });

  it('refuses chunks from another account, at the wrong offset, past the declared size or over the chunk cap, storing nothing', async () => {
    const alice = new BlobClient(relay.http, newIdentity());
    const mallory = new BlobClient(relay.http, newIdentity());
    const { path } = await alice.create(100 * KIB);
    expect((await alice.patch(path, 0, rnd(10 * KIB))).status).toBe(204);
    expect((await mallory.patch(path, 10 * KIB, rnd(10))).status).toBe(403);
    const wrong = await alice.patch(path, 0, rnd(10));
    expect(wrong.status).toBe(409);
    expect(wrong.headers.get('upload-offset')).toBe(String(10 * KIB));
    const before = await scrape(relay.http, refused('patch', 'beyond_size'));
    expect((await alice.patch(path, 10 * KIB, rnd(90 * KIB + 1))).status).toBe(413); // over the 64 KiB chunk cap
    const small = new BlobClient(relay.http, newIdentity());
    const s = await small.create(100);
    expect((await small.patch(s.path, 0, rnd(101))).status).toBe(413);
    expect(await scrape(relay.http, refused('patch', 'beyond_size'))).toBe(before + 1);
    expect(await alice.offset(path)).toBe(10 * KIB);
    expect(await small.offset(s.path)).toBe(0);
  });

  it('refuses blobs over the largest attachment, over the account quota, and a global cap', async () => {
    const alice = new BlobClient(relay.http, newIdentity());
    expect((await alice.create(MAX_ATTACHMENT_BLOB_BYTES + 1)).status).toBe(413);
    expect((await alice.create(600 * KIB)).status).toBe(201);
    const over = await alice.create(500 * KIB);
    expect(over.status).toBe(403);
    expect(over.body.error).toBe('over_quota');
    expect((await alice.create(400 * KIB)).status).toBe(201);
    expect(await scrape(relay.http, refused('create', 'over_quota'))).toBeGreaterThanOrEqual(1);

    const capped = await startTestRelay({ PETREL_BLOB_MAX_TOTAL_BYTES: String(200 * KIB) });
    try {
      const a = new BlobClient(capped.http, newIdentity());
      const b = new BlobClient(capped.http, newIdentity());
      expect((await a.create(150 * KIB)).status).toBe(201);
      const full = await b.create(100 * KIB);
      expect(full.status).toBe(507);
      expect(full.body.error).toBe('storage_full');
    } finally {
      await capped.stop();
    }
  });
});

describe('malformed requests', () => {
  it('answers each with its 4xx and never fails inside a handler', async () => {
    const alice = new BlobClient(relay.http, newIdentity());
    const path = await upload(alice, rnd(5000), 5000);
    const cases: Array<[string, string, Record<string, string>, number]> = [
      ['POST', '/blobs', {}, 400], // no Upload-Length
      ['POST', '/blobs', { 'Upload-Length': '-1' }, 400],
      ['POST', '/blobs', { 'Upload-Length': '1e3' }, 400],
      ['POST', '/blobs', { 'Upload-Length': '99999999999999999999' }, 400],
      ['POST', '/blobs', { 'Upload-Length': '10', 'Petrel-Recipients': '0' }, 400],
      ['POST', '/blobs', { 'Upload-Length': '10', 'Petrel-Recipients': '5000' }, 400],
      ['PUT', '/blobs', {}, 400],
      ['GET', '/blobs/AAAAAAAAAAAAAAAAAAAAAA', {}, 404],
      ['HEAD', '/blobs/AAAAAAAAAAAAAAAAAAAAAA', {}, 404],
      ['POST', '/blobs/AAAAAAAAAAAAAAAAAAAAAA/ack', {}, 404],
      ['PATCH', path, {}, 400], // no Upload-Offset
      ['PATCH', path, { 'Upload-Offset': 'x' }, 400],
      ['GET', path, { Range: 'bytes=5-2' }, 416],
      ['GET', path, { Range: 'bytes=0-1,4-5' }, 416],
      ['GET', path, { Range: 'items=0-1' }, 416],
      ['POST', path, {}, 400],
    ];
    for (const [method, target, headers, status] of cases) {
      const res = await alice.request(method, target, headers);
      expect(res.status, `${method} ${target} ${JSON.stringify(headers)}`).toBe(status);
      await res.arrayBuffer();
    }
    expect((await fetch(`${relay.http}/blobs/not-an-id`)).status).toBe(404);
    expect(await scrape(relay.http, /petrel_handler_failures_total\{where="http"\} (\d+)/)).toBe(0);
  });
});

describe('memory held by slow uploads', () => {
  it('refuses chunks past the in-memory budget with 503 busy, and takes them again once the slow ones went away', async () => {
    const chunk = 64 * KIB;
    const alice = new BlobClient(relay.http, newIdentity());
    const { path } = await alice.create(chunk);
    const port = Number(new URL(relay.http).port);
    const headers = { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' };
    const slow = Array.from({ length: 16 }, () => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'PATCH', headers: { ...headers, 'Content-Length': String(chunk), Authorization: blobAuth(alice.id, 'PATCH', path, headers) } });
      req.on('error', () => {});
      req.write(new Uint8Array(100));
      return req;
    });
    // Each probe is a fresh blob of a fresh account, so it never moves the slow uploads' offset.
    const probe = async () => {
      const bob = new BlobClient(relay.http, newIdentity());
      const created = await bob.create(chunk);
      return (await bob.patch(created.path, 0, rnd(chunk))).status;
    };
    // A probe holds a chunk's worth while it uploads: one sent before every slow request took its
    // share would make that slow request the refused one. So wait until the slow ones hold it all.
    const held = () => scrape(relay.http, /petrel_blob_chunk_memory_bytes (\d+)/);
    await waitFor(held, (b) => b === 16 * chunk, 'the slow uploads to hold the whole budget');
    expect(await probe()).toBe(503);
    for (const req of slow) req.destroy();
    await waitFor(held, (b) => b === 0, 'the slow uploads to give their memory back');
    expect(await probe()).toBe(204);
    expect(await scrape(relay.http, refused('patch', 'busy'))).toBeGreaterThanOrEqual(1);
    expect(await scrape(relay.http, /petrel_handler_failures_total\{where="http"\} (\d+)/)).toBe(0);
  });
});

describe('rate limit', () => {
  it('refuses blob requests past the per-address bucket with 429, before checking signatures', async () => {
    const limited = await startTestRelay({ PETREL_IP_BLOB_REQUESTS_PER_SEC: '1', PETREL_IP_BLOB_REQUEST_BURST: '2' });
    try {
      const alice = new BlobClient(limited.http, newIdentity());
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await alice.create(100)).status);
      expect(statuses.slice(0, 2)).toEqual([201, 201]);
      expect(statuses.slice(2)).toContain(429);
      const res = await fetch(`${limited.http}/blobs`, { method: 'POST' });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await scrape(limited.http, /petrel_rate_limited_total\{bucket="ip_blob"\} (\d+)/)).toBeGreaterThanOrEqual(2);
    } finally {
      await limited.stop();
    }
  });
});

describe('deletion', () => {
  it('deletes a blob once every recipient acknowledged it', async () => {
    const alice = new BlobClient(relay.http, newIdentity());
    const [bob, carol] = [new BlobClient(relay.http, newIdentity()), new BlobClient(relay.http, newIdentity())];
    const path = await upload(alice, rnd(1000), 1000, 2);
    expect((await bob.request('POST', `${path}/ack`)).status).toBe(204);
    expect((await bob.request('POST', `${path}/ack`)).status).toBe(204); // the same account twice counts once
    expect((await carol.download(path)).status).toBe(200);
    expect((await carol.request('POST', `${path}/ack`)).status).toBe(204);
    expect((await carol.download(path)).status).toBe(404);
    expect(await scrape(relay.http, /petrel_blobs_deleted_total\{reason="acked"\} (\d+)/)).toBeGreaterThanOrEqual(1);
  });

  it('a blob that names its recipients refuses another account’s acknowledgement (403, counted), so it stays for them', async () => {
    const alice = new BlobClient(relay.http, newIdentity());
    const [bob, mallory] = [new BlobClient(relay.http, newIdentity()), new BlobClient(relay.http, newIdentity())];
    const bobAccount = Buffer.from(mailboxAddress(bob.id.ik)).toString('base64url');
    const bytes = rnd(1000);
    const res = await alice.request('POST', '/blobs', { 'Upload-Length': '1000', 'Petrel-Recipients': '1', 'Petrel-Recipient-Accounts': bobAccount });
    expect(res.status).toBe(201);
    const path = res.headers.get('location')!;
    expect((await alice.patch(path, 0, bytes)).status).toBe(204);
    const before = (await scrape(relay.http, refused('ack', 'forbidden'))) ?? 0;
    const denied = await mallory.request('POST', `${path}/ack`);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: 'forbidden' });
    expect(await scrape(relay.http, refused('ack', 'forbidden'))).toBe(before + 1);
    expect((await bob.download(path)).status).toBe(200);
    expect((await bob.request('POST', `${path}/ack`)).status).toBe(204);
    expect((await bob.download(path)).status).toBe(404);
    // The named accounts are signed with the request: one added or stripped on the way fails the signature (401).
    const signedWithout = blobAuth(alice.id, 'POST', '/blobs', { 'Upload-Length': '10', 'Petrel-Recipients': '1' });
    const added = await fetch(`${relay.http}/blobs`, { method: 'POST', headers: { 'Upload-Length': '10', 'Petrel-Recipients': '1', 'Petrel-Recipient-Accounts': bobAccount, Authorization: signedWithout } });
    expect(added.status).toBe(401);
    const signedWith = blobAuth(alice.id, 'POST', '/blobs', { 'Upload-Length': '10', 'Petrel-Recipients': '1', 'Petrel-Recipient-Accounts': bobAccount });
    const stripped = await fetch(`${relay.http}/blobs`, { method: 'POST', headers: { 'Upload-Length': '10', 'Petrel-Recipients': '1', Authorization: signedWith } });
    expect(stripped.status).toBe(401);
    // A count that does not match the named accounts, or a malformed name, is refused.
    expect((await alice.request('POST', '/blobs', { 'Upload-Length': '10', 'Petrel-Recipients': '2', 'Petrel-Recipient-Accounts': bobAccount })).status).toBe(400);
    expect((await alice.request('POST', '/blobs', { 'Upload-Length': '10', 'Petrel-Recipients': '1', 'Petrel-Recipient-Accounts': 'not-an-account' })).status).toBe(400);
  });

  it('deletes blobs at the end of retention, and the owner can cancel one', async () => {
    const short = await startTestRelay({}, tempDataDir(), {
      sweepIntervalMs: 50,
      blobs: { accountQuotaBytes: 2 ** 30, maxTotalBytes: 0, retentionMs: 300, chunkMaxBytes: 65536, ipRequestsPerSec: 1000, ipRequestBurst: 1000, testThrottleBytesPerSec: 0 },
    });
    try {
      const alice = new BlobClient(short.http, newIdentity());
      const path = await upload(alice, rnd(100), 100);
      await waitFor(() => alice.download(path).then((r) => r.status), (s) => s === 404, 'the blob to expire');
      await waitFor(() => scrape(short.http, /petrel_blobs_deleted_total\{reason="expired"\} (\d+)/), (n) => n >= 1, 'the expiry to be counted');
      const other = await upload(alice, rnd(100), 100);
      expect((await new BlobClient(short.http, newIdentity()).request('DELETE', other)).status).toBe(403);
      expect((await alice.request('DELETE', other)).status).toBe(204);
      expect((await alice.download(other)).status).toBe(404);
    } finally {
      await short.stop();
    }
  });
});

describe('resumption across a relay restart', () => {
  const dirs: string[] = [];
  const procs: RelayProcess[] = [];
  afterEach(() => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** Sends the headers and half the body of a PATCH, then resolves (the request stays open). */
  function halfPatch(port: number, client: BlobClient, path: string, offset: number, chunk: Uint8Array): Promise<void> {
    const headers = { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' };
    return new Promise((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        path,
        method: 'PATCH',
        headers: { ...headers, 'Content-Length': String(chunk.length), Authorization: blobAuth(client.id, 'PATCH', path, headers) },
      });
      req.on('error', () => {});
      req.write(chunk.subarray(0, chunk.length / 2), () => resolve());
    });
  }

  it('an upload killed in the middle of a chunk resumes after restart with only that chunk sent again', { timeout: 60_000 }, async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const chunk = 64 * KIB;
    const env = { PETREL_BLOB_CHUNK_MAX_BYTES: String(chunk) };
    let proc = await spawnRelay(dir, env);
    procs.push(proc);
    const alice = new BlobClient(`http://127.0.0.1:${proc.port}`, newIdentity());
    const bytes = rnd(10 * chunk + 123);
    const { path } = await alice.create(bytes.length);
    let sent = 0;
    for (let at = 0; at < 4 * chunk; at += chunk) {
      sent++;
      expect((await alice.patch(path, at, bytes.subarray(at, at + chunk))).status).toBe(204);
    }
    sent++;
    await halfPatch(proc.port, alice, path, 4 * chunk, bytes.subarray(4 * chunk, 5 * chunk));
    proc.child.kill('SIGKILL');
    await proc.exited;

    proc = await spawnRelay(dir, env);
    procs.push(proc);
    alice.http = `http://127.0.0.1:${proc.port}`;
    let at = await alice.offset(path);
    expect(at).toBe(4 * chunk);
    for (; at < bytes.length; at += chunk) {
      sent++;
      expect((await alice.patch(path, at, bytes.subarray(at, at + chunk))).status).toBe(204);
    }
    const chunks = Math.ceil(bytes.length / chunk);
    expect(sent).toBeLessThanOrEqual(chunks + 1);
    const got = await new BlobClient(alice.http, newIdentity()).download(path);
    expect(got.bytes.equals(Buffer.from(bytes))).toBe(true);
  });
});
