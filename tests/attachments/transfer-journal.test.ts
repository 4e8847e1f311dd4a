/**
 * The resumption bookkeeping of docs/PROTOCOL.md §14.7: the transfer journal survives a
 * restart (a new journal over the same store), a download's saved parts read back exactly
 * and are deleted with it, damaged entries are dropped rather than trusted, and a download
 * cut off mid-way continues after a "reload" fetching only the bytes not yet saved, and
 * decrypts byte for byte.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openAttachment } from '../../src/core/attachments/attachment-decryptor.ts';
import type { BlobHttp, BlobHttpRequest } from '../../src/core/attachments/blob-http.ts';
import { resumableBlob } from '../../src/core/attachments/resumable-download.ts';
import {
  JOURNAL_KEY,
  JOURNAL_MAX_TRANSFERS,
  JournalClosedError,
  JournalPartMissingError,
  TransferJournal,
  partKey,
  type DownloadRecord,
  type UploadRecord,
} from '../../src/core/attachments/transfer-journal.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createMemoryStore } from '../../src/core/store/memory-store.ts';
import { collect, fileBytes, runtime, seal } from './helpers.ts';

const store = () => createMemoryStore({ now: () => 1_000 });
const id = (n: number) => n.toString(16).padStart(32, '0');

function upload(n: number, over: Partial<UploadRecord> = {}): UploadRecord {
  return {
    kind: 'up',
    messageId: id(n),
    contactId: 'ab'.repeat(16),
    name: `file${n}.bin`,
    mime: 'application/octet-stream',
    size: 1000 + n,
    caption: '',
    blobId: new Uint8Array(16).fill(n),
    key: new Uint8Array(32).fill(n + 1),
    stored: 0,
    total: 70_000,
    ...over,
  };
}

function download(n: number, total: number): DownloadRecord {
  return { kind: 'down', messageId: id(n), contactId: 'cd'.repeat(16), name: `got${n}.bin`, parts: 0, saved: 0, total };
}

describe('transfer journal', () => {
  it('keeps uploads and downloads across a restart (a new journal over the same store)', async () => {
    const s = store();
    const a = new TransferJournal(s);
    await a.put(upload(1, { preview: new Uint8Array([1, 2, 3]), caption: 'hi', stored: 4096 }));
    await a.put(download(2, 500));
    const b = new TransferJournal(s);
    expect(await b.list()).toEqual([upload(1, { preview: new Uint8Array([1, 2, 3]), caption: 'hi', stored: 4096 }), download(2, 500)]);
    expect(await b.findUpload('ab'.repeat(16), 'file1.bin', 1001, 'application/octet-stream')).toMatchObject({ messageId: id(1) });
    // Another size, name, type or contact is another file.
    expect(await b.findUpload('ab'.repeat(16), 'file1.bin', 1002, 'application/octet-stream')).toBeUndefined();
    expect(await b.findUpload('ab'.repeat(16), 'file1.bin', 1001, 'image/png')).toBeUndefined();
    expect(await b.findUpload('cd'.repeat(16), 'file1.bin', 1001, 'application/octet-stream')).toBeUndefined();
    await b.put(upload(1, { stored: 8192 }));
    expect(await new TransferJournal(s).get(id(1))).toMatchObject({ stored: 8192 });
    await b.remove(id(1));
    expect(await new TransferJournal(s).list()).toEqual([download(2, 500)]);
  });

  it('saves a download in parts, reads them back exactly, and deletes them with it', async () => {
    const s = store();
    const j = new TransferJournal(s);
    await j.put(download(3, 25));
    await j.appendPart(id(3), new Uint8Array(10).fill(7));
    const r = await j.appendPart(id(3), new Uint8Array(10).fill(8));
    expect(r).toMatchObject({ parts: 2, saved: 20 });
    await expect(j.appendPart(id(3), new Uint8Array(6))).rejects.toThrow(RangeError); // past the blob's end
    const again = (await new TransferJournal(s).get(id(3))) as DownloadRecord;
    expect(await collect(new TransferJournal(s).parts(again))).toEqual(new Uint8Array([...new Array(10).fill(7), ...new Array(10).fill(8)]));
    // A crash between writing a part and counting it leaves an uncounted part: removed too.
    await s.setMeta(partKey(id(3), 2), new Uint8Array(5));
    await j.remove(id(3));
    for (let n = 0; n <= 2; n++) expect(await s.getMeta(partKey(id(3), n))).toBeUndefined();
    expect(await j.list()).toEqual([]);
  });

  it('a missing part is reported, not read past', async () => {
    const s = store();
    const j = new TransferJournal(s);
    await j.put(download(4, 100));
    await j.appendPart(id(4), new Uint8Array(10));
    await j.appendPart(id(4), new Uint8Array(10));
    await s.deleteMeta(partKey(id(4), 1));
    await expect(collect(j.parts((await j.get(id(4))) as DownloadRecord))).rejects.toBeInstanceOf(JournalPartMissingError);
  });

  it('forgets the oldest past its cap, with its parts', async () => {
    const s = store();
    const j = new TransferJournal(s);
    await j.put(download(0, 10));
    await j.appendPart(id(0), new Uint8Array(10));
    for (let n = 1; n <= JOURNAL_MAX_TRANSFERS; n++) await j.put(upload(n));
    const left = await j.list();
    expect(left).toHaveLength(JOURNAL_MAX_TRANSFERS);
    expect(left.some((r) => r.messageId === id(0))).toBe(false);
    expect(await s.getMeta(partKey(id(0), 0))).toBeUndefined();
  });

  it('once closed (its core stopped), writes nothing more', async () => {
    const s = store();
    const j = new TransferJournal(s);
    await j.put(download(11, 100));
    await j.appendPart(id(11), new Uint8Array(10));
    // Queued as the core stops: written whole or refused whole, settled when close() resolves.
    const late = j.appendPart(id(11), new Uint8Array(10)).then(
      () => 'written',
      (e: unknown) => (e instanceof JournalClosedError ? 'refused' : 'failed'),
    );
    await j.close();
    expect(['written', 'refused']).toContain(await late);
    await expect(j.appendPart(id(11), new Uint8Array(10))).rejects.toBeInstanceOf(JournalClosedError);
    await expect(j.remove(id(11))).rejects.toBeInstanceOf(JournalClosedError);
    const next = new TransferJournal(s);
    const r = (await next.get(id(11))) as DownloadRecord;
    expect((await collect(next.parts(r))).length).toBe(r.saved);
  });

  it('drops damaged entries and damaged JSON instead of trusting them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.json()), async (raw) => {
        const s = store();
        await s.setMeta(JOURNAL_KEY, raw);
        const list = await new TransferJournal(s).list();
        for (const r of list) {
          expect(r.messageId).toMatch(/^[0-9a-f]{32}$/u);
          if (r.kind === 'up') expect([r.blobId.length, r.key.length]).toEqual([16, 32]);
          else expect(r.saved).toBeLessThanOrEqual(r.total);
        }
      }),
      { numRuns: 200 },
    );
    const s = store();
    const good = upload(5);
    await new TransferJournal(s).put(good);
    const stored = JSON.parse((await s.getMeta(JOURNAL_KEY)) as string) as Record<string, unknown>[];
    await s.setMeta(JOURNAL_KEY, JSON.stringify([...stored, { ...stored[0], messageId: id(6), key: 'zz' }, { kind: 'down', messageId: id(7), contactId: 'x', name: 'n', parts: 1, saved: 9, total: 5 }]));
    expect(await new TransferJournal(s).list()).toEqual([good]);
  });
});

/** The relay's GET (with Range: `bytes=a-` or the suffix `bytes=-n` downloads ask with) over a blob held in memory; `cutAfter` ends every body after that many bytes. */
function memoryRelay(blob: Uint8Array, cutAfter = Infinity): BlobHttp & { fetched: number; ranges: number[] } {
  const relay = {
    fetched: 0,
    ranges: [] as number[],
    async send(req: BlobHttpRequest) {
      const range = /^bytes=(\d*)-(\d*)$/u.exec(req.headers.Range ?? '');
      const from = !range ? 0 : range[1] ? Number(range[1]) : Math.max(0, blob.length - Number(range[2]));
      relay.ranges.push(from);
      const body = blob.subarray(from, Math.min(blob.length, from + cutAfter));
      relay.fetched += body.length;
      async function* pieces() {
        for (let o = 0; o < body.length; o += 50_000) yield body.subarray(o, o + 50_000);
      }
      return { status: req.headers.Range ? 206 : 200, header: () => undefined, body: pieces(), discard: async () => {} };
    },
  };
  return relay;
}

