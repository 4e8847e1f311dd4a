import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import webPush from 'web-push';
import type { RateLimitStore } from '../limits/rate-limit-store.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { PushStore, PushSubscriptionRecord, VapidKeys } from './push-store.ts';
import { NonPublicAddressError } from './public-address-lookup.ts';
import type { LookupFunction } from 'node:net';

/**
 * What every push carries, encrypted to the device (RFC 8291): a version, nothing else.
 * No sender, no content, no count: the device learns only "something waits; connect".
 */
export const PUSH_PAYLOAD = '{"v":1}';
/** The Topic header: a newer push replaces an undelivered older one at the push service. */
export const PUSH_TOPIC = 'petrel-wake';
/** At most one push per device (mailbox) per this interval; later deposits in it are collapsed. */
export const PUSH_INTERVAL_MS = 10_000;
/** Pushes in flight at once on one node; past it a wake is dropped (counted `busy`). */
export const MAX_PUSHES_IN_FLIGHT = 256;

export interface PushNotifierOptions {
  readonly store: PushStore;
  /** Holds the per-device interval (Redis in a cluster, so it holds across nodes). */
  readonly rateLimits: RateLimitStore;
  readonly metrics: RelayMetrics;
  readonly log: Logger;
  readonly now: () => number;
  /** The push's TTL: the mailbox retention (a wake is useless once what it announces expired). */
  readonly ttlSeconds: number;
  /** VAPID `sub` claim: a mailto: or https: contact for the push services. */
  readonly subject: string;
  /** How long one POST to a push service may take. */
  readonly timeoutMs: number;
  /** Resolves the push service's host for the socket; public-address-lookup.ts refuses non-public addresses. */
  readonly lookup?: LookupFunction;
}

type Outcome = 'sent' | 'collapsed' | 'no_subscription' | 'gone' | 'refused' | 'throttled' | 'failed' | 'busy' | 'address_refused';

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/**
 * Wakes devices that have no open connection when an envelope is deposited for them, with
 * a Web Push through their push service (VAPID, RFC 8292; aes128gcm payload, RFC 8291;
 * both from the `web-push` library). Never blocks or fails a deposit: `wake` returns at
 * once, and every failure is counted (`petrel_pushes_total{result}`) and logged. A push
 * service that answers 404 or 410 says the subscription is gone: it is deleted.
 */
export class PushNotifier {
  private inFlight = new Set<Promise<void>>();

  private constructor(
    private readonly o: PushNotifierOptions,
    private readonly keys: VapidKeys,
  ) {}

  /** Loads the VAPID key pair, making and storing it the first time. */
  static async open(o: PushNotifierOptions): Promise<PushNotifier> {
    const keys = await o.store.vapidKeys(() => webPush.generateVAPIDKeys());
    return new PushNotifier(o, keys);
  }

  /** The VAPID public key (base64url, 65 bytes uncompressed): browsers subscribe with it. */
  get publicKey(): string {
    return this.keys.publicKey;
  }

  /** Sends a wake to `mailbox`'s device if it has a subscription and was not woken in the last PUSH_INTERVAL_MS. Returns at once. */
  wake(mailbox: Uint8Array): void {
    if (this.inFlight.size >= MAX_PUSHES_IN_FLIGHT) {
      this.count('busy');
      return;
    }
    this.track(this.send(mailbox));
  }

  /** Counts `sending`'s outcome when it ends; held in flight until then (MAX_PUSHES_IN_FLIGHT). */
  private track(sending: Promise<Outcome>): void {
    const p = sending
      .then((outcome) => this.count(outcome))
      .catch((err: unknown) => {
        this.count(err instanceof NonPublicAddressError ? 'address_refused' : 'failed');
        this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'push failed');
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /**
   * `wake` for several mailboxes (a group message's recipients without a connection): their
   * subscriptions are read in one look-up, then each is woken as `wake` would. Returns at once.
   */
  wakeAll(mailboxes: readonly Uint8Array[]): void {
    if (mailboxes.length === 0) return;
    if (mailboxes.length === 1) return this.wake(mailboxes[0]!);
    if (this.inFlight.size >= MAX_PUSHES_IN_FLIGHT) {
      for (let i = 0; i < mailboxes.length; i++) this.count('busy');
      return;
    }
    const p = this.o.store
      .subscriptions(mailboxes)
      .then((subs) =>
        subs.forEach((sub, i) => {
          if (!sub) this.count('no_subscription');
          else if (this.inFlight.size >= MAX_PUSHES_IN_FLIGHT) this.count('busy');
          else this.track(this.deliver(mailboxes[i]!, sub));
        }),
      )
      .catch((err: unknown) => {
        for (let i = 0; i < mailboxes.length; i++) this.count('failed');
        this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'push look-up failed');
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Resolves once every push in flight has ended (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private count(result: Outcome): void {
    this.o.metrics.pushes.inc({ result });
  }

  private async send(mailbox: Uint8Array): Promise<Outcome> {
    const sub = await this.o.store.subscription(mailbox);
    if (!sub) return 'no_subscription';
    return this.deliver(mailbox, sub);
  }

  /** The wake of a mailbox whose subscription is `sub`: at most one per PUSH_INTERVAL_MS, then the POST. */
  private async deliver(mailbox: Uint8Array, sub: PushSubscriptionRecord): Promise<Outcome> {
    const allowed = await this.o.rateLimits.take(`push:${b64url(mailbox)}`, { perSec: 1000 / PUSH_INTERVAL_MS, burst: 1 }, this.o.now());
    if (!allowed) return 'collapsed';
    const status = await this.post(sub);
    if (status >= 200 && status < 300) return 'sent';
    if (status === 404 || status === 410) {
      await this.o.store.remove(mailbox, sub.endpoint);
      this.o.log.info({ status }, 'push subscription gone; deleted');
      return 'gone';
    }
    this.o.log.warn({ status }, 'push service refused a push');
    return status === 429 ? 'throttled' : 'refused';
  }

  /** POSTs the encrypted, VAPID-signed push; resolves with the push service's status. */
  private post(sub: PushSubscriptionRecord): Promise<number> {
    const details = webPush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: b64url(sub.p256dh), auth: b64url(sub.auth) } }, PUSH_PAYLOAD, {
      vapidDetails: { subject: this.o.subject, publicKey: this.keys.publicKey, privateKey: this.keys.privateKey },
      TTL: this.o.ttlSeconds,
      topic: PUSH_TOPIC,
      urgency: 'high',
      contentEncoding: 'aes128gcm',
    });
    const url = new URL(details.endpoint);
    // http: only reaches here for a loopback endpoint a test configuration allowed (checkPushSubscription).
    const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const headers: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(details.headers)) headers[k] = v as string | number;
    return new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers, timeout: this.o.timeoutMs, ...(this.o.lookup ? { lookup: this.o.lookup } : {}) }, (res) => {
        // The body is not needed: read and drop it (at most a little) so the socket is freed.
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > 64 * 1024) res.destroy();
        });
        res.on('close', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(res.statusCode ?? 0));
      });
      req.on('timeout', () => req.destroy(new Error('push service did not answer in time')));
      req.on('error', reject);
      req.end(details.body);
    });
  }
}
