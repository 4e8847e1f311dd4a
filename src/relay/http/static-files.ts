import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * Serves the built PWA from `root`. Hashed assets are immutable; the shell, the
 * manifest and the service worker are revalidated every time so updates reach users.
 * Unknown paths without an extension fall back to index.html (client-side routes).
 * `pathname` is the decoded path (see request-target.ts). Returns false when it did not
 * handle the request.
 */
export function serveStatic(root: string, pathname: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (pathname.includes('\0')) return false;
  const rel = normalize(pathname).replace(/^([/\\])+/, '');
  let file = join(root, rel || 'index.html');
  if (!file.startsWith(root + sep) && file !== root) return false;
  let st = statOrNull(file);
  if (st?.isDirectory()) {
    file = join(file, 'index.html');
    st = statOrNull(file);
  }
  if (!st && extname(rel) === '') {
    file = join(root, 'index.html');
    st = statOrNull(file);
  }
  if (!st || !st.isFile()) return false;

  const immutable = rel.startsWith('assets/');
  const encoded = precompressedCopy(file, req.headers['accept-encoding'], st.mtimeMs);
  res.writeHead(200, {
    ...headers,
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': encoded?.size ?? st.size,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...(encoded ? { 'Content-Encoding': encoded.encoding } : {}),
    // Every file that has a compressed copy answers differently per Accept-Encoding.
    ...(encoded || hasCopies(file) ? { Vary: 'Accept-Encoding' } : {}),
  });
  if (req.method === 'HEAD') res.end();
  else {
    const stream = createReadStream(encoded?.path ?? file);
    // A file that vanished or cannot be read ends this response, never the process.
    stream.once('error', () => res.destroy());
    stream.pipe(res);
  }
  return true;
}

/** The build's compressed copies (scripts/precompress.mjs), best first. */
const ENCODINGS = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;

/**
 * The compressed copy of `file` to send for this Accept-Encoding, if the build wrote one,
 * it is not older than the file, and the client takes it. An encoding the client lists with q=0 is refused (RFC 9110
 * §12.5.3); `*` stands for any encoding not listed.
 */
export function precompressedCopy(
  file: string,
  acceptEncoding: string | string[] | undefined,
  fileMtimeMs: number,
): { encoding: string; path: string; size: number } | undefined {
  const accepted = acceptedEncodings(Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : (acceptEncoding ?? ''));
  for (const { encoding, suffix } of ENCODINGS) {
    if (!accepted(encoding)) continue;
    const st = statOrNull(file + suffix);
    // A copy older than its file is stale (the file was changed after the build wrote it):
    // the file itself is the truth then.
    if (st?.isFile() && st.mtimeMs >= fileMtimeMs) return { encoding, path: file + suffix, size: st.size };
  }
  return undefined;
}

function hasCopies(file: string): boolean {
  return ENCODINGS.some(({ suffix }) => statOrNull(file + suffix)?.isFile() === true);
}

function acceptedEncodings(header: string): (encoding: string) => boolean {
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  return (encoding) => (q.get(encoding) ?? q.get('*') ?? 0) > 0;
}

/** Whether `root` holds a built app (its index.html); the relay warns at start when not. */
export function hasAppShell(root: string): boolean {
  return statOrNull(join(root, 'index.html'))?.isFile() ?? false;
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
