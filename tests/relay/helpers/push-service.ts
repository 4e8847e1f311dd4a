import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/**
 * A push service on loopback, written from the RFCs and node:crypto only (never the
 * `web-push` library it tests): it checks each request's VAPID JWT (RFC 8292: ES256 over
 * the key in `k`, `aud` = the endpoint's origin, `exp` within 24 h) and decrypts the
 * aes128gcm body (RFC 8188 / RFC 8291) with the subscription's private key and secret.
 */
export interface ReceivedPush {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly vapidKey: string;
  readonly claims: { readonly aud: string; readonly exp: number; readonly sub: string };
  /** The decrypted payload. */
  readonly payload: Buffer;
  /** The raw body's length (what went over the wire). */
  readonly bodyBytes: number;
}

export interface TestSubscription {
  readonly endpoint: string;
  readonly p256dh: Uint8Array;
  readonly auth: Uint8Array;
}

export interface LoopbackPushService {
  readonly origin: string;
  /** A fresh subscription on this service (its private key stays here). */
  subscribe(): TestSubscription;
  /** Pushes received and verified, in order. */
  readonly received: ReceivedPush[];
  /** Requests refused by the checks (a bad JWT or undecryptable body), with why. */
  readonly refused: string[];
  /** The status to answer for an endpoint path (default 201). */
  answer(path: string, status: number): void;
  /** Resolves once `n` pushes have been received. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function hkdf(ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

/** RFC 8291 §3.4 + RFC 8188 §2: one record, padding delimiter 0x02 then zeros. */
export function decryptAes128gcm(body: Buffer, uaPrivate: ReturnType<typeof createECDH>, auth: Uint8Array): Buffer {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  if (idlen !== 65) throw new Error(`keyid must be the 65-byte sender key, got ${idlen}`);
  if (ciphertext.length > rs) throw new Error('more than one record');
  const uaPublic = uaPrivate.getPublicKey();
  const ecdhSecret = uaPrivate.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = hkdf(ecdhSecret, Buffer.from(auth), keyInfo, 32);
  const cek = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 0x02) throw new Error('last record lacks the 0x02 padding delimiter');
  return padded.subarray(0, end);
}

/** RFC 8292 §2–3: `Authorization: vapid t=<JWT>, k=<key>`; returns the claims or throws saying why. */
export function verifyVapid(authorization: string | undefined, endpointOrigin: string, now = Date.now()): { key: string; claims: ReceivedPush['claims'] } {
  const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) throw new Error(`not a vapid authorization: ${authorization}`);
  const [jwt, k] = [m[1]!, m[2]!];
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { typ?: string; alg?: string };
  if (header.alg !== 'ES256') throw new Error(`alg ${header.alg}`);
  const raw = Buffer.from(k, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 key');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(raw.subarray(1, 33)), y: b64url(raw.subarray(33)) }, format: 'jwk' });
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!ok) throw new Error('bad JWT signature');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as ReceivedPush['claims'];
  if (claims.aud !== endpointOrigin) throw new Error(`aud ${claims.aud} is not ${endpointOrigin}`);
  const nowSec = Math.floor(now / 1000);
  if (!(claims.exp > nowSec && claims.exp <= nowSec + 24 * 3600)) throw new Error(`exp ${claims.exp} not within 24 h`);
  if (!/^(mailto:|https:)/.test(claims.sub)) throw new Error(`sub ${claims.sub}`);
  return { key: k, claims };
}

export async function startLoopbackPushService(): Promise<LoopbackPushService> {
  const keys = new Map<string, { ecdh: ReturnType<typeof createECDH>; auth: Uint8Array }>();
  const statuses = new Map<string, number>();
  const received: ReceivedPush[] = [];
  const refused: string[] = [];
  const waiters = new Set<() => void>();
  let origin = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const body = Buffer.concat(chunks);
      try {
        if (req.method !== 'POST') throw new Error(`method ${req.method}`);
        const sub = keys.get(path);
        if (!sub) throw new Error(`unknown endpoint ${path}`);
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`content-encoding ${req.headers['content-encoding']}`);
        const { key, claims } = verifyVapid(req.headers.authorization, origin);
        const payload = decryptAes128gcm(body, sub.ecdh, sub.auth);
        const status = statuses.get(path) ?? 201;
        received.push({ path, headers: req.headers, vapidKey: key, claims, payload, bodyBytes: body.length });
        res.writeHead(status).end();
      } catch (err) {
        refused.push(err instanceof Error ? err.message : String(err));
        res.writeHead(400).end();
      }
      for (const w of [...waiters]) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    origin,
    received,
    refused,
    subscribe() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = new Uint8Array(randomBytes(16));
      const path = `/push/${randomBytes(12).toString('base64url')}`;
      keys.set(path, { ecdh, auth });
      return { endpoint: `${origin}${path}`, p256dh: new Uint8Array(ecdh.getPublicKey()), auth };
    },
    answer(path, status) {
      statuses.set(path, status);
    },
    waitFor(n, timeoutMs = 5000) {
      if (received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${n} pushes; got ${received.length}, refused: ${refused.join('; ')}`));
        }, timeoutMs);
        const check = () => {
          if (received.length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
