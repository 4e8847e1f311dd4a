/**
 * What crosses Redis on a link channel's pub/sub channel (RedisLinkChannels): the channel
 * name says which link channel, so a notice carries only its kind, which end it comes
 * from, and for data the end's opaque bytes. The relay adds nothing it did not already see.
 */

/** The end that opened a channel (the existing device) and the end that joined it (the new one). */
export type LinkRole = 'holder' | 'joiner';

export type LinkNotice =
  /** `from`'s `link.data`, already counted against the channel's budget. */
  | { readonly kind: 'data'; readonly from: LinkRole; readonly data: Uint8Array }
  /** `from` left (its connection closed, or its channel expired or failed there): the channel ended. */
  | { readonly kind: 'closed'; readonly from: LinkRole }
  /** `from`'s connection took `bytes` more of its peer's data off the relay (flow control: the peer may send that much more). */
  | { readonly kind: 'ack'; readonly from: LinkRole; readonly bytes: number };

const KIND = { data: 1, closed: 2, ack: 3 } as const;
const KIND_NAMES = ['data', 'closed', 'ack'] as const;
const ROLE = { holder: 0, joiner: 1 } as const;
const ROLE_NAMES = ['holder', 'joiner'] as const;
const HEADER = 2;
const ACK_BYTES = 4;

export class LinkNoticeError extends Error {
  override readonly name = 'LinkNoticeError';
}

export const otherRole = (role: LinkRole): LinkRole => (role === 'holder' ? 'joiner' : 'holder');

/** Layout: kind (1 byte), from (1 byte: 0 holder, 1 joiner), then — data: the bytes (the rest); ack: bytes (u32); closed: nothing. */
export function encodeLinkNotice(n: LinkNotice): Buffer {
  const head = Buffer.of(KIND[n.kind], ROLE[n.from]);
  switch (n.kind) {
    case 'data':
      return Buffer.concat([head, n.data]);
    case 'closed':
      return head;
    case 'ack': {
      const bytes = Buffer.alloc(ACK_BYTES);
      bytes.writeUInt32BE(n.bytes, 0);
      return Buffer.concat([head, bytes]);
    }
  }
}

/** Parses a notice; throws LinkNoticeError on anything that is not exactly one. */
export function decodeLinkNotice(b: Buffer): LinkNotice {
  if (b.length < HEADER) throw new LinkNoticeError('short link notice');
  const kind = KIND_NAMES[(b[0] ?? 0) - 1];
  const from = ROLE_NAMES[b[1] ?? 2];
  if (!kind) throw new LinkNoticeError(`unknown link notice kind ${b[0]}`);
  if (!from) throw new LinkNoticeError(`unknown link end ${b[1]}`);
  const rest = b.length - HEADER;
  switch (kind) {
    case 'data':
      return { kind, from, data: new Uint8Array(b.subarray(HEADER)) };
    case 'closed':
      if (rest !== 0) throw new LinkNoticeError(`closed link notice with ${rest} extra bytes`);
      return { kind, from };
    case 'ack':
      if (rest !== ACK_BYTES) throw new LinkNoticeError(`ack link notice of ${rest} bytes`);
      return { kind, from, bytes: b.readUInt32BE(HEADER) };
  }
}
