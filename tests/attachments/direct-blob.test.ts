/**
 * The direct path's file protocol (docs/PROTOCOL.md §14.8) between a sender and a
 * receiver over an in-memory channel: the receiver's saved parts are exactly the sealed
 * blob; a channel lost after any number of frames leaves the sender with the receiver's
 * durable count, never more, and at most one part and one frame sent beyond it; frames
 * out of step or from a stranger are refused and counted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/core/bytes.ts';
import { sealAttachment } from '../../src/core/attachments/attachment-encryptor.ts';
import { DirectBlobReceiver } from '../../src/core/attachments/direct-blob-receiver.ts';
import { sendBlobDirect } from '../../src/core/attachments/direct-blob-sender.ts';
import { TransferJournal } from '../../src/core/attachments/transfer-journal.ts';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import type { BlobFrame, BlobLink } from '../../src/core/transport/direct-transport.ts';
import type { P2pBlobAckFrame } from '../../src/core/wire/index.ts';
import { chunked, fileBytes, runtime } from './helpers.ts';

const PART = 512 * 1024;
const WINDOW = 256 * 1024;
const PEER = new Uint8Array(32).fill(9);
const MESSAGE = new Uint8Array(16).fill(4);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Byte equality without vitest's element-by-element diff (slow for megabytes). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** A sender and a receiver joined by an ordered in-memory channel that can be cut after `cutAfter` blob frames. */
function rig(cutAfter = Infinity, known = true, muteAcksFrom = Infinity) {
  const store = createMemoryStore({ now: () => Date.now() });
  const journal = new TransferJournal(store);
  const metrics = new InMemoryMetrics();
  let ackHandler: ((ack: P2pBlobAckFrame) => void) | undefined;
  const acks: P2pBlobAckFrame[] = [];
  let open = true;
  let frames = 0;
  let sentBytes = 0;
  const goneListeners: Array<() => void> = [];
  const cut = () => {
    if (!open) return;
    open = false;
    for (const l of goneListeners) l();
  };
  const receiver = new DirectBlobReceiver({
    journal,
    contactOf: () => (known ? 'contact-1' : undefined),
    sendAck: (_to, ack) => {
      acks.push(ack);
      // From `muteAcksFrom` saved bytes on, acks are lost as on a path that died under a live channel.
      if (open && ack.saved < muteAcksFrom) queueMicrotask(() => open && ackHandler?.(ack));
    },
    messageExists: async () => false,
    metrics,
    log: silentLogger,
    partBytes: PART,
    windowBytes: WINDOW,
  });
  const link: BlobLink = {
    get isOpen() {
      return open;
    },
    send(frame: BlobFrame) {
      if (!open) return false;
      if (frame.t === 'p2p.blob') {
        if (frames >= cutAfter) {
          cut();
          return false;
        }
        frames++;
        sentBytes += frame.data.length;
        queueMicrotask(() => open && receiver.receive(PEER, frame));
      }
      return true;
    },
    bufferedAmount: undefined,
    drained: () => Promise.resolve(),
    onGone: (l) => {
      goneListeners.push(l);
      return () => {};
    },
  };
  const send = (size: number) => {
    const bytes = fileBytes(size, 5);
    const sealed = sealAttachment(chunked(bytes, [70_000]), { size, runtime });
    const blob: Uint8Array[] = [];
    const tee = (async function* () {
      for await (const c of sealed.chunks) {
        blob.push(c.slice());
        yield c;
      }
    })();
    const outcome = sendBlobDirect({
      link,
      clock: systemClock,
      messageId: MESSAGE,
      total: sealed.blobBytes,
      chunks: tee,
      acks: (h) => {
        ackHandler = h;
        return () => (ackHandler = undefined);
      },
      windowBytes: WINDOW,
      stallMs: 2_000,
    });
    return { outcome, sealed, blob: () => concatBytes(...blob) };
  };
  const saved = async (): Promise<Uint8Array> => {
    await receiver.idle();
    const r = await journal.get(hex(MESSAGE));
    if (r?.kind !== 'down') return new Uint8Array(0);
    const parts: Uint8Array[] = [];
    for await (const p of journal.parts(r)) parts.push(p);
    return concatBytes(...parts);
  };
  return { send, saved, receiver, journal, metrics, acks, sentBytes: () => sentBytes, cut };
}

describe('a blob over the direct path', () => {
  it('arrives whole: the receiver’s saved parts are the sealed blob, marked direct', async () => {
    const r = rig();
    const { outcome, sealed, blob } = r.send(2_500_000);
    await expect(outcome).resolves.toEqual({ complete: true });
    expect(same(await r.saved(), blob())).toBe(true);
    expect(await r.journal.get(hex(MESSAGE))).toMatchObject({ kind: 'down', direct: true, contactId: 'contact-1', saved: sealed.blobBytes, total: sealed.blobBytes });
    expect(r.metrics.counter('attachment.direct.received')).toBe(1);
    expect(r.sentBytes()).toBe(sealed.blobBytes);
  });

  it('property: cut after any number of frames, the sender keeps the receiver’s durable count and sent at most a part and a frame beyond it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 20 }), async (cutAfter) => {
        const r = rig(cutAfter);
        const { outcome, blob } = r.send(2_500_000);
        const result = await outcome;
        const held = await r.saved();
        if (result.complete) {
          expect(same(held, blob())).toBe(true);
          return;
        }
        expect(result.reason).toBe('closed');
        // What the sender will not send again is durable at the receiver, and is the blob's prefix.
        expect(held.length).toBeGreaterThanOrEqual(result.saved);
        expect(same(held, blob().subarray(0, held.length))).toBe(true);
        expect(r.sentBytes() - result.saved).toBeLessThanOrEqual(PART + 64 * 1024);
      }),
      { numRuns: 25 },
    );
  });

  it('a frame out of step is refused with an ack of where the receiver stands; a stranger’s frames are not taken', async () => {
    const r = rig();
    r.receiver.receive(PEER, { t: 'p2p.blob', id: MESSAGE, total: 8192, off: 4096, data: new Uint8Array(10) });
    expect(r.metrics.counter('attachment.direct.refused', { reason: 'offset' })).toBe(1);
    expect(r.acks.at(-1)).toMatchObject({ got: 0, saved: 0 });
    r.receiver.receive(PEER, { t: 'p2p.blob', id: MESSAGE, total: 200 * 1024 * 1024, off: 0, data: new Uint8Array(10) });
    expect(r.metrics.counter('attachment.direct.refused', { reason: 'size' })).toBe(1);

    const stranger = rig(Infinity, false);
    stranger.receiver.receive(PEER, { t: 'p2p.blob', id: MESSAGE, total: 8192, off: 0, data: new Uint8Array(8192) });
    await stranger.receiver.idle();
    expect(stranger.metrics.counter('attachment.direct.refused', { reason: 'unknown_peer' })).toBe(1);
    expect(await stranger.journal.get(hex(MESSAGE))).toBeUndefined();
  });

  it('acks that stop coming (a path dead under a live channel) end the send as stalled, with the last durable count heard', async () => {
    const r = rig(Infinity, true, 2 * PART);
    const result = await r.send(3_000_000).outcome;
    expect(result).toEqual({ complete: false, reason: 'stalled', saved: PART });
    expect((await r.saved()).length).toBeGreaterThanOrEqual(PART);
  });
});
