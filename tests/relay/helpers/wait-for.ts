import { get as httpGet } from 'node:http';

/** Polls `probe` until it returns a value that `done` accepts (a condition, not a fixed sleep). */
export async function waitFor<T>(probe: () => Promise<T> | T, done: (v: T) => boolean, what: string, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(v)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Reads one sample of a Prometheus metric from a relay's /metrics (0 when absent). */
export async function scrape(http: string, pattern: RegExp): Promise<number> {
  const m = (await (await fetch(`${http}/metrics`)).text()).match(pattern);
  return m ? Number(m[1]) : 0;
}

/** Like `scrape`, but from another loopback source address (so per-address caps on 127.0.0.1 do not apply to the probe). */
export function scrapeFrom(port: number, localAddress: string, pattern: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/metrics', localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        const m = text.match(pattern);
        resolve(m ? Number(m[1]) : 0);
      });
    });
    req.on('error', reject);
  });
}
