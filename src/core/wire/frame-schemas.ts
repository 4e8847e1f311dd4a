import {
  IDENTITY_KEY_BYTES,
  MAILBOX_ADDRESS_BYTES,
  MAX_ACK_IDS,
  MAX_ENVELOPE_BODY_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_LINK_DATA_BYTES,
  MAX_P2P_BLOB_DATA_BYTES,
  LINK_CHANNEL_ID_BYTES,
  MAX_PREKEYS_PER_UPLOAD,
  MAX_SIGNAL_BLOB_BYTES,
  MAX_WATCH_PER_FRAME,
  MAX_MULTI_RECIPIENTS,
  MESSAGE_ID_BYTES,
  MAX_PUSH_ENDPOINT_BYTES,
  MLKEM768_PUBLIC_KEY_BYTES,
  PUSH_AUTH_BYTES,
  PUSH_P256DH_BYTES,
  NONCE_BYTES,
  SIGNATURE_BYTES,
  X25519_PUBLIC_KEY_BYTES,
} from './limits.ts';
import { ERROR_CODES, type FrameOrigin, type FrameType } from './frames.ts';
import { deviceCertificateSchema, DEVICE_ID_BYTES, signedDeviceListSchema } from './device-list.ts';
import { arrayOf, bool, bytesMax, bytesN, oneOf, struct, text, uint32, type StructSchema } from './schema.ts';

/** The schema of every frame type's fields (besides `v` and `t`), mirroring frames.ts. */
export const envelopeSchema = struct({
  to: bytesN(MAILBOX_ADDRESS_BYTES),
  id: bytesN(MESSAGE_ID_BYTES),
  body: bytesMax(MAX_ENVELOPE_BODY_BYTES),
});

const signedPreKey = struct({ id: uint32, pub: bytesN(X25519_PUBLIC_KEY_BYTES), sig: bytesN(SIGNATURE_BYTES) });
const pqPreKey = struct({ id: uint32, pub: bytesN(MLKEM768_PUBLIC_KEY_BYTES), sig: bytesN(SIGNATURE_BYTES) });
const oneTimePreKey = struct({ id: uint32, pub: bytesN(X25519_PUBLIC_KEY_BYTES) });
const ids = arrayOf(bytesN(MESSAGE_ID_BYTES), MAX_ACK_IDS);

export const publishedBundleSchema = struct({
  ik: bytesN(IDENTITY_KEY_BYTES),
  spk: signedPreKey,
  pqspk: pqPreKey,
  opks: arrayOf(oneTimePreKey, MAX_PREKEYS_PER_UPLOAD),
  pqopks: arrayOf(pqPreKey, MAX_PREKEYS_PER_UPLOAD),
});

export const fetchedBundleSchema = struct(
  {
    ik: bytesN(IDENTITY_KEY_BYTES),
    spk: signedPreKey,
    pq: struct({ id: uint32, pub: bytesN(MLKEM768_PUBLIC_KEY_BYTES), sig: bytesN(SIGNATURE_BYTES), lastResort: bool }),
    opk: oneTimePreKey,
  },
  ['opk'],
);

/**
 * `signal` has two shapes: with `to` from a client, without it from the relay.
 * They are told apart by the origin (or, when decoding from any origin, by `to`).
 */
export const signalSendSchema = struct({ to: bytesN(MAILBOX_ADDRESS_BYTES), blob: bytesMax(MAX_SIGNAL_BLOB_BYTES) });
export const signalDeliverSchema = struct({ blob: bytesMax(MAX_SIGNAL_BLOB_BYTES) });

type Schemas = Readonly<Record<Exclude<FrameType, 'signal'>, StructSchema>>;

