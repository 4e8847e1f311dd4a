/**
 * What the store's writes changed in the rows the open chat shows, so the view
 * projection re-reads those rows alone instead of the whole chat window on every change
 * (issue 22: the window was read again from IndexedDB for every status move).
 *
 * `trackViewChanges(store, changes)` is the running core's store with every write
 * reported here once it committed: the message rows it wrote by id (a send, a receive, a
 * receipt, an action, a read, and what another device of our account sent or read), outbox entries by envelope id (sent, failed: the
 * projection knows which shown row carries each), and the row a sent or failed copy moved
 * (a copy to another device of the contact is not the one the row's envelope id names). A write this file does not know —
 * a new store method included — marks everything, so the next refresh reads the whole
 * window again: unknown never means stale.
 */
import type { IncomingCommit, OutgoingCommit, PendingOutgoingCommit, PetrelStore, ReadCommit, SentCommitted } from '../store/index.ts';

export interface TakenChanges {
  /** Read the whole window again (something changed that is not known row by row). */
  readonly all: boolean;
  readonly messageIds: ReadonlySet<string>;
  readonly envelopeIds: ReadonlySet<string>;
  /** Read the lists again (conversations, groups): a write that may change them. */
  readonly lists: boolean;
  /** Count the queue again (outbox entries added or removed). */
  readonly queue: boolean;
  /**
   * Only status moves by receipts, which may have removed an outbox entry (delivered while
   * still queued): the rows are shown first, the queue is counted again right after.
   */
  readonly queueSoon: boolean;
}

export class ViewChanges {
  private all = true;
  private lists = true;
  private queue = true;
  private queueSoon = false;
  private messageIds = new Set<string>();
  private envelopeIds = new Set<string>();

  message(id: string | undefined): void {
    if (typeof id === 'string') this.messageIds.add(id);
  }

  envelope(id: string): void {
    if (typeof id === 'string') this.envelopeIds.add(id);
  }

  /** The conversations or groups lists may have changed (and with them the queue). */
  listsChanged(): void {
    this.lists = true;
    this.queue = true;
  }

  queueChanged(): void {
    this.queue = true;
  }

  /** Receipts moved rows only; an outbox entry may have gone with them. */
  queueMayHaveChanged(): void {
    this.queueSoon = true;
  }

  everything(): void {
    this.all = true;
    this.lists = true;
    this.queue = true;
  }

  /** What changed since the last take; the record starts empty again. */
  take(): TakenChanges {
    const taken = { all: this.all, messageIds: this.messageIds, envelopeIds: this.envelopeIds, lists: this.lists, queue: this.queue, queueSoon: this.queueSoon && !this.queue };
    this.all = false;
    this.lists = false;
    this.queue = false;
    this.queueSoon = false;
    this.messageIds = new Set();
    this.envelopeIds = new Set();
    return taken;
  }
}

type StoreMethod = keyof PetrelStore;

/** Reads: they change nothing. */
const READS: ReadonlySet<StoreMethod> = new Set<StoreMethod>([
  'loadIdentity',
  'getContact',
  'listContacts',
  'getSession',
  'pendingJobs',
  'jobsAwaitingSession',
  'dueOutbox',
  'outboxHeads',
  'nextDueAt',
  'queueDepth',
  'processedEnvelopes',
  'resendable',
  'listConversations',
  'getConversation',
  'getMessage',
  'pageMessages',
  'unreadIncoming',
  'loadCounters',
  'getMeta',
  'health',
  'close',
]);

/** Writes that touch no message row (contacts are projected from the directory on every refresh). */
const NO_MESSAGE_ROWS: ReadonlySet<StoreMethod> = new Set<StoreMethod>([
  'saveIdentity',
  'savePreKeyPool',
  'putContact',
  'setVerification',
  'commitSession',
  'pruneDedup',
  'pruneResendable',
  'saveCounters',
  'setMeta',
]);

// An action (edit, delete for everyone, reaction) changes its target and every row that
// quotes it (a reply shows "This message was deleted" or the edited text): the whole window.
function outgoingRows(changes: ViewChanges, c: OutgoingCommit | PendingOutgoingCommit): void {
  changes.message(c?.message?.id);
  changes.listsChanged();
  if (c?.action) changes.everything();
}

