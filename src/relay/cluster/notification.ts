import type { PreKeyCounts } from '../prekeys/prekey-store.ts';

/** Bytes of a node id (random per process). */
export const NODE_ID_BYTES = 8;

/** Envelopes up to this size travel inside their notification; larger ones are read from PostgreSQL by the recipient's node. */
export const INLINE_BODY_MAX = 16 * 1024;

/**
 * What one node tells the others about a mailbox, on the mailbox's Redis channel.
 * The channel names the mailbox, so it is not repeated here.
 */
export type Notification =
  | { readonly kind: 'deposit'; readonly node: string; readonly seq: number; readonly prev: number; readonly env?: { readonly id: Uint8Array; readonly body: Uint8Array } }
  | { readonly kind: 'signal'; readonly node: string; readonly blob: Uint8Array }
  | { readonly kind: 'prekeys_low'; readonly node: string; readonly counts: PreKeyCounts }
  /** On an account's channel: it stored device list `version`, without the `removed` device ids (16 bytes each). */
  | { readonly kind: 'devices_changed'; readonly node: string; readonly version: number; readonly removed: readonly Uint8Array[] }
  /** On the cluster-wide channel: "I could not publish for a while; every node, re-read every mailbox once." */
  | { readonly kind: 'resync'; readonly node: string };

const KIND = { deposit: 1, signal: 2, prekeys_low: 3, resync: 4, devices_changed: 5 } as const;
const DEVICE_ID_LENGTH = 16;
const HEADER = 1 + NODE_ID_BYTES;

export class NotificationError extends Error {
  override readonly name = 'NotificationError';
}

/**
 * Layout: kind (1 byte), node id (8), then per kind —
 * deposit: seq (u64), prev (u64), id length (u16), id, body (the rest; id length 0xffff = no envelope inline);
 * signal: blob (the rest); prekeys_low: opks (u32), pqopks (u32); resync: nothing;
 * devices_changed: version (u32), then the removed device ids (16 bytes each).
 */
export function encodeNotification(n: Notification): Buffer {
  const head = Buffer.alloc(HEADER);
  head[0] = KIND[n.kind];
  Buffer.from(n.node, 'hex').copy(head, 1);
  switch (n.kind) {
    case 'deposit': {
      const fixed = Buffer.alloc(18);
      fixed.writeBigUInt64BE(BigInt(n.seq), 0);
      fixed.writeBigUInt64BE(BigInt(n.prev), 8);
      fixed.writeUInt16BE(n.env ? n.env.id.length : 0xffff, 16);
      return n.env ? Buffer.concat([head, fixed, n.env.id, n.env.body]) : Buffer.concat([head, fixed]);
    }
    case 'signal':
      return Buffer.concat([head, n.blob]);
    case 'prekeys_low': {
      const counts = Buffer.alloc(8);
      counts.writeUInt32BE(n.counts.opks, 0);
      counts.writeUInt32BE(n.counts.pqopks, 4);
      return Buffer.concat([head, counts]);
    }
    case 'resync':
      return head;
    case 'devices_changed': {
      const version = Buffer.alloc(4);
      version.writeUInt32BE(n.version, 0);
      return Buffer.concat([head, version, ...n.removed]);
    }
  }
}

const copy = (b: Buffer): Uint8Array => new Uint8Array(b);

/** Parses a notification; throws NotificationError on anything that is not one. */
export function decodeNotification(b: Buffer): Notification {
  if (b.length < HEADER) throw new NotificationError('short notification');
  const node = b.subarray(1, HEADER).toString('hex');
  const rest = b.subarray(HEADER);
  switch (b[0]) {
    case KIND.deposit: {
      if (rest.length < 18) throw new NotificationError('short deposit notification');
      const seq = Number(rest.readBigUInt64BE(0));
      const prev = Number(rest.readBigUInt64BE(8));
      const idLen = rest.readUInt16BE(16);
      if (idLen === 0xffff) return { kind: 'deposit', node, seq, prev };
      if (rest.length < 18 + idLen) throw new NotificationError('short envelope id');
      return { kind: 'deposit', node, seq, prev, env: { id: copy(rest.subarray(18, 18 + idLen)), body: copy(rest.subarray(18 + idLen)) } };
    }
    case KIND.signal:
      return { kind: 'signal', node, blob: copy(rest) };
    case KIND.prekeys_low:
      if (rest.length < 8) throw new NotificationError('short prekeys_low notification');
      return { kind: 'prekeys_low', node, counts: { opks: rest.readUInt32BE(0), pqopks: rest.readUInt32BE(4) } };
    case KIND.resync:
      return { kind: 'resync', node };
    case KIND.devices_changed: {
      if (rest.length < 4 || (rest.length - 4) % DEVICE_ID_LENGTH !== 0) throw new NotificationError('bad devices_changed notification');
      const removed: Uint8Array[] = [];
      for (let at = 4; at < rest.length; at += DEVICE_ID_LENGTH) removed.push(copy(rest.subarray(at, at + DEVICE_ID_LENGTH)));
      return { kind: 'devices_changed', node, version: rest.readUInt32BE(0), removed };
    }
    default:
      throw new NotificationError(`unknown notification kind ${b[0]}`);
  }
}
