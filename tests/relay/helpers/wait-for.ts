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
