import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The client's IP, which per-IP limits count: the socket peer, or, behind a trusted
 * reverse proxy (`PETREL_TRUST_PROXY`), the LAST X-Forwarded-For entry: the one that
 * proxy appended (nginx `$proxy_add_x_forwarded_for`) or set (`$remote_addr`). Entries
 * to its left were sent by the client and can be anything, so they are never used.
 * A last entry that is not an IP address falls back to the socket peer.
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (!trustProxy) return peer;
  const header = req.headers['x-forwarded-for'];
  // Node joins repeated X-Forwarded-For headers with ", "; an array is handled the same way.
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  const added = entries.at(-1)?.trim() ?? '';
  return isIP(added) !== 0 ? added : peer;
}
