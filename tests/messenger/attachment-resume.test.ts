/**
 * Files that continue after an interruption (docs/PROTOCOL.md §14.7), two complete cores
 * through the real relay: an upload cut off by a reload continues when the same file is
 * attached again (no second blob, only what the relay lacks is sent); a download cut off
 * by a reload continues from its saved bytes; a failed upload continues with Retry; and
 * an account over its relay quota is told so in words, counted.
 */
import { describe, expect, it, vi } from 'vitest';
import type { BlobHttp, BlobHttpRequest } from '../../src/core/attachments/blob-http.ts';
import { INTERRUPTED_DOWNLOAD, INTERRUPTED_UPLOAD, OVER_QUOTA } from '../../src/core/messenger/transfer-words.ts';
import { fetchBlobHttp } from '../../src/platform/fetch-blob-http.ts';
import { startTestRelay } from '../relay/helpers/relay-harness.ts';
import { fileBytes } from '../attachments/helpers.ts';
import { device, introduce, onboard, testWorld, until } from './harness.ts';

const { relay, track, defer } = testWorld();
const MIB = 1024 * 1024;

/**
 * The relay's /blobs over fetch. While `stall` is set, its requests never get an answer (a
 * tab about to go away); `stallPatchesFrom` does that to PATCHes from that blob offset on.
 */
function gatedHttp(base: string) {
  const inner = fetchBlobHttp(base);
  const gate = {
    requests: [] as string[],
    stall: undefined as BlobHttpRequest['method'] | undefined,
    stallPatchesFrom: Infinity,
    stalled: 0,
    failing: false,
    send(req: BlobHttpRequest) {
      if (gate.stall === req.method || (req.method === 'PATCH' && Number(req.headers['Upload-Offset']) >= gate.stallPatchesFrom)) {
        gate.stalled++;
        return new Promise<never>(() => {});
      }
      gate.requests.push(`${req.method} ${req.path}`);
      if (gate.failing) return Promise.reject(new TypeError('fetch failed'));
      return inner.send(req);
    },
  } satisfies BlobHttp & Record<string, unknown>;
  return gate;
}

async function pair(env?: Record<string, string>) {
  const r = env ? await startTestRelay({ PETREL_LOG_LEVEL: 'silent', ...env }) : await relay();
  if (env) defer(() => r.stop());
  const aliceHttp = gatedHttp(r.http);
  const bobHttp = gatedHttp(r.http);
  const alice = track(device(r.url, undefined, { blobHttp: aliceHttp }));
  const bob = track(device(r.url, undefined, { blobHttp: bobHttp }));
  await onboard(alice, 'Alice');
  await onboard(bob, 'Bob');
  const ids = await introduce(alice, bob);
  return { r, alice, bob, aliceHttp, bobHttp, ...ids };
}

const count = (requests: string[], method: string) => requests.filter((r) => r.startsWith(`${method} `)).length;

