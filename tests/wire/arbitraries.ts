import fc from 'fast-check';
import { ERROR_CODES, type Envelope, type FetchedBundle, type Frame, type PublishedBundle } from '../../src/core/wire/index.ts';
import type { SendableContent } from '../../src/core/wire/index.ts';

/** fast-check arbitraries for every frame and content type (small sizes, so runs stay fast). */
export const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
export const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
export const id16 = bytes(16);

export const envelope: fc.Arbitrary<Envelope> = fc.record({ to: bytes(32), id: id16, body: fc.uint8Array({ maxLength: 600 }) });
const spk = fc.record({ id: u32, pub: bytes(32), sig: bytes(64) });
const pqk = fc.record({ id: u32, pub: bytes(1184), sig: bytes(64) });
const opk = fc.record({ id: u32, pub: bytes(32) });

export const publishedBundle: fc.Arbitrary<PublishedBundle> = fc.record({
  ik: bytes(32),
  spk,
  pqspk: pqk,
  opks: fc.array(opk, { maxLength: 5 }),
  pqopks: fc.array(pqk, { maxLength: 2 }),
});

export const fetchedBundle: fc.Arbitrary<FetchedBundle> = fc.record(
  { ik: bytes(32), spk, pq: fc.record({ id: u32, pub: bytes(1184), sig: bytes(64), lastResort: fc.boolean() }), opk },
  { requiredKeys: ['ik', 'spk', 'pq'] },
);

const ids = fc.array(id16, { maxLength: 8 });
const signedDeviceList = fc.record({ body: fc.uint8Array({ maxLength: 300 }), sig: bytes(64) });