/** Parts of an incoming commit that change no list and no queue entry of their own (a receipt's commit has only these). */
const STATUS_ONLY_PARTS: ReadonlySet<string> = new Set(['envelopeId', 'from', 'receivedAt', 'sessionUpdate', 'preKeyPool', 'statusUpdates']);

function incomingRows(changes: ViewChanges, c: IncomingCommit): void {
  if (c && typeof c === 'object' && Object.entries(c).every(([k, v]) => v === undefined || STATUS_ONLY_PARTS.has(k))) {
    if (c.statusUpdates?.length) changes.queueMayHaveChanged();
  } else changes.listsChanged();
  changes.message(c?.message?.id);
  // What another device of our account sent (a new outgoing row here) and read (rows now read).
  changes.message(c?.transcript?.id);
  for (const id of c?.readElsewhere?.messageIds ?? []) changes.message(id);
  if (c?.action) changes.everything();
  for (const u of c?.statusUpdates ?? []) changes.message(u?.messageId);
}

/** Writes whose effect on the lists and the queue their entry in WRITES says (every other write: the lists read again). */
const STATUS_ONLY_WRITES: ReadonlySet<StoreMethod> = new Set<StoreMethod>(['markSent', 'recordAttemptFailure', 'markFailed', 'retry', 'commitIncoming', 'commitIncomingBatch', 'commitPendingProtocol']);

/** The rows a committed write changed (called with the write's arguments and what it resolved to). */
const WRITES: Partial<Record<StoreMethod, (changes: ViewChanges, args: readonly unknown[], result: unknown) => void>> = {
  commitOutgoing: (ch, [c]) => outgoingRows(ch, c as OutgoingCommit),
  commitPendingOutgoing: (ch, [c]) => outgoingRows(ch, c as PendingOutgoingCommit),
  // A group frame waiting for its session: no row, one more entry in the queue.
  commitPendingProtocol: (ch) => ch.queueChanged(),
  // The row a sent copy moved: not always the one whose envelope id the row names (a copy to another device of the contact).
  markSent: (ch, [id], written) => (ch.envelope(id as string), ch.message((written as SentCommitted | undefined)?.moved), ch.queueChanged()),
  recordAttemptFailure: (ch, [id]) => (ch.envelope(id as string), ch.queueChanged()),
  // The row a failed copy changed: not always the one whose envelope id the row names (a copy to another device of the contact).
  markFailed: (ch, [id], written) => (ch.envelope(id as string), ch.message(written as string | undefined), ch.queueChanged()),
  retry: (ch, [id]) => (ch.message(id as string), ch.queueChanged()),
  deleteMessageLocally: (ch, [id]) => (ch.message(id as string), ch.listsChanged()),
  commitIncoming: (ch, [c]) => incomingRows(ch, c as IncomingCommit),
  commitIncomingBatch: (ch, [cs]) => {
    for (const c of (cs as readonly IncomingCommit[]) ?? []) incomingRows(ch, c);
  },
  commitRead: (ch, [c]) => {
    ch.listsChanged();
    for (const id of (c as ReadCommit)?.messageIds ?? []) ch.message(id);
  },
};

/** `store` with every committed write reported to `changes` (see the file's comment). */
export function trackViewChanges<S extends PetrelStore>(store: S, changes: ViewChanges): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const method = prop as StoreMethod;
      const fn = value as (...args: unknown[]) => unknown;
      // Run on the store itself: its own inner calls never come back through here.
      if (typeof prop !== 'string' || READS.has(method)) return (...args: unknown[]) => fn.apply(target, args);
      return (...args: unknown[]) => {
        const result = fn.apply(target, args);
        const report = (resolved: unknown) => {
          if (NO_MESSAGE_ROWS.has(method)) return;
          // Writes not known part by part (below) may change anything the lists show.
          if (!STATUS_ONLY_WRITES.has(method)) changes.listsChanged();
          const rows = WRITES[method];
          if (rows) rows(changes, args, resolved);
          else changes.everything();
        };
        if (result instanceof Promise) return result.then((r: unknown) => (report(r), r));
        report(result);
        return result;
      };
    },
  });
}
