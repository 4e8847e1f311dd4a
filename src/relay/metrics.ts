import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VALIDATION_FAILURE_METRIC, type WireMetrics } from '../core/wire/index.ts';

/** The relay's in-memory maps, one `petrel_relay_state_entries` series each. */
export const STATE_MAPS = ['sessions', 'mailbox_bindings', 'delivery_pumps', 'rate_limit_buckets', 'ip_slots', 'device_watches', 'link_channels'] as const;
export type StateMap = (typeof STATE_MAPS)[number];

/** Request frames whose handling is timed (`petrel_request_duration_seconds{type}`). */
export type TimedRequest = 'auth' | 'send' | 'send.multi' | 'ack' | 'prekeys.publish' | 'prekeys.fetch' | 'signal' | 'devices.publish' | 'devices.fetch' | 'push.register';
/** HTTP routes, a fixed set so the label stays small whatever paths clients ask for. */
export type HttpRoute = 'health' | 'ready' | 'metrics' | 'blobs' | 'vault' | 'push_key' | 'static' | 'not_found' | 'bad_request' | 'failed';
/** Where an unexpected error was caught (`petrel_handler_failures_total{where}`): it ended that request or connection only. */
export type HandlerSite = 'http' | 'upgrade' | 'ws_message' | 'ws_close' | 'delivery' | 'sweep';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const RESIDENCE_BUCKETS = [0.01, 0.1, 1, 10, 60, 600, 3600, 86_400, 7 * 86_400, 30 * 86_400];

/**
 * The relay's Prometheus metrics, on their own Registry (never prom-client's global one,
 * so several relays in one test process do not collide). Labels are small fixed sets.
 */
