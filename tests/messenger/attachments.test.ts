/**
 * Files between two complete cores through the real relay (its WebSocket for messages,
 * its signed /blobs endpoints over fetch for the encrypted file): sending refuses an
 * oversized file before any upload, uploads and queues the `file` message exactly once,
 * and shows progress; the recipient downloads, verifies and decrypts it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BlobHttp } from '../../src/core/attachments/blob-http.ts';
import type { TransferView } from '../../src/core/messenger/messenger-api.ts';
import { fetchBlobHttp } from '../../src/platform/fetch-blob-http.ts';
import { fileBytes } from '../attachments/helpers.ts';
import { device, introduce, onboard, testWorld, until, type Device } from './harness.ts';

const { relay, track } = testWorld();
const MIB = 1024 * 1024;

/** The relay's blob endpoints, counting the requests that reach them. */
function countingHttp(base: string): BlobHttp & { requests: string[] } {
  const inner = fetchBlobHttp(base);
  const requests: string[] = [];
  return {
    requests,
    send(req) {
      requests.push(`${req.method} ${req.path}`);
      return inner.send(req);
    },
  };
}

async function pair() {
  const r = await relay();
  const aliceHttp = countingHttp(r.http);
  const bobHttp = countingHttp(r.http);
  const alice = track(device(r.url, undefined, { blobHttp: aliceHttp }));
  const bob = track(device(r.url, undefined, { blobHttp: bobHttp }));
  await onboard(alice, 'Alice');
  await onboard(bob, 'Bob');
  const ids = await introduce(alice, bob);
  return { r, alice, bob, aliceHttp, bobHttp, ...ids };
}

/** Every `transfers` list the device's state showed from now on. */
function recordTransfers(d: Device): TransferView[][] {
  const seen: TransferView[][] = [];
  d.messenger.subscribe(() => {
    const t = d.messenger.getState().transfers;
    if (t && seen.at(-1) !== t) seen.push([...t]);
  });
  return seen;
}

describe('sending a file', () => {
  it('refuses a file over 100 MiB before any upload, with the limit in words', async () => {
    const { alice, aliceHttp, aSeesB } = await pair();
    let read = false;
    const huge = {
      size: 100 * MIB + 1,
      type: 'video/mp4',
      name: 'holiday.mp4',
      stream: () => {
        read = true;
        throw new Error('must not be read');
      },
    } as unknown as Blob;
    await expect(alice.messenger.sendFile(aSeesB, huge)).rejects.toMatchObject({ kind: 'file_too_large', message: expect.stringContaining('at most 100 MiB') });
    expect(read).toBe(false);
    expect(aliceHttp.requests).toEqual([]);
    expect(await alice.store.pageMessages(aSeesB, { limit: 10 }).then((p) => p.messages)).toEqual([]);
    expect(alice.messenger.getState().transfers).toBeUndefined();
    // A preview over 2 KiB is refused before any upload too.
    await expect(alice.messenger.sendFile(aSeesB, new Blob(['x']), { name: 'a.png', preview: new Uint8Array(2049) })).rejects.toMatchObject({ kind: 'invalid_file' });
    expect(aliceHttp.requests).toEqual([]);
  });

  it('uploads, queues the file message once, shows progress, and both sides keep the descriptor', async () => {
    const { alice, bob, aSeesB, bSeesA, aliceHttp } = await pair();
    const bytes = fileBytes(3 * MIB + 17) as Uint8Array<ArrayBuffer>;
    const progress = recordTransfers(alice);
    const preview = new Uint8Array(2048).fill(5);
    const id = await alice.messenger.sendFile(aSeesB, new Blob([bytes], { type: 'application/pdf' }), { name: 'report.pdf', caption: 'the report', preview });

    // Progress went up to the whole blob, then the transfer left the state once queued.
    const ups = progress.flat().filter((t) => t.messageId === id);
    expect(ups[0]).toMatchObject({ direction: 'up', name: 'report.pdf', contactId: aSeesB });
    expect(ups.at(-1)!.done).toBe(ups.at(-1)!.total);
    expect(alice.messenger.getState().transfers).toBeUndefined();
    expect(aliceHttp.requests.filter((r) => r === 'POST /blobs')).toHaveLength(1);

    const mine = await alice.store.getMessage(id);
    expect(mine).toMatchObject({ direction: 'out', body: 'the report', attachment: { name: 'report.pdf', mime: 'application/pdf', size: bytes.length } });

    await expect
      .poll(async () => (await bob.store.getMessage(id))?.attachment, { timeout: 10_000 })
      .toMatchObject({ name: 'report.pdf', mime: 'application/pdf', size: bytes.length, blobId: mine!.attachment!.blobId });
    expect((await bob.store.getMessage(id))!.body).toBe('the report');
    expect((await bob.store.getMessage(id))!.attachment!.preview).toEqual(preview);
    await until(alice, (s) => s.contacts.find((c) => c.id === aSeesB)?.lastMessage?.text === 'the report');
    expect(bSeesA).toBeTruthy();

    // The same id again (a command resent to a new host) is not a second message.
    await expect(alice.messenger.sendFile(aSeesB, new Blob([bytes]), { name: 'report.pdf', id })).resolves.toBe(id);
    expect(aliceHttp.requests.filter((r) => r === 'POST /blobs')).toHaveLength(1);
  });

  it('a cancelled upload queues nothing and says so in its transfer', async () => {
    const { alice, aSeesB } = await pair();
    const bytes = fileBytes(12 * MIB) as Uint8Array<ArrayBuffer>;
    const source = new Blob([bytes]);
    const slow = {
      size: bytes.length,
      type: '',
      name: 'big.bin',
      stream: () =>
        (async function* () {
          const reader = source.stream().getReader();
          for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
        })(),
    } as unknown as Blob;
    const sending = alice.messenger.sendFile(aSeesB, slow);
    await until(alice, (s) => (s.transfers ?? []).some((t) => t.done > 0));
    const t = alice.messenger.getState().transfers![0]!;
    await alice.messenger.cancelTransfer(t.messageId);
    await expect(sending).rejects.toMatchObject({ kind: 'cancelled' });
    expect(alice.messenger.getState().transfers).toEqual([expect.objectContaining({ messageId: t.messageId, failure: 'Cancelled.' })]);
    expect(await alice.store.getMessage(t.messageId)).toBeUndefined();
    // Cancelling the failed one dismisses it.
    await alice.messenger.cancelTransfer(t.messageId);
    expect(alice.messenger.getState().transfers).toBeUndefined();
  });
});

