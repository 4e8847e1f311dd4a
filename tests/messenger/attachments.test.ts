/**
 * Files between two complete cores through the real relay (its WebSocket for messages,
 * its signed /blobs endpoints over fetch for the encrypted file): sending refuses an
 * oversized file before any upload, uploads and queues the `file` message exactly once,
 * and shows progress; the recipient downloads, verifies and decrypts it.
 */
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
  });

  it('uploads, queues the file message once, shows progress, and both sides keep the descriptor', async () => {
    const { alice, bob, aSeesB, bSeesA, aliceHttp } = await pair();
    const bytes = fileBytes(3 * MIB + 17) as Uint8Array<ArrayBuffer>;
    const progress = recordTransfers(alice);
    const id = await alice.messenger.sendFile(aSeesB, new Blob([bytes], { type: 'application/pdf' }), { name: 'report.pdf', caption: 'the report' });

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
  });
});
