/**
 * Subscribes this browser to Web Push with the relay's VAPID key and hands the
 * subscription to the core, which registers it with the relay (`push.register`). Every
 * way this can fall short ends in a status that says so in words; none throws.
 */
import type { PushRegistrationOutcome, PushSubscriptionKeys } from '../core/messenger/push-registration.ts';

export type PushStatus =
  | { readonly kind: 'on' }
  /** Subscribed; the relay is told once it is connected. */
  | { readonly kind: 'pending' }
  | { readonly kind: 'off'; readonly why: 'unsupported' | 'denied' | 'not_asked' | 'no_service_worker' }
  | { readonly kind: 'failed'; readonly message: string };

export interface PushEnv {
  /** The relay origin's `/push/key`. */
  readonly keyUrl: string;
  /** The core's setPushSubscription. */
  register(sub: PushSubscriptionKeys | null): Promise<PushRegistrationOutcome>;
}

/** Words for a status, as Settings shows them. */
export function describePushStatus(s: PushStatus): string {
  switch (s.kind) {
    case 'on':
      return 'Notifications are on: this device is woken when a message arrives while Petrel is closed.';
    case 'pending':
      return 'Notifications are on; the relay is told as soon as Petrel is connected.';
    case 'off':
      return {
        unsupported: 'This browser cannot receive push notifications: you are notified only while Petrel is open.',
        denied: 'Notifications are blocked for this site. Allow them in the browser’s site settings, then try again.',
        not_asked: 'Notifications are off.',
        no_service_worker: 'Notifications need the installed app (its service worker), which is not running here.',
      }[s.why];
    case 'failed':
      return `Push notifications could not be turned on: ${s.message}. You are notified only while Petrel is open.`;
  }
}

const bytes = (b: ArrayBuffer | null): Uint8Array => new Uint8Array(b ?? new ArrayBuffer(0));
const fromB64url = (s: string): Uint8Array => {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
};
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

function supported(): boolean {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof PushManager !== 'undefined' && typeof Notification !== 'undefined';
}

/**
 * Turns push on: asks for notification permission when `ask` (only from a user's click),
 * subscribes with the relay's key (replacing a subscription made for another key) and
 * registers it. Without `ask` it only re-registers what the browser already has.
 */
export async function enablePush(env: PushEnv, ask: boolean): Promise<PushStatus> {
  if (!supported()) return { kind: 'off', why: 'unsupported' };
  let permission = Notification.permission;
  if (permission === 'default' && ask) permission = await Notification.requestPermission();
  if (permission === 'denied') return { kind: 'off', why: 'denied' };
  if (permission !== 'granted') return { kind: 'off', why: 'not_asked' };
  const registration = await navigator.serviceWorker.getRegistration();
  if (!registration) return { kind: 'off', why: 'no_service_worker' };
  try {
    const res = await fetch(env.keyUrl, { cache: 'no-store' });
    if (!res.ok) return { kind: 'failed', message: `the relay did not give its push key (HTTP ${res.status})` };
    const { publicKey } = (await res.json()) as { publicKey?: unknown };
    if (typeof publicKey !== 'string') return { kind: 'failed', message: 'the relay gave no push key' };
    const key = fromB64url(publicKey);
    let sub = await registration.pushManager.getSubscription();
    // A subscription made for another key (the relay's keys were replaced) is renewed: the
    // person had turned push on and the permission stands, so no new question is needed.
    const hadOne = sub !== null;
    if (sub && !sameBytes(bytes(sub.options.applicationServerKey), key)) {
      await sub.unsubscribe();
      sub = null;
    }
    if (!sub) {
      if (!ask && !hadOne) return { kind: 'off', why: 'not_asked' };
      sub = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key as BufferSource });
    }
    const outcome = await env.register({ endpoint: sub.endpoint, p256dh: bytes(sub.getKey('p256dh')), auth: bytes(sub.getKey('auth')) });
    return { kind: outcome === 'registered' ? 'on' : 'pending' };
  } catch (err) {
    return { kind: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
}

/** Turns push off: unsubscribes the browser and removes the relay's copy. */
export async function disablePush(env: PushEnv): Promise<PushStatus> {
  try {
    const registration = supported() ? await navigator.serviceWorker.getRegistration() : undefined;
    await (await registration?.pushManager.getSubscription())?.unsubscribe();
    await env.register(null);
    return { kind: 'off', why: 'not_asked' };
  } catch (err) {
    return { kind: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
}
