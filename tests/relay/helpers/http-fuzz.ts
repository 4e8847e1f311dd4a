import { connect } from 'node:net';

/** Request targets that made `new URL(req.url, …)` throw outside any handler and end the relay (issue 21). */
export const PROCESS_KILLING_TARGETS = ['//[', 'http://[', 'http://%zz/', 'http://a:99999/', 'http://:@/'] as const;

/** A small deterministic PRNG (LCG), so a fuzz run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'PRI', 'get', 'G E T', 'X'.repeat(40), ''];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1x', 'HTTX/1.1', ''];
const TARGET_PARTS = ['/', '//', '[', ']', '%', '%zz', '%00', '%2e%2e', '..', ':', '@', '?', '#', '*', 'http://', 'ws://', 'a', 'ws', 'health', 'ready', 'metrics', 'index.html', 'assets/', '\u00e9', '\u{1f600}', ':99999', '\\', ';', '&', '='];
const HEADER_NAMES = ['Host', 'Origin', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Content-Length', 'Transfer-Encoding', 'X-Forwarded-For', 'Expect', 'Range', 'If-None-Match', 'Cookie', 'X'];
const HEADER_VALUES = ['', 'websocket', 'Upgrade', 'keep-alive', 'close', 'chunked', '-1', '0', '99999999999999999999', '13', 'dGhlIHNhbXBsZSBub25jZQ==', 'bad', 'http://[', 'null', 'http://evil.example', '100-continue', 'bytes=0-0,1-1', '1.2.3.4, ::1'];

function pick<T>(next: () => number, xs: readonly T[]): T {
  return xs[next() % xs.length]!;
}

function randomTarget(next: () => number): string {
  if (next() % 8 === 0) return pick(next, PROCESS_KILLING_TARGETS);
  const parts: string[] = [];
  const n = 1 + (next() % 8);
  for (let i = 0; i < n; i++) parts.push(pick(next, TARGET_PARTS));
  let t = parts.join('');
  if (next() % 3 !== 0 && !t.startsWith('/')) t = '/' + t;
  if (next() % 50 === 0) t += 'a'.repeat(next() % 20_000);
  // The request line cannot carry raw spaces or line breaks; encode them as a client would have to.
  return t.replace(/[\s]/g, '%20');
}

function randomBytes(next: () => number, max: number): Buffer {
  const b = Buffer.alloc(next() % (max + 1));
  for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
  return b;
}

/**
 * One fuzzed HTTP/1.x request as raw bytes: a random or mutated request line (method,
 * target, version), random and hostile headers (duplicate lengths, chunked bodies,
 * upgrade headers, huge values) and a body; sometimes pure random bytes.
 */
export function fuzzedRequest(next: () => number): Buffer {
  if (next() % 10 === 0) return randomBytes(next, 600);
  const line = `${pick(next, METHODS)} ${randomTarget(next)} ${pick(next, VERSIONS)}`;
  const headers: string[] = [];
  if (next() % 4 !== 0) headers.push('Host: 127.0.0.1');
  const n = next() % 12;
  for (let i = 0; i < n; i++) {
    const value = next() % 40 === 0 ? 'v'.repeat(next() % 40_000) : pick(next, HEADER_VALUES);
    headers.push(`${pick(next, HEADER_NAMES)}: ${value}`);
  }
  if (next() % 20 === 0) headers.push('Bad Header Without Colon');
  if (next() % 20 === 0) headers.push(`X-Binary: ${randomBytes(next, 30).toString('latin1').replace(/[\r\n]/g, '')}`);
  const body = next() % 3 === 0 ? randomBytes(next, 2000) : Buffer.alloc(0);
  const chunked = next() % 10 === 0 ? Buffer.from(`${(next() % 4096).toString(16)}\r\n${'z'.repeat(next() % 50)}\r\nzz\r\n0\r\n\r\n`) : Buffer.alloc(0);
  return Buffer.concat([Buffer.from(`${line}\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1'), chunked, body]);
}

export type HttpOutcome = 'answered' | 'closed' | 'timeout' | 'refused';

/**
 * Writes `bytes` on a fresh TCP connection to the relay and waits for an HTTP status line,
 * the relay closing the connection, or `timeoutMs`. Returns the status code when answered.
 */
export function rawRequest(port: number, bytes: Buffer, timeoutMs: number, host = '127.0.0.1'): Promise<{ outcome: HttpOutcome; status?: number }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let got = '';
    let done = false;
    const finish = (r: { outcome: HttpOutcome; status?: number }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ outcome: 'timeout' }), timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const m = got.match(/^HTTP\/1\.[01] (\d{3})/);
      if (m) finish({ outcome: 'answered', status: Number(m[1]) });
    });
    socket.on('error', (err: Error & { code?: string }) => finish({ outcome: err.code === 'ECONNREFUSED' ? 'refused' : 'closed' }));
    socket.on('close', () => finish({ outcome: 'closed' }));
  });
}

/** Runs `tasks` with at most `width` at once. */
export async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let nextIndex = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      for (let i = nextIndex++; i < count; i = nextIndex++) out[i] = await task(i);
    }),
  );
  return out;
}
