/**
 * The link's transfer channel: what the existing device seals for the device whose request
 * it accepted opens, in order, only there. Properties: any transfer round-trips; a chunk
 * changed in any bit, its `last` flag flipped, dropped, repeated or reordered is refused
 * with its typed error and the receiver still waits for the same chunk; someone holding the
 * link secret but not the requesting device's key reads nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.ts';
import { acceptLinkRequest, buildLinkRequest, createLinkOffer, formatLink, parseLink } from '../../src/core/devices/link-offer.ts';
import { LinkError, LinkTamperedError, LinkTransferFinishedError, LinkTransferOrderError } from '../../src/core/devices/link-errors.ts';
import { LinkReceiver, LinkSender, MAX_LINK_CHUNK_BYTES, type LinkChunk } from '../../src/core/devices/link-transfer.ts';
import { generateDeviceKey } from '../../src/core/devices/device-key.ts';
import { DEVICE_ID_BYTES } from '../../src/core/wire/index.ts';

const T0 = 1_800_000_000_000;

/** A link offered, opened by a new device, its request accepted; both ends of the transfer. */
function linked(seed: number) {
  const random = seededRandom(seed);
  const offer = createLinkOffer(random, T0);
  const link = parseLink(formatLink(offer), T0 + 1);
  const key = generateDeviceKey(random);
  const id = random.bytes(DEVICE_ID_BYTES);
  const used = acceptLinkRequest(offer, buildLinkRequest(link, { id, key: key.publicKey }), T0 + 2);
  const sender = LinkSender.open(offer.secret, used.channel, used.device, random);
  const receiver = LinkReceiver.open(link.secret, link.keys.channel, id, key, sender.start);
  return { random, offer, link, key, id, sender, receiver };
}

async function sealAll(sender: LinkSender, parts: readonly Uint8Array[]): Promise<LinkChunk[]> {
  const out: LinkChunk[] = [];
  for (let i = 0; i < parts.length; i++) out.push(await sender.seal(parts[i]!, i === parts.length - 1));
  return out;
}

async function refusal(p: Promise<unknown>): Promise<LinkError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof LinkError)) throw new Error(`expected a LinkError, got ${String(err)}`);
  return err;
}

const arbParts = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 6 });

describe('link transfer', () => {
  it('round-trips any transfer, in order, and ends complete', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1e6 }), arbParts, async (seed, parts) => {
        const { sender, receiver } = linked(seed);
        const chunks = await sealAll(sender, parts);
        const got: Uint8Array[] = [];
        for (const c of chunks) got.push(await receiver.open(c));
        expect(got).toEqual(parts);
        expect(receiver.state).toEqual({ status: 'complete', chunks: parts.length });
      }),
      { numRuns: 40 },
    );
  });

  it('a changed bit or a flipped last flag is tampering; nothing advances', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1e6 }), arbParts, fc.nat(), fc.nat(), async (seed, parts, which, bit) => {
        const { sender, receiver } = linked(seed);
        const chunks = await sealAll(sender, parts);
        const i = which % chunks.length;
        for (let k = 0; k < i; k++) await receiver.open(chunks[k]!);
        const c = chunks[i]!;
        const box = c.box.slice();
        box[bit % box.length]! ^= 1 << bit % 8;
        expect(await refusal(receiver.open({ ...c, box }))).toBeInstanceOf(LinkTamperedError);
        expect(await refusal(receiver.open({ ...c, last: !c.last }))).toBeInstanceOf(LinkTamperedError);
        expect(receiver.state).toEqual({ status: 'receiving', next: i });
        // The genuine chunk still opens afterwards.
        expect(await receiver.open(c)).toEqual(parts[i]);
      }),
      { numRuns: 40 },
    );
  });

  it('a dropped, repeated or reordered chunk is out of order; a chunk after the last, or a seal after it, is finished', async () => {
    const { sender, receiver } = linked(7);
    const parts = [1, 2, 3].map((n) => new Uint8Array(10).fill(n));
    const [a, b, c] = await sealAll(sender, parts);
    expect(await refusal(receiver.open(b!))).toBeInstanceOf(LinkTransferOrderError);
    await receiver.open(a!);
    expect(await refusal(receiver.open(a!))).toBeInstanceOf(LinkTransferOrderError);
    expect(await refusal(receiver.open(c!))).toBeInstanceOf(LinkTransferOrderError);
    expect(receiver.state).toEqual({ status: 'receiving', next: 1 });
    await receiver.open(b!);
    await receiver.open(c!);
    expect(await refusal(receiver.open(c!))).toBeInstanceOf(LinkTransferFinishedError);
    expect(await refusal(sender.seal(new Uint8Array(1), true))).toBeInstanceOf(LinkTransferFinishedError);
    // Two opens of the same chunk at once: one takes it, the other is the repeat.
    const second = linked(8);
    const [x] = await sealAll(second.sender, [new Uint8Array(5)]);
    const both = await Promise.allSettled([second.receiver.open(x!), second.receiver.open(x!)]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(second.receiver.state).toEqual({ status: 'complete', chunks: 1 });
  });

  it('the link secret alone does not read it: another device key, or a start for another link, is refused', async () => {
    const { link, id, sender } = linked(9);
    const [chunk] = await sealAll(sender, [new Uint8Array(32).fill(0xaa)]);
    const eavesdropper = LinkReceiver.open(link.secret, link.keys.channel, id, generateDeviceKey(seededRandom(99)), sender.start);
    expect(await refusal(eavesdropper.open(chunk!))).toBeInstanceOf(LinkTamperedError);
    const other = linked(10);
    expect(() => LinkReceiver.open(link.secret, link.keys.channel, id, other.key, other.sender.start)).toThrow(LinkTamperedError);
    expect(() => LinkReceiver.open(link.secret, link.keys.channel, id, other.key, { channel: link.keys.channel, ephemeral: new Uint8Array(32) })).toThrow(LinkTamperedError);
  });

  it('refuses to seal more than one chunk can carry', async () => {
    const { sender } = linked(11);
    await expect(sender.seal(new Uint8Array(MAX_LINK_CHUNK_BYTES + 1), false)).rejects.toBeInstanceOf(RangeError);
    const ok = await sender.seal(new Uint8Array(MAX_LINK_CHUNK_BYTES), true);
    expect(ok.box.length).toBe(MAX_LINK_CHUNK_BYTES + 16);
  });
});
