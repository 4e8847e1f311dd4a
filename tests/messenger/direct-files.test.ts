/**
 * Files over the direct path (docs/PROTOCOL.md §14.8), through the messenger API: two
 * complete cores, the real relay on loopback (its /blobs over fetch), and the WebRTC
 * adapter over the in-memory RTCPeerConnection double. With the channel open the blob
 * goes over it and the relay stores none; a channel cut mid-transfer sends the rest
 * through the relay from where the recipient's saved bytes end; either way the
 * recipient's download verifies every record and the digest, and the message comes once.
 */
import { describe, expect, it } from 'vitest';
import type { BlobHttp } from '../../src/core/attachments/blob-http.ts';
import { partKey } from '../../src/core/attachments/transfer-journal.ts';
import type { Messenger } from '../../src/core/messenger/messenger.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { attachmentBlobLength } from '../../src/core/wire/attachment-layout.ts';
import { fetchBlobHttp } from '../../src/platform/fetch-blob-http.ts';
import type { WebRtcDirectPath } from '../../src/platform/webrtc/webrtc-direct-path.ts';
import { fileBytes } from '../attachments/helpers.ts';
import type { TestRelay } from '../relay/helpers/relay-harness.ts';
import { fakeDirectPath } from './fake-direct-path.ts';
import { device, introduce, onboard, testWorld, until, type Device } from './harness.ts';

const MIB = 1024 * 1024;
const { relay, defer } = testWorld();

interface Requests {
  /** `METHOD path` of every request, and the body bytes of each PATCH. */
  readonly requests: string[];
  patchBytes: number;
}

function countingHttp(base: string): BlobHttp & Requests {
  const inner = fetchBlobHttp(base);
  const counted: BlobHttp & Requests = {
    requests: [],
    patchBytes: 0,
    send(req) {
      counted.requests.push(`${req.method} ${req.path}`);
      if (req.method === 'PATCH') counted.patchBytes += req.body?.length ?? 0;
      return inner.send(req);
    },
  };
  return counted;
}

interface FileDevice extends Device {
  readonly http: BlobHttp & Requests;
  direct(): WebRtcDirectPath;
}

function fileDevice(r: TestRelay): FileDevice {
  let direct: WebRtcDirectPath | undefined;
  const http = countingHttp(r.http);
  const d = device(r.url, createMemoryStore({ now: () => Date.now() }), {
    blobHttp: http,
    createDirect: fakeDirectPath((d) => (direct = d)),
  });
  const fd: FileDevice = { ...d, http, direct: () => direct! };
  defer(() => fd.stop());
  return fd;
}

const isDirect = (id: string) => (s: ReturnType<Messenger['getState']>) => s.contacts.find((c) => c.id === id)?.direct === true;

/** The relay's count of blob requests of one operation (create, patch, get, ack …) that it answered ok. */
async function relayBlobRequests(r: TestRelay, op: string): Promise<number> {
  const m = await r.relay.metrics.blobRequests.get();
  return m.values.filter((v) => v.labels.op === op && v.labels.result === 'ok').reduce((n, v) => n + v.value, 0);
}

async function pairWithChannel() {
  const r = await relay();
  const alice = fileDevice(r);
  const bob = fileDevice(r);
  await onboard(alice, 'Alice');
  await onboard(bob, 'Bob');
  const ids = await introduce(alice, bob);
  await alice.messenger.openChat(ids.aSeesB);
  await bob.messenger.openChat(ids.bSeesA);
  await alice.messenger.send(ids.aSeesB, 'hello');
  await until(alice, isDirect(ids.aSeesB));
  await until(bob, isDirect(ids.bSeesA));
  return { r, alice, bob, ...ids };
}

async function bytesOf(blob: Blob): Promise<Buffer> {
  return Buffer.from(await blob.arrayBuffer());
}

async function fileRows(d: Device, contactId: string) {
  return (await d.store.pageMessages(contactId, { limit: 50 })).messages.filter((m) => m.attachment);
}

