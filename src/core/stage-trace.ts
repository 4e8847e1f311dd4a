/**
 * Opt-in timing marks at the steps of a message's way (compose committed, handed to a
 * transport, received, decrypted, committed, projected), for the end-to-end benchmark's
 * stage breakdown (bench/e2e.bench.ts, docs/bench/e2e-breakdown.md). Passed in like the
 * clock, never global: absent in normal use, where a mark costs one `?.` check. The
 * platform's recorder (src/platform/stage-recorder.ts) stamps each mark on one clock for
 * every page, worker and process of the machine (`performance.timeOrigin + performance.now()`).
 */
export interface StageTrace {
  /** The step `stage` (a short dotted name, e.g. `receive.committed`) happened now. */
  mark(stage: string): void;
}

/** Stage names the core marks (the benchmark looks these up). */
export const STAGES = {
  /** A `send` command reached the core. */
  sendCommand: 'send.command',
  /** The message, its session step and its outbox entry are durable (strict commit). */
  sendCommitted: 'send.committed',
  /** An outbox entry was handed to the router (a transport's send). */
  outboxHandoff: 'outbox.handoff',
  /** An envelope from a transport entered the receive pipeline. */
  receiveAccepted: 'receive.accepted',
  /** A receive batch was deduplicated, decrypted and assembled (its commit not yet issued). */
  receiveDecrypted: 'receive.decrypted',
  /** A receive batch is durable (strict commit), before its acks. */
  receiveCommitted: 'receive.committed',
  /** The view projection published a new state. */
  viewProjected: 'view.projected',
  /** The view showed authenticated receipts' status moves, their commit in flight. */
  viewPreviewed: 'view.previewed',
} as const;
