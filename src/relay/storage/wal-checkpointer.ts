import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { RelayConfig } from '../config.ts';

/** How often the background connection copies committed WAL frames into the database file. */
export const CHECKPOINT_INTERVAL_MS = 100;

/**
 * WAL pages after which the relay's own connection checkpoints anyway (SQLite's automatic
 * checkpoint, on the committing thread): only reached when the background checkpoints fall
 * behind or stopped. SQLite's default, 1,000 pages, is six commits of a 100-member group
 * message.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

// The worker is plain CommonJS (evaluated, not loaded from a file), so it runs the same under
// tsx, vitest and the compiled relay. Its own connection: a PASSIVE checkpoint never takes
// the write lock, so the relay's commits go on while it copies pages and syncs the file.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
// The checkpoint syncs the WAL and the database file as the relay's synchronous level says
// (never OFF: frames must be on disk in the database before the WAL is reused).
db.pragma('synchronous = ' + workerData.synchronous);
// A TRUNCATE asked for (the relay's periodic one) is retried on each tick until it was not
// busy; it waits for the relay's write transaction like any checkpoint on its connection did.
let truncate = false;
const tick = () => {
  try {
    if (!truncate) db.pragma('wal_checkpoint(PASSIVE)');
    else if (db.pragma('wal_checkpoint(TRUNCATE)')[0].busy === 0) truncate = false;
  } catch (err) {
    parentPort.postMessage({ failed: err instanceof Error ? err.message : String(err) });
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'truncate') {
    truncate = true;
    tick();
    return;
  }
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface WalCheckpointer {
  /**
   * Asks for a TRUNCATE checkpoint (the WAL emptied, so deleted envelopes' old pages leave
   * the disk), run on the worker, retried until no reader or checkpoint was in the way.
   */
  truncate(): void;
  /** Stops checkpointing and closes the background connection. */
  close(): Promise<void>;
}

/**
 * Checkpoints the relay database's WAL from a worker thread, so that copying pages into the
 * database file and syncing it (milliseconds under load, every few group messages with
 * SQLite's automatic checkpoint) no longer stalls the event loop that commits deposits.
 * Durability is unchanged: a deposit is durable when its commit reached the WAL (synced on
 * every commit under synchronous=FULL); checkpoints only move it into the database file.
 * The caller keeps an automatic checkpoint at FALLBACK_AUTOCHECKPOINT_PAGES on its own
 * connection, so the WAL stays bounded if this worker fails.
 */
export function startWalCheckpointer(file: string, synchronous: RelayConfig['dbSynchronous'], onFailure: (message: string) => void): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, synchronous, intervalMs: CHECKPOINT_INTERVAL_MS } });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (m: { failed?: string }) => {
    if (m.failed) onFailure(m.failed);
  });
  worker.on('error', (err) => onFailure(err.message));
  return {
    truncate() {
      worker.postMessage('truncate');
    },
    async close() {
      // Held until it exited: an unreferenced worker would let the process end with this promise pending.
      worker.ref();
      worker.postMessage('close');
      await exited;
    },
  };
}