export class RelayMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'petrel_connections', help: 'Open WebSocket connections', registers: [this.registry] });
  readonly upgrades = new Counter({
    name: 'petrel_upgrades_total',
    help: 'WebSocket upgrade attempts by result (accepted, not_found, origin, capacity, per_ip, draining)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly connectionsClosed = new Counter({
    name: 'petrel_connections_closed_total',
    help: 'WebSocket connections ended, by reason (peer, too_large, protocol_error, refused_frames, auth_failed, auth_timeout, slow_consumer, heartbeat_timeout, internal_error, shutdown)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly authentications = new Counter({ name: 'petrel_authentications_total', help: 'Auth attempts by result', labelNames: ['result'], registers: [this.registry] });
  readonly deposits = new Counter({ name: 'petrel_deposits_total', help: 'Envelope deposits by result (stored, duplicate, mailbox_full, storage_full, device_unlinked, stale_devices)', labelNames: ['result'], registers: [this.registry] });
  readonly deliveries = new Counter({ name: 'petrel_deliveries_total', help: 'Envelopes pushed to their recipient', registers: [this.registry] });
  readonly acks = new Counter({ name: 'petrel_acks_total', help: 'Envelopes deleted after their recipient acknowledged them', registers: [this.registry] });
  readonly expired = new Counter({ name: 'petrel_expired_total', help: 'Envelopes deleted unacknowledged at the end of retention', registers: [this.registry] });
  readonly storedBytes: Gauge = new Gauge({
    name: 'petrel_storage_bytes',
    help: 'Bytes of envelope bodies stored across all mailboxes (capped by PETREL_MAX_STORAGE_BYTES)',
    registers: [this.registry],
    collect: async (): Promise<void> => {
      if (this.storedBytesSource) this.storedBytes.set(await this.storedBytesSource());
    },
  });
  private storedBytesSource: (() => Promise<number>) | undefined;
  /** Where `petrel_storage_bytes` reads its value from (at scrape time). */
  observeStoredBytes(source: () => Promise<number>): void {
    this.storedBytesSource = source;
  }
  readonly blobRequests = new Counter({
    name: 'petrel_blob_requests_total',
    help: 'Blob HTTP requests by operation (create, patch, head, get, ack, delete) and result (ok, or the refusal: unauthenticated, forbidden, not_found, over_quota, storage_full, too_large, beyond_size, offset_mismatch, incomplete, bad_range, bad_request, rate_limited, busy, draining, failed)',
    labelNames: ['op', 'result'],
    registers: [this.registry],
  });
  readonly vaultRequests = new Counter({
    name: 'petrel_vault_requests_total',
    help: 'Backup vault HTTP requests by operation (put, get, delete) and result (ok, or the refusal: unauthenticated, forbidden, not_found, too_large, too_soon, storage_full, bad_request, rate_limited, busy, draining, failed)',
    labelNames: ['op', 'result'],
    registers: [this.registry],
  });
  readonly vaultStoredBytes: Gauge = new Gauge({
    name: 'petrel_vault_bytes',
    help: 'Bytes of all backups in the vault (capped by PETREL_VAULT_MAX_TOTAL_BYTES)',
    registers: [this.registry],
    collect: async (): Promise<void> => {
      if (this.vaultBytesSource) this.vaultStoredBytes.set(await this.vaultBytesSource());
    },
  });
  private vaultBytesSource: (() => Promise<number>) | undefined;
  /** Where `petrel_vault_bytes` reads its value from (at scrape time). */
  observeVaultBytes(source: () => Promise<number>): void {
    this.vaultBytesSource = source;
  }
  readonly blobBytes = new Counter({ name: 'petrel_blob_bytes_total', help: 'Blob bytes stored (in) and served (out)', labelNames: ['direction'], registers: [this.registry] });
  readonly blobsDeleted = new Counter({ name: 'petrel_blobs_deleted_total', help: 'Blobs deleted, by reason (acked: every recipient acknowledged; expired: retention ended; cancelled: the owner deleted it)', labelNames: ['reason'], registers: [this.registry] });
  readonly blobStoredBytes: Gauge = new Gauge({
    name: 'petrel_blob_declared_bytes',
    help: 'Declared bytes of all blobs, finished or not (capped by PETREL_BLOB_MAX_TOTAL_BYTES)',
    registers: [this.registry],
    collect: async (): Promise<void> => {
      if (this.blobBytesSource) this.blobStoredBytes.set(await this.blobBytesSource());
    },
  });
  private blobBytesSource: (() => Promise<number>) | undefined;
  /** Where `petrel_blob_declared_bytes` reads its value from (at scrape time). */
  observeBlobBytes(source: () => Promise<number>): void {
    this.blobBytesSource = source;
  }
  readonly walCheckpoints = new Counter({ name: 'petrel_wal_checkpoints_total', help: 'SQLite WAL checkpoints (TRUNCATE) run by the relay', registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'petrel_queue_depth', help: 'Envelopes waiting in all mailboxes', registers: [this.registry] });
  readonly rejectedFrames = new Counter({ name: 'petrel_rejected_frames_total', help: 'Frames refused by the wire decoder, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly errorsSent = new Counter({ name: 'petrel_errors_sent_total', help: 'error frames sent, by code', labelNames: ['code'], registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'petrel_rate_limited_total', help: 'Frames refused by a rate limit, by bucket', labelNames: ['bucket'], registers: [this.registry] });
  readonly prekeyFetches = new Counter({ name: 'petrel_prekey_fetches_total', help: 'Bundle fetches by result (opk; no_opk: pool empty; last_resort_budget: the identity\'s one-time-key budget was spent, last-resort keys only; not_found)', labelNames: ['result'], registers: [this.registry] });
  readonly prekeyPublishes = new Counter({ name: 'petrel_prekey_publishes_total', help: 'Bundle uploads by result', labelNames: ['result'], registers: [this.registry] });
  readonly deviceListPublishes = new Counter({
    name: 'petrel_device_list_publishes_total',
    help: 'Signed device lists offered, by result (ok; refused: malformed, foreign_account, bad_signature, too_many_devices, duplicate_device, stale)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly deviceListFetches = new Counter({ name: 'petrel_device_list_fetches_total', help: 'Device-list fetches by result (ok, not_found)', labelNames: ['result'], registers: [this.registry] });
  readonly devicesUnlinked = new Counter({ name: 'petrel_devices_unlinked_total', help: 'Devices removed by a newer device list: their mailbox closed, their prekeys deleted', registers: [this.registry] });
  readonly pushes = new Counter({
    name: 'petrel_pushes_total',
    help: 'Web Push wakes for devices with no open connection, by result (sent; collapsed: one was sent in the last 10 s; no_subscription; gone: the push service said 404/410, subscription deleted; refused: another non-2xx; throttled: 429; failed: network error or timeout; busy: too many in flight; address_refused: the push host resolved to a non-public address)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly pushSubscriptions: Gauge = new Gauge({
    name: 'petrel_push_subscriptions',
    help: 'Web Push subscriptions stored (one per device that turned notifications on)',
    registers: [this.registry],
    collect: async (): Promise<void> => {
      if (this.pushSubscriptionSource) this.pushSubscriptions.set(await this.pushSubscriptionSource());
    },
  });
  private pushSubscriptionSource: (() => Promise<number>) | undefined;
  /** Where `petrel_push_subscriptions` reads its value from (at scrape time). */
  observePushSubscriptions(source: () => Promise<number>): void {
    this.pushSubscriptionSource = source;
  }
  readonly pushRegistrations = new Counter({
    name: 'petrel_push_registrations_total',
    help: 'push.register / push.unregister frames by result (registered, unregistered, unauthenticated, bad_endpoint, not_https, address_host, bad_key)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly signals = new Counter({ name: 'petrel_signals_total', help: 'Signaling blobs by result (forwarded, offline, overloaded)', labelNames: ['result'], registers: [this.registry] });
  readonly slowConsumers = new Counter({ name: 'petrel_slow_consumers_closed_total', help: 'Connections closed because they did not drain their output', registers: [this.registry] });
  readonly pausedReads = new Counter({ name: 'petrel_paused_reads_total', help: 'Times a connection stopped being read (backpressure)', registers: [this.registry] });
  readonly handlerFailures = new Counter({
    name: 'petrel_handler_failures_total',
    help: 'Unexpected errors caught in a handler, by site (http, upgrade, ws_message, ws_close, delivery, sweep); each ended only its own request or connection',
    labelNames: ['where'],
    registers: [this.registry],
  });
  readonly httpConnections: Gauge = new Gauge({
    name: 'petrel_http_connections',
    help: 'Open TCP connections that are not WebSockets (held against PETREL_MAX_HTTP_CONNECTIONS)',
    registers: [this.registry],
    collect: (): void => this.httpConnections.set(this.httpConnectionSource?.() ?? 0),
  });
  private httpConnectionSource: (() => number) | undefined;
  /** Where `petrel_http_connections` reads its value from. */
  observeHttpConnections(source: () => number): void {
    this.httpConnectionSource = source;
  }
  readonly blobChunkMemory: Gauge = new Gauge({
    name: 'petrel_blob_chunk_memory_bytes',
    help: 'Bytes of upload chunks the relay holds in memory right now (held against 16 chunks of PETREL_BLOB_CHUNK_MAX_BYTES; past it a PATCH is refused busy)',
    registers: [this.registry],
    collect: (): void => this.blobChunkMemory.set(this.blobChunkMemorySource?.() ?? 0),
  });
  private blobChunkMemorySource: (() => number) | undefined;
  /** Where `petrel_blob_chunk_memory_bytes` reads its value from. */
  observeBlobChunkMemory(source: () => number): void {
    this.blobChunkMemorySource = source;
  }
  readonly httpConnectionsRefused = new Counter({
    name: 'petrel_http_connections_refused_total',
    help: 'TCP connections dropped at accept by the HTTP connection caps, by cap (capacity, per_ip)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly httpClientErrors = new Counter({
    name: 'petrel_http_client_errors_total',
    help: 'HTTP connections refused before a request was parsed, by reason (bad_request, timeout, too_large, reset)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly linkChannels = new Counter({ name: 'petrel_link_channels_total', help: 'Device-link channels, by event (opened, joined, ended)', labelNames: ['event'], registers: [this.registry] });
  readonly linkRefusals = new Counter({
    name: 'petrel_link_refusals_total',
    help: 'Link channel frames refused, by reason (unauthenticated, busy, not_found, too_many_channels, over_budget, not_member, no_peer, expired)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly linkBytes = new Counter({ name: 'petrel_link_bytes_total', help: 'Opaque bytes relayed on device-link channels', registers: [this.registry] });
  readonly authTimeouts = new Counter({ name: 'petrel_auth_timeouts_total', help: 'Connections closed for not authenticating within PETREL_AUTH_TIMEOUT_SEC', registers: [this.registry] });
  readonly heartbeatTimeouts = new Counter({ name: 'petrel_heartbeat_timeouts_total', help: 'Connections dropped for missing pongs', registers: [this.registry] });
  readonly requestLatency = new Histogram({
    name: 'petrel_request_duration_seconds',
    help: 'Time from a request frame to its outcome, by frame type (auth: to `ready`; send: until durable and `sent`; ack: until the deletion committed; signal: until forwarded or refused)',
    labelNames: ['type'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly httpLatency = new Histogram({
    name: 'petrel_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route (health, ready, metrics, blobs, vault, static, not_found, bad_request, failed)',
    labelNames: ['route'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  /** Starts timing a request frame; call the result when its outcome is sent. */
  timeRequest(type: TimedRequest): () => void {
    const end = this.requestLatency.startTimer({ type });
    return () => void end();
  }

  /** Starts timing an HTTP request; call the result with its route once the response ended. */
  timeHttp(): (route: HttpRoute) => void {
    const end = this.httpLatency.startTimer();
    return (route) => void end({ route });
  }
  readonly ackLatency = new Histogram({
    name: 'petrel_envelope_residence_seconds',
    help: 'Time from deposit to the recipient\'s ack',
    buckets: RESIDENCE_BUCKETS,
    registers: [this.registry],
  });
  readonly commitBatch = new Histogram({
    name: 'petrel_deposit_batch_size',
    help: 'Operations (deposits and ack requests) per group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  /** Sizes of the in-memory maps, read at scrape time: they must fall back once sockets close. */
  readonly stateEntries = new Gauge({
    name: 'petrel_relay_state_entries',
    help: 'Entries in the relay\'s in-memory maps (sessions, mailbox_bindings, delivery_pumps, rate_limit_buckets, ip_slots, device_watches, link_channels)',
    labelNames: ['map'],
    registers: [this.registry],
    collect: () => {
      const sizes = this.stateSource?.();
      if (sizes) for (const map of STATE_MAPS) this.stateEntries.set({ map }, sizes[map]);
    },
  });
  private stateSource: (() => Readonly<Record<StateMap, number>>) | undefined;

  /** Where `petrel_relay_state_entries` reads the map sizes from. */
  observeState(source: () => Readonly<Record<StateMap, number>>): void {
    this.stateSource = source;
  }

  /** Adapter the wire decoder counts its refusals through. */
  readonly wire: WireMetrics = {
    inc: (name, labels) => {
      if (name === VALIDATION_FAILURE_METRIC) this.rejectedFrames.inc({ reason: labels?.reason ?? 'unknown' });
    },
  };
}