describe('a download resumed after a reload', () => {
  const account = { identityKey: new Uint8Array(32), sign: () => new Uint8Array(64) };
  const PART = 128 * 1024;

  it('fetches only what was not saved, and decrypts byte for byte', async () => {
    const file = fileBytes(700_000);
    const s = await seal(file);
    const ref = { blobId: new Uint8Array(16), key: s.key, size: file.length, digest: s.digest };
    const st = store();
    const first = new TransferJournal(st);
    await first.put(download(9, s.blob.length));
    // The first run reads 400 KB of plaintext and then the tab goes away.
    const relay1 = memoryRelay(s.blob);
    const options1 = { http: relay1, account, runtime, clock: systemClock };
    let taken = 0;
    for await (const piece of openAttachment(resumableBlob(ref, options1, first, download(9, s.blob.length), PART), { key: s.key, size: file.length, digest: s.digest, runtime })) {
      taken += piece.length;
      if (taken >= 400_000) break;
    }
    const saved = (await new TransferJournal(st).get(id(9))) as DownloadRecord;
    expect(saved.saved % PART).toBe(0);
    expect(saved.saved).toBeGreaterThanOrEqual(PART);
    // The reload: a new journal over the same store.
    const second = new TransferJournal(st);
    const relay2 = memoryRelay(s.blob, 200_000); // and the connection drops every 200 KB on the way
    const options2 = { http: relay2, account, runtime, clock: systemClock };
    const got = await collect(openAttachment(resumableBlob(ref, options2, second, saved, PART), { key: s.key, size: file.length, digest: s.digest, runtime }));
    expect(got).toEqual(file);
    expect(relay2.ranges[0]).toBe(saved.saved);
    expect(relay2.fetched).toBe(s.blob.length - saved.saved);
  });

  it('a saved part altered on disk fails verification instead of giving wrong bytes', async () => {
    const file = fileBytes(300_000);
    const s = await seal(file);
    const ref = { blobId: new Uint8Array(16), key: s.key, size: file.length, digest: s.digest };
    const st = store();
    const j = new TransferJournal(st);
    await j.put(download(10, s.blob.length));
    const bad = s.blob.slice(0, PART);
    bad[PART - 100]! ^= 1;
    const record = await j.appendPart(id(10), bad);
    const options = { http: memoryRelay(s.blob), account, runtime, clock: systemClock };
    await expect(collect(openAttachment(resumableBlob(ref, options, j, record, PART), { key: s.key, size: file.length, digest: s.digest, runtime }))).rejects.toThrow();
  });
});
