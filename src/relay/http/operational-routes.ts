import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRoute, RelayMetrics } from '../metrics.ts';
import { StoreUnavailableError } from '../storage/relay-stores.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * `GET /health` (the process is up), `GET /ready` (the database answers and the relay is
 * not shutting down), `GET /metrics` (Prometheus text). Returns the route it served, or
 * undefined for other paths.
 */
export function serveOperationalRoute(
  req: IncomingMessage,
  path: string,
  res: ServerResponse,
  deps: { readonly stores: { check(): Promise<void> }; readonly metrics: RelayMetrics; readonly draining: () => boolean },
): Extract<HttpRoute, 'health' | 'ready' | 'metrics'> | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  if (path === '/health') {
    json(res, 200, { status: 'ok' });
    return 'health';
  }
  if (path === '/ready') {
    if (deps.draining()) {
      json(res, 503, { status: 'shutting_down' });
      return 'ready';
    }
    deps.stores
      .check()
      .then(() => json(res, 200, { status: 'ready' }))
      .catch((err: unknown) => json(res, 503, { status: err instanceof StoreUnavailableError && err.which === 'redis' ? 'redis_unavailable' : 'database_unavailable' }));
    return 'ready';
  }
  if (path === '/metrics') {
    deps.metrics.registry
      .metrics()
      .then((text) => {
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': deps.metrics.registry.contentType, 'Cache-Control': 'no-store' });
        res.end(text);
      })
      .catch(() => json(res, 500, { status: 'error' }));
    return 'metrics';
  }
  return undefined;
}
