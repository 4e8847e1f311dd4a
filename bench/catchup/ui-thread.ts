/**
 * The UI thread while a catch-up runs (issue 22: its longest task ≤ 50 ms). A
 * PerformanceObserver of `longtask` entries watches the page while the receive runs
 * either on the page's own thread (as before issue 22) or in a dedicated Worker (as the
 * app runs its core now): the same bundle, loaded in the worker, answers calls by name.
 */

export interface LongTasks {
  /** The longest task the page's thread ran meanwhile (0: none over 50 ms, the API's threshold). */
  readonly longestMs: number;
  /** How many tasks over 50 ms. */
  readonly count: number;
}

/** Runs `work` while observing the page's long tasks. */
export async function watchLongTasks<T>(work: () => Promise<T>): Promise<{ result: T; longTasks: LongTasks }> {
  let longestMs = 0;
  let count = 0;
  const take = (entries: PerformanceEntryList) => {
    for (const e of entries) {
      longestMs = Math.max(longestMs, e.duration);
      count++;
    }
  };
  const observer = new PerformanceObserver((list) => take(list.getEntries()));
  observer.observe({ type: 'longtask' });
  try {
    const result = await work();
    // The last task's entry is queued once it ended: let it arrive.
    await new Promise((resolve) => setTimeout(resolve, 0));
    take(observer.takeRecords());
    return { result, longTasks: { longestMs, count } };
  } finally {
    observer.disconnect();
  }
}

type Api = Record<string, (...args: unknown[]) => unknown>;

/** In a worker: answer `{id, fn, args}` by calling the bundle's export `fn`. */
export function serveInWorker(api: Api): void {
  const scope = globalThis as unknown as { onmessage: ((ev: MessageEvent) => void) | null; postMessage(m: unknown): void };
  scope.onmessage = (ev) => {
    const { id, fn, args } = ev.data as { id: number; fn: string; args: unknown[] };
    Promise.resolve()
      .then(() => api[fn]!(...args))
      .then(
        (value) => scope.postMessage({ id, ok: true, value }),
        (err: unknown) => scope.postMessage({ id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  };
}

/** In the page: a worker running the same bundle, called by export name. */
export function workerCaller(url: string): { call<T>(fn: string, ...args: unknown[]): Promise<T>; terminate(): void } {
  const worker = new Worker(url);
  let next = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  worker.onmessage = (ev: MessageEvent<{ id: number; ok: boolean; value?: unknown; error?: string }>) => {
    const w = waiting.get(ev.data.id);
    waiting.delete(ev.data.id);
    if (ev.data.ok) w?.resolve(ev.data.value);
    else w?.reject(new Error(ev.data.error));
  };
  return {
    call: <T>(fn: string, ...args: unknown[]) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ id, fn, args });
      }),
    terminate: () => worker.terminate(),
  };
}
