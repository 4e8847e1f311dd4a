import type { Logger } from 'pino';
import type { Fanout } from '../cluster/fanout.ts';
import type { RelayConfig } from '../config.ts';
import type { RateRule } from '../limits/token-bucket.ts';
import type { RateLimitStore } from '../limits/rate-limit-store.ts';
import type { WriteBatcher } from '../mailbox/write-batcher.ts';
import type { DeliveryPump } from '../mailbox/delivery-pump.ts';
import type { MailboxStore } from '../mailbox/mailbox-store.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { PreKeyStore } from '../prekeys/prekey-store.ts';
import type { DeviceStore } from '../devices/device-store.ts';
import type { PushNotifier } from '../push/push-notifier.ts';
import type { PushStore } from '../push/push-store.ts';
import type { ErrorCode } from '../../core/wire/index.ts';
import type { Connection } from './connection.ts';
import type { SessionRegistry } from './session-registry.ts';
import type { LinkRendezvous } from '../link/link-rendezvous.ts';
import type { RelayStageTrace } from '../stage-trace-file.ts';

/** Everything a frame handler may use. Stores hold the protocol state; the rest is node-local plumbing. */
export interface RelayContext {
  readonly config: RelayConfig;
  readonly log: Logger;
  readonly metrics: RelayMetrics;
  readonly mailboxes: MailboxStore;
  readonly prekeys: PreKeyStore;
  readonly devices: DeviceStore;
  readonly rateLimits: RateLimitStore;
  /** Web Push subscriptions, and the sender that wakes devices with no open connection. */
  readonly pushStore: PushStore;
  readonly push: PushNotifier;
  readonly batcher: WriteBatcher;
  readonly registry: SessionRegistry;
  readonly pumps: Map<Connection, DeliveryPump>;
  /** Device-link rendezvous channels on this node (link-channels.ts). */
  readonly links: LinkRendezvous;
  /** Where events for a mailbox go: this node's connections, or every node's. */
  readonly fanout: Fanout;
  readonly now: () => number;
  /** Timing marks of a deposit's steps (PETREL_TRACE_FILE, stage-trace-file.ts); absent in normal use. */
  readonly trace?: RelayStageTrace;
  /** True once shutdown began: no new frame is accepted. */
  readonly isDraining: () => boolean;
  /** Sends error{code, rid?, msg} and counts it. */
  sendError(conn: Connection, code: ErrorCode, msg: string, rid?: number): void;
}

/** Per-IP rate-limit buckets. */
export type IpBucket = 'deposit' | 'deposit_bytes' | 'fetch' | 'signal';

function ipRule(config: RelayConfig, bucket: IpBucket): RateRule {
  switch (bucket) {
    case 'deposit':
      return { perSec: config.ipDepositsPerSec, burst: config.ipDepositBurst };
    case 'deposit_bytes':
      return { perSec: config.ipDepositBytesPerSec, burst: config.ipDepositByteBurst };
    case 'fetch':
      return { perSec: config.ipFetchesPerSec, burst: config.ipFetchBurst };
    case 'signal':
      return { perSec: config.ipSignalsPerSec, burst: config.ipSignalBurst };
  }
}

/** Takes `cost` tokens from the connection's per-IP `bucket`; counts a refusal. */
export async function takeIpToken(ctx: RelayContext, conn: Connection, bucket: IpBucket, cost = 1): Promise<boolean> {
  const ok = await ctx.rateLimits.take(`ip:${conn.ip}:${bucket}`, ipRule(ctx.config, bucket), ctx.now(), cost);
  if (!ok) ctx.metrics.rateLimited.inc({ bucket: `ip_${bucket}` });
  return ok;
}
