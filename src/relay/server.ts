import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES, type ErrorCode } from '../core/wire/index.ts';
import { CHUNKS_IN_MEMORY, ChunkMemoryBudget, serveBlobRoute } from './blobs/blob-routes.ts';
import { VAULT_BODIES_IN_MEMORY, serveVaultRoute } from './vault/vault-routes.ts';
import type { RelayConfig } from './config.ts';
import { clientIp } from './http/client-ip.ts';
import { serveOperationalRoute } from './http/operational-routes.ts';
import { servePushKeyRoute } from './http/push-key-route.ts';
import { publicAddressLookup } from './push/public-address-lookup.ts';
import { PushNotifier } from './push/push-notifier.ts';
import { originAllowed } from './http/origin-policy.ts';
import { requestPath } from './http/request-target.ts';
import { HttpConnectionSlots } from './http/http-connection-slots.ts';
import type { Socket } from 'node:net';
import { SECURITY_HEADERS } from './http/security-headers.ts';
import { hasAppShell, serveStatic } from './http/static-files.ts';
import { ConnectionLimiter } from './limits/connection-limiter.ts';
import type { RateLimitStore } from './limits/rate-limit-store.ts';
import { WriteBatcher } from './mailbox/write-batcher.ts';
import type { DeliveryPump } from './mailbox/delivery-pump.ts';
import { descriptorsNeeded, openFileLimit } from './fd-limit.ts';
import { RelayMetrics, type HandlerSite, type HttpRoute } from './metrics.ts';
import { listenFailure, RelayStartError } from './start-error.ts';
import { openRelayStores } from './storage/relay-stores.ts';
import { CLOSE_GOING_AWAY, CLOSE_POLICY, Connection } from './ws/connection.ts';
import type { RelayContext } from './ws/relay-context.ts';
import { DEFAULT_LINK_CHANNEL_LIMITS, type LinkChannelLimits } from './link/link-channels.ts';
import { FrameRouter } from './ws/router.ts';
import { SessionRegistry } from './ws/session-registry.ts';
import { classifySocketError } from './ws/socket-errors.ts';
import { stageTraceFile } from './stage-trace-file.ts';

/** Paths that accept a WebSocket upgrade. */
export const WEBSOCKET_PATHS: readonly string[] = ['/ws', '/'];
/**
 * ws refuses (closes with 1009) payloads above this before buffering them; frames between
 * MAX_FRAME_BYTES and this still get a `too_large` error frame from the decoder.
 */
export const WS_MAX_PAYLOAD = MAX_FRAME_BYTES + 64 * 1024;

export interface Relay {
  readonly server: Server;
  readonly metrics: RelayMetrics;
  /** The Web Push sender (its `settled()` lets tests and shutdown wait for pushes in flight). */
  readonly push: PushNotifier;
  /** The port actually bound (useful with PORT=0 in tests). */
  port(): number;
  /** Graceful shutdown: stop accepting, commit accepted deposits, close sockets (1001), close the database. Bounded by shutdownTimeoutMs. */
  close(): Promise<void>;
}

function notFound(res: ServerResponse): 'not_found' {
  res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('not found');
  return 'not_found';
}