describe('resuming files', () => {
  it('an upload cut off by a reload continues when the same file is attached again', async () => {
    const { alice, bob, aSeesB, aliceHttp } = await pair();
    const bytes = fileBytes(10 * MIB + 3) as Uint8Array<ArrayBuffer>;
    const file = () => new Blob([bytes], { type: 'application/zip' });
    // The tab goes away while the second 4 MiB chunk is on its way.
    aliceHttp.stallPatchesFrom = 4 * MIB;
    void alice.messenger.sendFile(aSeesB, file(), { name: 'big.zip', caption: 'the archive' }).catch(() => undefined);
    await until(alice, (s) => (s.transfers?.[0]?.done ?? 0) >= 4 * MIB);
    await vi.waitFor(() => expect(aliceHttp.stalled).toBe(1), { timeout: 15_000 });
    const before = alice.messenger.getState().transfers![0]!;
    const patchesBefore = count(aliceHttp.requests, 'PATCH');

    const reloaded = track(await alice.reload());
    // Shown as interrupted, with what the person can do, and where it stood.
    const shown = (await until(reloaded, (s) => !!s.transfers?.length)).transfers![0]!;
    expect(shown).toMatchObject({ messageId: before.messageId, direction: 'up', failure: INTERRUPTED_UPLOAD, retryable: false, name: 'big.zip' });
    expect(shown.done).toBeGreaterThanOrEqual(4 * MIB);

    aliceHttp.stallPatchesFrom = Infinity;
    const id = await reloaded.messenger.sendFile(aSeesB, file(), { name: 'big.zip' });
    expect(reloaded.messenger.getState().transfers).toBeUndefined();
    // One blob in all; only the chunks the relay lacked went again (4 MiB chunks: 3 in all).
    expect(count(aliceHttp.requests, 'POST')).toBe(1);
    expect(count(aliceHttp.requests, 'PATCH') - patchesBefore).toBe(2);
    expect(reloaded.metrics.snapshot().counters['attachment.upload_resumed']).toBe(1);
    expect(await reloaded.store.getMessage(id)).toMatchObject({ body: 'the archive', attachment: { name: 'big.zip', size: bytes.length } });

    await expect.poll(async () => (await bob.store.getMessage(id))?.attachment, { timeout: 10_000 }).toBeDefined();
    const got = await bob.messenger.downloadAttachment(id);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('a download cut off by a reload continues from its saved bytes and comes out whole', async () => {
    const { alice, bob, aSeesB, bobHttp } = await pair();
    const bytes = fileBytes(10 * MIB + 5) as Uint8Array<ArrayBuffer>;
    const id = await alice.messenger.sendFile(aSeesB, new Blob([bytes]), { name: 'movie.bin' });
    await expect.poll(async () => (await bob.store.getMessage(id))?.attachment, { timeout: 10_000 }).toBeDefined();

    void bob.messenger.downloadAttachment(id).catch(() => undefined);
    await until(bob, (s) => (s.transfers?.[0]?.done ?? 0) >= 5 * MIB);
    bobHttp.stall = 'GET';
    const reloaded = track(await bob.reload());
    const shown = (await until(reloaded, (s) => !!s.transfers?.length)).transfers![0]!;
    expect(shown).toMatchObject({ messageId: id, direction: 'down', failure: INTERRUPTED_DOWNLOAD, retryable: true });
    expect(shown.done).toBeGreaterThanOrEqual(4 * MIB);

    bobHttp.stall = undefined;
    const gets = count(bobHttp.requests, 'GET');
    const seen: number[] = [];
    reloaded.messenger.subscribe(() => {
      const t = reloaded.messenger.getState().transfers?.[0];
      if (t && !t.failure) seen.push(t.done);
    });
    const blob = await reloaded.messenger.downloadAttachment(id);
    expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    // It started from the saved bytes, with one ranged request.
    expect(seen[0]).toBe(shown.done);
    expect(count(bobHttp.requests, 'GET') - gets).toBe(1);
    expect(reloaded.metrics.snapshot().counters['attachment.download_resumed']).toBe(1);
    // Done: nothing left in the journal.
    expect(await reloaded.store.getMeta('attachments.transfers')).toBe('[]');
  });

  it('a failed upload continues with Retry, from where the relay stopped', async () => {
    const { alice, aSeesB, aliceHttp } = await pair();
    const bytes = fileBytes(9 * MIB) as Uint8Array<ArrayBuffer>;
    const sending = alice.messenger.sendFile(aSeesB, new Blob([bytes]), { name: 'retry.bin' });
    await until(alice, (s) => (s.transfers?.[0]?.done ?? 0) >= 4 * MIB);
    aliceHttp.failing = true;
    await expect(sending).rejects.toMatchObject({ kind: 'network' });
    const failed = alice.messenger.getState().transfers![0]!;
    expect(failed).toMatchObject({ retryable: true, failure: expect.stringContaining('could not be reached') });
    aliceHttp.failing = false;
    const posts = count(aliceHttp.requests, 'POST');
    await alice.messenger.retry(failed.messageId);
    expect(alice.messenger.getState().transfers).toBeUndefined();
    expect(count(aliceHttp.requests, 'POST')).toBe(posts);
    expect(await alice.store.getMessage(failed.messageId)).toMatchObject({ attachment: { name: 'retry.bin', size: bytes.length } });
  }, 30_000);

  it('dismissing a failed upload forgets it and deletes its blob on the relay (freeing the quota)', async () => {
    const { alice, aSeesB, aliceHttp } = await pair();
    aliceHttp.stallPatchesFrom = 4 * MIB;
    void alice.messenger.sendFile(aSeesB, new Blob([fileBytes(6 * MIB) as Uint8Array<ArrayBuffer>]), { name: 'gone.bin' }).catch(() => undefined);
    await vi.waitFor(() => expect(aliceHttp.stalled).toBe(1), { timeout: 15_000 });
    const reloaded = track(await alice.reload());
    const shown = (await until(reloaded, (s) => !!s.transfers?.length)).transfers![0]!;
    await reloaded.messenger.cancelTransfer(shown.messageId);
    expect(reloaded.messenger.getState().transfers).toBeUndefined();
    await vi.waitFor(() => expect(aliceHttp.requests.filter((r) => r.startsWith('DELETE /blobs/'))).toHaveLength(1), { timeout: 10_000 });
    expect(await reloaded.store.getMeta('attachments.transfers')).toBe('[]');
  });

  it('an account over its relay quota is told so in words, and it is counted', async () => {
    const { alice, aSeesB } = await pair({ PETREL_BLOB_ACCOUNT_QUOTA_BYTES: String(MIB) });
    const err = await alice.messenger.sendFile(aSeesB, new Blob([fileBytes(2 * MIB) as Uint8Array<ArrayBuffer>]), { name: 'big.bin' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'refused', status: 403, code: 'over_quota' });
    expect(alice.messenger.getState().transfers![0]).toMatchObject({ failure: OVER_QUOTA, retryable: true });
    expect(alice.metrics.snapshot().counters['attachment.refused.over_quota']).toBe(1);
  });
});