/** Alice sends `bytes` to Bob; resolves once Bob's store has the file message. */
async function sent(bytes: Uint8Array<ArrayBuffer>, name: string) {
  const p = await pair();
  const id = await p.alice.messenger.sendFile(p.aSeesB, new Blob([bytes], { type: 'application/octet-stream' }), { name });
  await expect.poll(async () => (await p.bob.store.getMessage(id))?.attachment, { timeout: 10_000 }).toBeDefined();
  const ref = (await p.bob.store.getMessage(id))!.attachment!;
  return { ...p, id, ref, blobFile: join(p.r.dataDir, 'blobs', ref.blobId) };
}

describe('downloading a file', () => {
  it('Bob gets exactly the bytes Alice sent (3 MiB), with progress, and the relay drops the blob once he acknowledged it', async () => {
    const bytes = fileBytes(3 * MIB) as Uint8Array<ArrayBuffer>;
    const { bob, id, bobHttp, blobFile } = await sent(bytes, 'photo.raw');
    const progress = recordTransfers(bob);
    const blob = await bob.messenger.downloadAttachment(id);
    expect(blob.size).toBe(bytes.length);
    expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    const downs = progress.flat().filter((t) => t.messageId === id);
    expect(downs[0]).toMatchObject({ direction: 'down', name: 'photo.raw', done: 0 });
    expect(downs.at(-1)!.done).toBe(downs.at(-1)!.total);
    expect(bob.messenger.getState().transfers).toBeUndefined();
    expect(bob.metrics.snapshot().counters['attachment.downloaded']).toBe(1);

    // Acknowledged: the relay deleted it (the only recipient has it), and says so.
    expect(bobHttp.requests.filter((r) => r.endsWith('/ack'))).toHaveLength(1);
    await expect.poll(() => existsSync(blobFile)).toBe(false);
    await expect(bob.messenger.downloadAttachment(id)).rejects.toMatchObject({ kind: 'refused', status: 404 });
    expect(bob.messenger.getState().transfers).toEqual([expect.objectContaining({ messageId: id, failure: 'The file is no longer on the relay.' })]);
  });

  it('a blob altered on the relay’s disk is a typed error on that file; the message stays, nothing is acknowledged', async () => {
    const bytes = fileBytes(2 * MIB + 5) as Uint8Array<ArrayBuffer>;
    const { bob, id, bobHttp, blobFile } = await sent(bytes, 'notes.txt');
    const stored = readFileSync(blobFile);
    stored[200_000] = stored[200_000]! ^ 0x01;
    writeFileSync(blobFile, stored);

    const failure = await bob.messenger.downloadAttachment(id).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toMatchObject({ name: 'AttachmentTamperedError', kind: 'tampered' });
    expect(bob.messenger.getState().transfers).toEqual([expect.objectContaining({ messageId: id, failure: 'The file on the relay was altered or damaged; it was not saved.' })]);
    expect(bob.metrics.snapshot().counters['attachment.failure.tampered']).toBe(1);
    expect(bobHttp.requests.filter((r) => r.endsWith('/ack'))).toEqual([]);
    expect(await bob.store.getMessage(id)).toMatchObject({ direction: 'in', attachment: { name: 'notes.txt' } });
  });

  it('a blob cut short on the relay’s disk is a truncated file at once (the relay refuses it as damaged; nothing retried or acknowledged)', async () => {
    const bytes = fileBytes(1 * MIB) as Uint8Array<ArrayBuffer>;
    const { r, bob, id, blobFile, bobHttp } = await sent(bytes, 'cut.bin');
    const stored = readFileSync(blobFile);
    writeFileSync(blobFile, stored.subarray(0, 300_000));
    const started = Date.now();
    const err = await bob.messenger.downloadAttachment(id).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AttachmentTruncatedError', kind: 'truncated' });
    // One request, no backoff: the relay said what is wrong before sending a byte.
    expect(bobHttp.requests.filter((q) => q.startsWith('GET '))).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(bob.messenger.getState().transfers?.[0]?.failure).toBe('The file on the relay is incomplete.');
    expect(bob.metrics.snapshot().counters['attachment.failure.truncated']).toBe(1);
    expect(bobHttp.requests.filter((q) => q.endsWith('/ack'))).toEqual([]);
    const damaged = (await r.relay.metrics.blobRequests.get()).values.find((v) => v.labels.op === 'get' && v.labels.result === 'damaged');
    expect(damaged?.value).toBe(1);
    expect(await bob.store.getMessage(id)).toBeDefined();
  });

  it('a message without a file is refused as such', async () => {
    const { bob } = await pair();
    await expect(bob.messenger.downloadAttachment('00'.repeat(16))).rejects.toMatchObject({ kind: 'no_attachment' });
  });
});