function badRequest(res: ServerResponse): 'bad_request' {
  res.writeHead(400, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  res.end('bad request');
  return 'bad_request';
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Stores a relay may be given instead of its embedded defaults (several nodes would share them). */
export interface RelayDependencies {
  /** Per-IP token buckets; default: in memory. The relay closes it on shutdown. */
  readonly rateLimits?: RateLimitStore;
  /** Device-link channel limits (tests make them small); default DEFAULT_LINK_CHANNEL_LIMITS. */
  readonly linkLimits?: Partial<LinkChannelLimits>;
}

/** Listens on host:port; a failure becomes a RelayStartError saying what to change. */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(listenFailure(err, port, host));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/**
 * Opens the database and listens. Fails with a RelayStartError (port in use, data dir not
 * writable, schema newer than this relay, ...) after releasing whatever it had opened.
 */
export async function startRelay(config: RelayConfig, log: Logger, deps: RelayDependencies = {}): Promise<Relay> {
  const metrics = new RelayMetrics();
  const stores = await openRelayStores(config, log, metrics);
  const { mailboxes, prekeys, devices } = stores;
  const now = () => Date.now();
  const rateLimits = deps.rateLimits ?? stores.rateLimits;
  const limiter = new ConnectionLimiter(config.maxConnections, config.maxConnectionsPerIp);
  const registry = new SessionRegistry();
  const pumps = new Map<Connection, DeliveryPump>();
  const links = stores.links({ ...DEFAULT_LINK_CHANNEL_LIMITS, ...deps.linkLimits }, now, {
    closed: (conn, ch) => {
      metrics.linkChannels.inc({ event: 'ended' });
      conn.send({ t: 'link.closed', ch });
    },
    readsPaused: () => metrics.pausedReads.inc(),
  });
  const fanout = stores.fanout({ registry, pumps, prekeyLowThreshold: config.prekeyLowThreshold });
  const batcher = new WriteBatcher(mailboxes, now, (n) => metrics.commitBatch.observe(n));
  const trace = config.traceFile ? stageTraceFile(config.traceFile) : undefined;
  let draining = false;
  let push: PushNotifier;
  try {
    push = await PushNotifier.open({
      store: stores.push,
      rateLimits,
      metrics,
      log,
      now,
      ttlSeconds: Math.floor(config.retentionMs / 1000),
      subject: config.push.subject,
      timeoutMs: config.push.timeoutMs,
      lookup: publicAddressLookup(config.push.allowLoopback),
    });
  } catch (err) {
    await links.close();
    await stores.close();
    throw new RelayStartError('database', `cannot read or store the VAPID keys: ${errorMessage(err)}`, { cause: err });
  }

  const ctx: RelayContext = {
    config,
    log,
    metrics,
    mailboxes,
    prekeys,
    devices,
    rateLimits,
    pushStore: stores.push,
    push,
    batcher,
    registry,
    pumps,
    links,
    fanout,
    now,
    ...(trace ? { trace } : {}),
    isDraining: () => draining,
    sendError(conn, code: ErrorCode, msg, rid) {
      metrics.errorsSent.inc({ code });
      conn.send(rid === undefined ? { t: 'error', code, msg: msg.slice(0, 200) } : { t: 'error', code, rid, msg: msg.slice(0, 200) });
    },
  };
  const router = new FrameRouter(ctx);
  metrics.observeStoredBytes(() => mailboxes.storedBytes());
  metrics.observeState(() => ({
    sessions: registry.all.size,
    mailbox_bindings: registry.boundMailboxes(),
    device_watches: registry.watchedAccounts(),
    link_channels: links.size,
    delivery_pumps: ctx.pumps.size,
    rate_limit_buckets: rateLimits.localEntries(),
    ip_slots: limiter.ipCount(),
  }));

  /** An unexpected error in a handler: logged and counted; the caller ends only its own request or connection. */
  const handlerFailed = (where: HandlerSite, err: unknown) => {
    metrics.handlerFailures.inc({ where });
    log.error({ where, err: errorMessage(err) }, 'handler failed; only its request or connection is closed');
  };

  const blobDeps = {
    store: stores.blobs,
    config: config.blobs,
    metrics,
    log,
    now,
    draining: () => draining,
    rateLimits,
    trustProxy: config.trustProxy,
    chunkMemory: new ChunkMemoryBudget(CHUNKS_IN_MEMORY * config.blobs.chunkMaxBytes),
    failed: (err: unknown) => handlerFailed('http', err),
  };
  metrics.observeBlobBytes(() => stores.blobs.totalBytes());
  metrics.observeBlobChunkMemory(() => blobDeps.chunkMemory.inUse);
  const vaultDeps = {
    store: stores.vaults,
    config: config.vault,
    metrics,
    now,
    draining: () => draining,
    rateLimits,
    trustProxy: config.trustProxy,
    bodyMemory: new ChunkMemoryBudget(VAULT_BODIES_IN_MEMORY * config.vault.maxBytes),
    failed: (err: unknown) => handlerFailed('http', err),
  };
  metrics.observeVaultBytes(() => stores.vaults.totalBytes());
  metrics.observePushSubscriptions(() => stores.push.count());

  const routeHttp = (req: IncomingMessage, res: ServerResponse): HttpRoute => {
    const path = requestPath(req.url);
    if (path === undefined) return badRequest(res);
    if (serveBlobRoute(req, path, res, blobDeps)) return 'blobs';
    if (serveVaultRoute(req, path, res, vaultDeps)) return 'vault';
    if (servePushKeyRoute(req, path, res, push.publicKey)) return 'push_key';
    return (
      serveOperationalRoute(req, path, res, { stores, metrics, draining: () => draining }) ??
      (serveStatic(config.appDir, path, req, res, SECURITY_HEADERS) ? 'static' : notFound(res))
    );
  };

  const server = createServer({
    headersTimeout: config.httpHeadersTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    // How often Node checks the two timeouts above (default 30 s, far too coarse for them).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.httpHeadersTimeoutMs / 2))),
  }, (req, res) => {
    const timed = metrics.timeHttp();
    let route: HttpRoute = 'failed';
    res.once('close', () => timed(route));
    try {
      route = routeHttp(req, res);
    } catch (err) {
      handlerFailed('http', err);
      route = 'failed';
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(500, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
        res.end('internal error');
      }
    }
  });

  const httpSlots = new HttpConnectionSlots(config.maxHttpConnections, config.maxHttpConnectionsPerIp, !config.trustProxy);
  httpSlots.attach(server, (reason) => metrics.httpConnectionsRefused.inc({ reason }));
  metrics.observeHttpConnections(() => httpSlots.count());

  // Requests Node's parser refuses (bad request line, header overflow, timeouts) end here, counted.
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    const reason =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? 'too_large' : err.code === 'ECONNRESET' ? 'reset' : 'bad_request';
    metrics.httpClientErrors.inc({ reason });
    if (reason === 'reset' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = reason === 'timeout' ? '408 Request Timeout' : reason === 'too_large' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false, clientTracking: false });

  const onSlowConsumer = (conn: Connection) => {
    metrics.slowConsumers.inc();
    log.warn({ conn: conn.id }, 'closing slow consumer');
    conn.terminateFor('slow_consumer');
  };

  const onSocketError = (conn: Connection, err: Error & { code?: string }) => {
    const refusal = classifySocketError(err.code);
    if (!refusal) {
      log.debug({ conn: conn.id, err: err.message }, 'socket error');
      return;
    }
    metrics.rejectedFrames.inc({ reason: refusal.frameReason });
    conn.markClosing(refusal.closeReason);
    log.info({ conn: conn.id, code: err.code }, 'closed: frame refused by the WebSocket layer');
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    // From here the WebSocket caps count this connection (or it is refused and closed).
    httpSlots.release(socket as Socket);
    const path = requestPath(req.url);
    if (path === undefined) {
      metrics.upgrades.inc({ result: 'bad_request' });
      refuseUpgrade(socket, 400, 'Bad Request');
      return;
    }
    if (!WEBSOCKET_PATHS.includes(path)) {
      metrics.upgrades.inc({ result: 'not_found' });
      refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (draining) {
      metrics.upgrades.inc({ result: 'draining' });
      refuseUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    if (!originAllowed(req.headers.origin, req.headers.host, config.allowedOrigins)) {
      metrics.upgrades.inc({ result: 'origin' });
      refuseUpgrade(socket, 403, 'Forbidden');
      return;
    }
    const ip = clientIp(req, config.trustProxy);
    const refusal = limiter.acquire(ip);
    if (refusal) {
      metrics.upgrades.inc({ result: refusal });
      refuseUpgrade(socket, refusal === 'capacity' ? 503 : 429, refusal === 'capacity' ? 'Service Unavailable' : 'Too Many Requests');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      metrics.upgrades.inc({ result: 'accepted' });
      metrics.connections.inc();
      const conn = new Connection(ws, ip, { perSec: config.connFramesPerSec, burst: config.connFrameBurst }, now(), config.maxBufferedBytes, onSlowConsumer, config.slowConsumerTimeoutMs);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        try {
          router.onMessage(conn, data, isBinary);
        } catch (err) {
          handlerFailed('ws_message', err);
          conn.terminateFor('internal_error');
        }
      });
      ws.on('pong', () => {
        conn.alive = true;
      });
      ws.on('error', (err: Error & { code?: string }) => onSocketError(conn, err));
      // A connection that never authenticates may deposit and signal for a while, then goes.
      const authTimer = setTimeout(() => {
        if (!conn.authenticated && conn.open) {
          metrics.authTimeouts.inc();
          conn.closeFor('auth_timeout', CLOSE_POLICY, 'not authenticated in time');
        }
      }, config.authTimeoutMs);
      authTimer.unref();
      ws.once('close', (code: number) => {
        clearTimeout(authTimer);
        limiter.release(ip);
        metrics.connections.dec();
        metrics.connectionsClosed.inc({ reason: conn.closeReason });
        try {
          router.onClose(conn);
        } catch (err) {
          handlerFailed('ws_close', err);
        }
        log.debug({ conn: conn.id, code, reason: conn.closeReason }, 'connection closed');
      });
      try {
        router.onOpen(conn);
      } catch (err) {
        handlerFailed('ws_message', err);
        conn.terminateFor('internal_error');
      }
    });
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      upgrade(req, socket, head);
    } catch (err) {
      handlerFailed('upgrade', err);
      socket.destroy();
    }
  });

  // Heartbeat: a connection that did not answer the previous ping (nor sent anything) is dead.
  const heartbeat = setInterval(() => {
    links.expire();
    for (const conn of registry.all) {
      if (!conn.alive) {
        metrics.heartbeatTimeouts.inc();
        conn.terminateFor('heartbeat_timeout');
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch (err) {
        handlerFailed('ws_message', err);
        conn.terminateFor('internal_error');
      }
    }
  }, config.heartbeatIntervalMs);
  heartbeat.unref();

  // Retention sweep; also resynchronises the queue-depth gauge. (Rate-limit stores sweep themselves.)
  const sweep = async () => {
    const expired = await mailboxes.expire(now());
    if (expired > 0) {
      metrics.expired.inc(expired);
      log.info({ expired }, 'expired envelopes past retention');
    }
    metrics.queueDepth.set(await mailboxes.totalQueued());
    const expiredBlobs = await stores.blobs.expire(now());
    if (expiredBlobs > 0) {
      metrics.blobsDeleted.inc({ reason: 'expired' }, expiredBlobs);
      log.info({ expired: expiredBlobs }, 'deleted attachment blobs past retention');
    }
    const expiredVaults = await stores.vaults.expire(now());
    if (expiredVaults > 0) log.info({ expired: expiredVaults }, 'deleted backups past vault retention');
  };
  const sweeper = setInterval(() => void sweep().catch((err: unknown) => handlerFailed('sweep', err)), config.sweepIntervalMs);
  sweeper.unref();

  // Deleted envelopes are zeroed in the database file (secure_delete), but their old pages
  // stay in the -wal file until a checkpoint copies the zeroed pages back; TRUNCATE then
  // empties the WAL, so acknowledged ciphertext leaves the relay's files within this period.
  const checkpoint = setInterval(() => {
    try {
      if (stores.checkpoint()) metrics.walCheckpoints.inc();
    } catch (err) {
      handlerFailed('sweep', err);
    }
  }, config.walCheckpointIntervalMs);
  checkpoint.unref();

  try {
    await sweep().catch((err: unknown) => {
      const where = config.store.kind === 'sqlite' ? `in PETREL_DATA_DIR=${config.dataDir}` : 'at DATABASE_URL';
      throw new RelayStartError('database', `the database ${where} does not answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    await listen(server, config.port, config.host);
  } catch (err) {
    clearInterval(heartbeat);
    clearInterval(sweeper);
    clearInterval(checkpoint);
    trace?.close();
    wss.close();
    await fanout.close();
    await links.close();
    await rateLimits.close();
    if (deps.rateLimits) await stores.rateLimits.close();
    await stores.close();
    throw err;
  }
  // After listening, server errors (e.g. accept failing for lack of file descriptors) are logged, not fatal.
  server.on('error', (err) => log.error({ err: err.message }, 'server error'));
  const port = () => {
    const a = server.address();
    return typeof a === 'object' && a ? a.port : config.port;
  };
  log.info({ port: port(), ...stores.describe }, 'relay listening');
  const fdLimit = openFileLimit();
  const fdNeeded = descriptorsNeeded(config.maxConnections, config.maxHttpConnections);
  if (fdLimit !== undefined && fdLimit < fdNeeded) {
    log.warn(
      { openFileLimit: fdLimit, needed: fdNeeded },
      'the open-file limit is below PETREL_MAX_CONNECTIONS + PETREL_MAX_HTTP_CONNECTIONS + 64: raise the hard limit (LimitNOFILE=, ulimit -Hn) or lower the caps, or new connections fail once descriptors run out',
    );
  }
  if (!hasAppShell(config.appDir)) {
    log.warn({ appDir: config.appDir }, 'no index.html in PETREL_APP_DIR: the app is not served, only /ws, /health, /ready and /metrics (build it with npm run build:app)');
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      clearInterval(heartbeat);
      clearInterval(sweeper);
      clearInterval(checkpoint);
      trace?.close();
      const deadline = Date.now() + config.shutdownTimeoutMs;
      const within = <T>(p: Promise<T>) =>
        Promise.race([p, new Promise<void>((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
      server.close();
      // Stop reading new frames; frames already read finish (accepted deposits are committed and answered).
      for (const conn of registry.all) conn.ws.pause();
      await within(batcher.idle());
      // Let the `sent` replies of the last batch reach the send buffers.
      await new Promise<void>((r) => setImmediate(r));
      const open = [...registry.all];
      await within(
        Promise.all(
          open.map(
            (conn) =>
              new Promise<void>((resolve) => {
                if (conn.ws.readyState === conn.ws.CLOSED) return resolve();
                conn.ws.once('close', () => resolve());
                // Read again so the close handshake completes; the router refuses frames while draining.
                conn.ws.resume();
                conn.closeFor('shutdown', CLOSE_GOING_AWAY, 'relay shutting down');
              }),
          ),
        ),
      );
      for (const conn of registry.all) conn.terminateFor('shutdown');
      server.closeAllConnections();
      wss.close();
      // Pushes already started end (each is bounded by PETREL_PUSH_TIMEOUT_MS) before the stores close.
      await within(push.settled());
      await fanout.close();
      await links.close();
    await links.close();
      await rateLimits.close();
      if (deps.rateLimits) await stores.rateLimits.close();
      await stores.close();
      log.info('relay stopped');
    })();
    return closing;
  };

  return { server, metrics, push, port, close };
}
