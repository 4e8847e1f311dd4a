import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';

/** Why a `push.register` was refused (the `petrel_push_registrations_total{result}` label). */
export type PushRefusal = 'bad_endpoint' | 'not_https' | 'address_host' | 'bad_key';

export type PushSubscriptionCheck = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly refusal: PushRefusal; readonly detail: string };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/**
 * Checks a subscription before anything is stored. The endpoint must be an absolute
 * `https:` URL on a host NAME without credentials or fragment: the relay POSTs to it, so an
 * IP-literal or `localhost` host (a way to make the relay reach its own network) is refused.
 * `http://127.0.0.1` / `http://[::1]` pass only with `allowLoopback` (tests, PETREL_PUSH_ALLOW_LOOPBACK).
 * `p256dh` must be a point on P-256 (65 bytes uncompressed); `auth`'s length the wire checked.
 */
export function checkPushSubscription(endpoint: string, p256dh: Uint8Array, allowLoopback: boolean): PushSubscriptionCheck {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, refusal: 'bad_endpoint', detail: 'the endpoint is not an absolute URL' };
  }
  if (url.username || url.password || url.hash) return { ok: false, refusal: 'bad_endpoint', detail: 'the endpoint carries credentials or a fragment' };
  const testLoopback = allowLoopback && LOOPBACK_HOSTS.has(url.hostname) && (url.protocol === 'http:' || url.protocol === 'https:');
  if (!testLoopback) {
    if (url.protocol !== 'https:') return { ok: false, refusal: 'not_https', detail: 'the endpoint must be an https: URL' };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 || host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) {
      return { ok: false, refusal: 'address_host', detail: 'the endpoint must name a public push service host' };
    }
  }
  if (p256dh[0] !== 0x04) return { ok: false, refusal: 'bad_key', detail: 'p256dh must be an uncompressed P-256 point' };
  try {
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(p256dh.subarray(1, 33)), y: b64url(p256dh.subarray(33, 65)) }, format: 'jwk' });
  } catch {
    return { ok: false, refusal: 'bad_key', detail: 'p256dh is not a point on P-256' };
  }
  return { ok: true, url };
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