describe('files over the direct path', () => {
  it('with the channel open, the blob goes over it: the relay stores no blob, and the file arrives byte-equal, once', async () => {
    const { r, alice, bob, aSeesB, bSeesA } = await pairWithChannel();
    const bytes = fileBytes(9 * MIB + 321) as Uint8Array<ArrayBuffer>;
    const id = await alice.messenger.sendFile(aSeesB, new Blob([bytes], { type: 'application/zip' }), { name: 'photos.zip' });

    await expect.poll(async () => (await bob.store.getMessage(id))?.attachment, { timeout: 10_000 }).toBeDefined();
    const file = await bob.messenger.downloadAttachment(id);
    expect((await bytesOf(file)).equals(bytes)).toBe(true);

    // Nothing of the file touched the relay's /blobs: no create, no chunk, no download, no ack.
    const blobRequests = (d: FileDevice) => d.http.requests.filter((q) => q.includes('/blobs'));
    expect(blobRequests(alice)).toEqual([]);
    expect(blobRequests(bob)).toEqual([]);
    expect(await relayBlobRequests(r, 'create')).toBe(0);
    expect(await relayBlobRequests(r, 'patch')).toBe(0);
    // Which way it went, on both sides.
    expect(alice.metrics.counter('attachment.path', { direction: 'up', path: 'direct' })).toBe(1);
    expect(bob.metrics.counter('attachment.path', { direction: 'down', path: 'direct' })).toBe(1);
    expect(alice.metrics.counter('attachment.direct.sent_bytes')).toBe(attachmentBlobLength(bytes.length));
    expect(bob.metrics.counter('attachment.direct.received')).toBe(1);
    // One message on each side, and the saved parts are gone once downloaded.
    expect(await fileRows(alice, aSeesB)).toHaveLength(1);
    expect(await fileRows(bob, bSeesA)).toHaveLength(1);
    expect(await bob.store.getMeta(partKey(id, 0))).toBeUndefined();
    await until(alice, (s) => s.chat?.messages.find((m) => m.id === id)?.status === 'delivered');
  });

  it('a channel cut mid-transfer sends the rest through the relay from where the recipient saved: byte-equal, once, at most a part sent twice', async () => {
    const { r, alice, bob, aSeesB, bSeesA } = await pairWithChannel();
    const bytes = fileBytes(14 * MIB + 5) as Uint8Array<ArrayBuffer>;
    const total = attachmentBlobLength(bytes.length);
    let cut = false;
    alice.messenger.subscribe(() => {
      const t = alice.messenger.getState().transfers?.[0];
      // Once Bob has saved a part (4 MiB), the channel dies.
      if (!cut && t && t.done >= 4 * MIB && t.done < t.total) {
        cut = true;
        queueMicrotask(() => alice.direct().pause());
      }
    });
    const id = await alice.messenger.sendFile(aSeesB, new Blob([bytes]), { name: 'cut.bin' });
    expect(cut).toBe(true);
    expect(alice.metrics.counter('attachment.direct.fallback', { reason: 'closed' })).toBe(1);
    expect(alice.metrics.counter('attachment.path', { direction: 'up', path: 'direct+relay' })).toBe(1);

    // The relay holds only the tail: what Bob had not saved.
    const sentDirect = alice.metrics.counter('attachment.direct.sent_bytes');
    expect(sentDirect).toBeGreaterThanOrEqual(4 * MIB);
    expect(alice.http.requests.filter((q) => q === 'POST /blobs')).toHaveLength(1);
    expect(alice.http.patchBytes).toBeLessThanOrEqual(total - 4 * MIB);
    // Both paths together carried the blob once, plus at most one part and one frame.
    expect(sentDirect + alice.http.patchBytes).toBeLessThanOrEqual(total + 4 * MIB + 64 * 1024);

    await expect.poll(async () => (await bob.store.getMessage(id))?.attachment, { timeout: 10_000 }).toBeDefined();
    const file = await bob.messenger.downloadAttachment(id);
    expect((await bytesOf(file)).equals(bytes)).toBe(true);
    expect(bob.metrics.counter('attachment.path', { direction: 'down', path: 'direct+relay' })).toBe(1);
    // Bob fetched only the tail by a suffix range, and acknowledged the relay's blob (it is deleted).
    expect(bob.http.requests.filter((q) => q.startsWith('GET '))).toHaveLength(1);
    await expect.poll(async () => relayBlobRequests(r, 'ack')).toBe(1);
    expect(await fileRows(alice, aSeesB)).toHaveLength(1);
    expect(await fileRows(bob, bSeesA)).toHaveLength(1);
  });

  it('bytes altered after they came over the channel fail the download as for the relay, and the message stays', async () => {
    const { alice, bob, aSeesB } = await pairWithChannel();
    const bytes = fileBytes(2 * MIB + 9) as Uint8Array<ArrayBuffer>;
    const id = await alice.messenger.sendFile(aSeesB, new Blob([bytes]), { name: 'notes.txt' });
    await expect.poll(async () => (await bob.store.getMessage(id))?.attachment, { timeout: 10_000 }).toBeDefined();
    const part = (await bob.store.getMeta(partKey(id, 0))) as Uint8Array;
    const altered = part.slice();
    altered[100_000] = altered[100_000]! ^ 1;
    await bob.store.setMeta(partKey(id, 0), altered);
    await expect(bob.messenger.downloadAttachment(id)).rejects.toMatchObject({ kind: 'tampered' });
    expect(bob.metrics.counter('attachment.failure.tampered')).toBe(1);
    expect(await bob.store.getMessage(id)).toBeDefined();
  });

  it('a contact without a channel gets the file through the relay as before', async () => {
    const { r, alice, bob, aSeesB, bSeesA } = await pairWithChannel();
    alice.direct().pause();
    await until(alice, (s) => !isDirect(aSeesB)(s));
    const bytes = fileBytes(300_000) as Uint8Array<ArrayBuffer>;
    const id = await alice.messenger.sendFile(aSeesB, new Blob([bytes]), { name: 'a.bin' });
    await expect.poll(async () => (await bob.store.getMessage(id))?.attachment, { timeout: 10_000 }).toBeDefined();
    expect((await bytesOf(await bob.messenger.downloadAttachment(id))).equals(bytes)).toBe(true);
    expect(await relayBlobRequests(r, 'create')).toBe(1);
    expect(alice.metrics.counter('attachment.path', { direction: 'up', path: 'relay' })).toBe(1);
    expect(bob.metrics.counter('attachment.path', { direction: 'down', path: 'relay' })).toBe(1);
    expect(await fileRows(bob, bSeesA)).toHaveLength(1);
  });
});