export const FRAME_SCHEMAS: Schemas = {
  auth: struct({ ik: bytesN(IDENTITY_KEY_BYTES), sig: bytesN(SIGNATURE_BYTES) }),
  send: struct({ rid: uint32, env: envelopeSchema, dl: struct({ ik: bytesN(IDENTITY_KEY_BYTES), v: uint32 }) }, ['dl']),
  'send.multi': struct({ rid: uint32, id: bytesN(MESSAGE_ID_BYTES), to: arrayOf(bytesN(MAILBOX_ADDRESS_BYTES), MAX_MULTI_RECIPIENTS), body: bytesMax(MAX_ENVELOPE_BODY_BYTES) }),
  ack: struct({ ids }),
  'prekeys.publish': struct({ rid: uint32, bundle: publishedBundleSchema }),
  'prekeys.fetch': struct({ rid: uint32, ik: bytesN(IDENTITY_KEY_BYTES), dev: bytesN(DEVICE_ID_BYTES) }, ['dev']),
  'auth.device': struct({ cert: deviceCertificateSchema, sig: bytesN(SIGNATURE_BYTES) }),
  'devices.publish': struct({ rid: uint32, list: signedDeviceListSchema }),
  'devices.fetch': struct({ rid: uint32, ik: bytesN(IDENTITY_KEY_BYTES) }),
  'devices.watch': struct({ rid: uint32, iks: arrayOf(bytesN(IDENTITY_KEY_BYTES), MAX_WATCH_PER_FRAME) }),
  'devices.published': struct({ rid: uint32, version: uint32 }),
  'devices.list': struct({ rid: uint32, list: signedDeviceListSchema }),
  'devices.watching': struct({ rid: uint32, count: uint32 }),
  'devices.changed': struct({ ik: bytesN(IDENTITY_KEY_BYTES), version: uint32 }),
  'push.register': struct({ rid: uint32, endpoint: text(MAX_PUSH_ENDPOINT_BYTES), p256dh: bytesN(PUSH_P256DH_BYTES), auth: bytesN(PUSH_AUTH_BYTES) }),
  'push.unregister': struct({ rid: uint32 }),
  'push.registered': struct({ rid: uint32 }),
  'push.unregistered': struct({ rid: uint32 }),
  ping: struct({ rid: uint32 }),
  'link.open': struct({ rid: uint32, ch: bytesN(LINK_CHANNEL_ID_BYTES) }),
  'link.join': struct({ rid: uint32, ch: bytesN(LINK_CHANNEL_ID_BYTES) }),
  'link.data': struct({ ch: bytesN(LINK_CHANNEL_ID_BYTES), data: bytesMax(MAX_LINK_DATA_BYTES) }),
  'link.opened': struct({ rid: uint32 }),
  'link.joined': struct({ rid: uint32 }),
  'link.closed': struct({ ch: bytesN(LINK_CHANNEL_ID_BYTES) }),
  challenge: struct({ nonce: bytesN(NONCE_BYTES) }),
  ready: struct({ mailbox: bytesN(MAILBOX_ADDRESS_BYTES), queued: uint32 }),
  sent: struct({ rid: uint32, id: bytesN(MESSAGE_ID_BYTES) }),
  'sent.multi': struct({ rid: uint32, id: bytesN(MESSAGE_ID_BYTES), full: arrayOf(bytesN(MAILBOX_ADDRESS_BYTES), MAX_MULTI_RECIPIENTS), unlinked: arrayOf(bytesN(MAILBOX_ADDRESS_BYTES), MAX_MULTI_RECIPIENTS) }),
  deliver: struct({ env: envelopeSchema }),
  'prekeys.published': struct({ rid: uint32, opks: uint32, pqopks: uint32 }),
  'prekeys.bundle': struct({ rid: uint32, bundle: fetchedBundleSchema }),
  'prekeys.low': struct({ opks: uint32, pqopks: uint32 }),
  pong: struct({ rid: uint32 }),
  error: struct({ code: oneOf(...ERROR_CODES), rid: uint32, msg: text(MAX_ERROR_MESSAGE_BYTES), list: signedDeviceListSchema }, ['rid', 'list']),
  'p2p.env': struct({ env: envelopeSchema }),
  'p2p.ack': struct({ ids }),
  'p2p.blob': struct({ id: bytesN(MESSAGE_ID_BYTES), total: uint32, off: uint32, data: bytesMax(MAX_P2P_BLOB_DATA_BYTES) }),
  'p2p.blob.ack': struct({ id: bytesN(MESSAGE_ID_BYTES), got: uint32, saved: uint32 }),
};

/** Which frame types each origin may send. */
export const FRAME_TYPES_BY_ORIGIN: Readonly<Record<FrameOrigin, readonly FrameType[]>> = {
  client: ['auth', 'auth.device', 'send', 'send.multi', 'ack', 'prekeys.publish', 'prekeys.fetch', 'devices.publish', 'devices.fetch', 'devices.watch', 'signal', 'push.register', 'push.unregister', 'link.open', 'link.join', 'link.data', 'ping'],
  relay: [
    'challenge',
    'ready',
    'sent',
    'sent.multi',
    'deliver',
    'prekeys.published',
    'prekeys.bundle',
    'prekeys.low',
    'devices.published',
    'devices.list',
    'devices.watching',
    'devices.changed',
    'push.registered',
    'push.unregistered',
    'signal',
    'link.opened',
    'link.joined',
    'link.data',
    'link.closed',
    'pong',
    'error',
  ],
  peer: ['p2p.env', 'p2p.ack', 'p2p.blob', 'p2p.blob.ack'],
};
