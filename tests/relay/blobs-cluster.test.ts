/**
 * Blobs on a cluster (PETREL_STORE=postgres): an upload begun on one node resumes on
 * another, and a third serves the download and the acknowledgements, because metadata and
 * bytes live in the shared PostgreSQL database.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobClient } from './helpers/blob-client.ts';
import { startTestCluster, type TestCluster } from './helpers/cluster-harness.ts';
import { newIdentity } from './helpers/identity.ts';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster(3, { PETREL_BLOB_CHUNK_MAX_BYTES: String(64 * 1024) });
});
afterAll(async () => {
  await cluster.stop();
});

describe('blobs across relay nodes', () => {
  it('uploads on two nodes in turn, downloads from a third, and is deleted there once acknowledged', async () => {
    const [a, b, c] = cluster.nodes;
    const bytes = new Uint8Array(randomBytes(200 * 1024 + 5));
    const chunk = 64 * 1024;
    const owner = newIdentity();
    const onA = new BlobClient(a!.http, owner);
    const onB = new BlobClient(b!.http, owner);
    const { path } = await onA.create(bytes.length);
    expect((await onA.patch(path, 0, bytes.subarray(0, chunk))).status).toBe(204);
    expect((await onA.patch(path, chunk, bytes.subarray(chunk, 2 * chunk))).status).toBe(204);
    expect(await onB.offset(path)).toBe(2 * chunk);
    // The same chunk offered to two nodes at once is stored once.
    const racing = await Promise.all([onA.patch(path, 2 * chunk, bytes.subarray(2 * chunk, 3 * chunk)), onB.patch(path, 2 * chunk, bytes.subarray(2 * chunk, 3 * chunk))]);
    expect(racing.map((r) => r.status).sort()).toEqual([204, 409]);
    expect((await onB.patch(path, 3 * chunk, bytes.subarray(3 * chunk))).status).toBe(204);

    const reader = new BlobClient(c!.http, newIdentity());
    const got = await reader.download(path);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(Buffer.from(bytes))).toBe(true);
    const part = await reader.download(path, 'bytes=65530-131080');
    expect(part.bytes.equals(Buffer.from(bytes.subarray(65530, 131081)))).toBe(true);
    expect((await reader.request('POST', `${path}/ack`)).status).toBe(204);
    expect((await onA.download(path)).status).toBe(404);
    const { rows } = await cluster.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM blob_chunks');
    expect(rows[0]!.n).toBe('0');
  });
});