export const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ t: fc.constant('auth' as const), ik: bytes(32), sig: bytes(64) }),
  fc.record({ t: fc.constant('send' as const), rid: u32, env: envelope }),
  fc.record({ t: fc.constant('ack' as const), ids }),
  fc.record({ t: fc.constant('prekeys.publish' as const), rid: u32, bundle: publishedBundle }),
  fc.record({ t: fc.constant('prekeys.fetch' as const), rid: u32, ik: bytes(32), dev: id16 }, { requiredKeys: ['t', 'rid', 'ik'] }),
  fc.record({ t: fc.constant('auth.device' as const), cert: fc.record({ account: bytes(32), id: id16, key: bytes(32), sig: bytes(64) }), sig: bytes(64) }),
  fc.record({ t: fc.constant('devices.publish' as const), rid: u32, list: signedDeviceList }),
  fc.record({ t: fc.constant('devices.fetch' as const), rid: u32, ik: bytes(32) }),
  fc.record({ t: fc.constant('devices.watch' as const), rid: u32, iks: fc.array(bytes(32), { maxLength: 4 }) }),
  fc.record({ t: fc.constant('devices.published' as const), rid: u32, version: u32 }),
  fc.record({ t: fc.constant('devices.list' as const), rid: u32, list: signedDeviceList }),
  fc.record({ t: fc.constant('devices.watching' as const), rid: u32, count: u32 }),
  fc.record({ t: fc.constant('devices.changed' as const), ik: bytes(32), version: u32 }),
  fc.record({ t: fc.constant('signal' as const), to: bytes(32), blob: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({
    t: fc.constant('push.register' as const),
    rid: u32,
    endpoint: fc.string({ maxLength: 300 }).filter((e) => new TextEncoder().encode(e).length <= 1024),
    p256dh: bytes(65),
    auth: bytes(16),
  }),
  fc.record({ t: fc.constant('push.unregister' as const), rid: u32 }),
  fc.record({ t: fc.constant('push.registered' as const), rid: u32 }),
  fc.record({ t: fc.constant('push.unregistered' as const), rid: u32 }),
  fc.record({ t: fc.constant('ping' as const), rid: u32 }),
  fc.record({ t: fc.constant('link.open' as const), rid: u32, ch: id16 }),
  fc.record({ t: fc.constant('link.join' as const), rid: u32, ch: id16 }),
  fc.record({ t: fc.constant('link.data' as const), ch: id16, data: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ t: fc.constant('link.opened' as const), rid: u32 }),
  fc.record({ t: fc.constant('link.joined' as const), rid: u32 }),
  fc.record({ t: fc.constant('link.closed' as const), ch: id16 }),
  fc.record({ t: fc.constant('challenge' as const), nonce: bytes(32) }),
  fc.record({ t: fc.constant('ready' as const), mailbox: bytes(32), queued: u32 }),
  fc.record({ t: fc.constant('sent' as const), rid: u32, id: id16 }),
  fc.record({ t: fc.constant('send.multi' as const), rid: u32, id: id16, to: fc.array(bytes(32), { maxLength: 6 }), body: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ t: fc.constant('sent.multi' as const), rid: u32, id: id16, full: fc.array(bytes(32), { maxLength: 3 }), unlinked: fc.array(bytes(32), { maxLength: 3 }) }),
  fc.record({ t: fc.constant('deliver' as const), env: envelope }),
  fc.record({ t: fc.constant('prekeys.published' as const), rid: u32, opks: u32, pqopks: u32 }),
  fc.record({ t: fc.constant('prekeys.bundle' as const), rid: u32, bundle: fetchedBundle }),
  fc.record({ t: fc.constant('prekeys.low' as const), opks: u32, pqopks: u32 }),
  fc.record({ t: fc.constant('signal' as const), blob: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ t: fc.constant('pong' as const), rid: u32 }),
  fc.record(
    { t: fc.constant('error' as const), code: fc.constantFrom(...ERROR_CODES), rid: u32, msg: fc.string({ maxLength: 60 }) },
    { requiredKeys: ['t', 'code', 'msg'] },
  ),
  fc.record({ t: fc.constant('p2p.env' as const), env: envelope }),
  fc.record({ t: fc.constant('p2p.ack' as const), ids }),
  fc.record({ t: fc.constant('p2p.blob' as const), id: id16, total: u32, off: u32, data: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ t: fc.constant('p2p.blob.ack' as const), id: id16, got: u32, saved: u32 }),
);

const ts = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const shortText = fc.string({ unit: 'grapheme', maxLength: 60 });

/** The message-action kinds (docs/PROTOCOL.md §11.2). */
export const actionContent = fc.oneof(
  fc.record({ t: fc.constant('reply' as const), id: id16, ts, text: shortText, to: id16, quote: fc.string({ unit: 'grapheme', maxLength: 30 }), fallback: shortText }),
  fc.record({ t: fc.constant('edit' as const), id: id16, ts, to: id16, text: shortText, fallback: shortText }),
  fc.record({ t: fc.constant('delete' as const), id: id16, ts, to: id16, fallback: shortText }),
  fc.record({ t: fc.constant('react' as const), id: id16, ts, to: id16, emoji: fc.constantFrom('', '👍', '❤️', '👩‍👩‍👧', '🇫🇷', '1️⃣'), fallback: shortText }),
);

export const content: fc.Arbitrary<SendableContent> = fc.oneof(
  actionContent,
  fc.record({ t: fc.constant('msg' as const), id: id16, ts: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), text: fc.string({ unit: 'grapheme', maxLength: 200 }) }),
  fc.record({ t: fc.constant('receipt' as const), kind: fc.constantFrom('delivered' as const, 'read' as const), ids }),
  fc.record({ t: fc.constant('rtc' as const), kind: fc.constantFrom('offer' as const, 'answer' as const, 'ice' as const, 'bye' as const), data: fc.string({ maxLength: 300 }) }),
  fc.record({ t: fc.constant('profile' as const), name: fc.string({ unit: 'grapheme', maxLength: 16 }).filter((s) => new TextEncoder().encode(s).length <= 64) }),
  fc.record(
    {
      t: fc.constant('file' as const),
      id: id16,
      ts: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      text: fc.string({ unit: 'grapheme', maxLength: 40 }),
      blob: id16,
      key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      size: fc.integer({ min: 0, max: 100 * 1024 * 1024 }),
      digest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      mime: fc.constantFrom('image/jpeg', 'application/pdf', 'text/plain'),
      name: fc.string({ unit: 'grapheme', maxLength: 40 }),
      preview: fc.uint8Array({ maxLength: 64 }),
    },
    { requiredKeys: ['t', 'id', 'ts', 'blob', 'key', 'size', 'digest', 'mime', 'name'] },
  ),
);
