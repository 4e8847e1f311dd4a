import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './security-headers.ts';

/** Where the app reads the relay's VAPID public key (its `applicationServerKey`). */
export const PUSH_KEY_PATH = '/push/key';

/** `GET /push/key` → `{"publicKey": "<base64url, 65 bytes>"}`; undefined for other requests. */
export function servePushKeyRoute(req: IncomingMessage, path: string, res: ServerResponse, publicKey: string): 'push_key' | undefined {
  if (path !== PUSH_KEY_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) return undefined;
  // The key never changes for this relay's store: caches may keep it for a day.
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'max-age=86400' });
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ publicKey }));
  return 'push_key';
}
