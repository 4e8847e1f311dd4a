/**
 * What the store's writes changed in the rows the open chat shows, so the view
 * projection re-reads those rows alone instead of the whole chat window on every change
 * (issue 22: the window was read again from IndexedDB for every status move).
 *
 * `trackViewChanges(store, changes)` is the running core's store with every write
 * reported here once it committed: the message rows it wrote by id (a send, a receive, a
 * receipt, an action, a read, and what another device of our account sent or read), outbox entries by envelope id (sent, failed: the
 * projection knows which shown row carries each). A write this file does not know —
 * a new store method included — marks everything, so the next refresh reads the whole
 * window again: unknown never means stale.
 */
import type { IncomingCommit, OutgoingCommit, PendingOutgoingCommit, PetrelStore, ReadCommit } from '../store/index.ts';

export interface TakenChanges {
  /** Read the whole window again (something changed that is not known row by row). */
  readonly all: boolean;
  readonly messageIds: ReadonlySet<string>;
  readonly envelopeIds: ReadonlySet<string>;
}

export class ViewChanges {
  private all = true;
  private messageIds = new Set<string>();
  private envelopeIds = new Set<string>();

  message(id: string | undefined): void {
    if (typeof id === 'string') this.messageIds.add(id);
  }

  envelope(id: string): void {
    if (typeof id === 'string') this.envelopeIds.add(id);
  }

  everything(): void {
    this.all = true;
  }

  /** What changed since the last take; the record starts empty again. */
  take(): TakenChanges {
    const taken = { all: this.all, messageIds: this.messageIds, envelopeIds: this.envelopeIds };
    this.all = false;
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
  if (c?.action) changes.everything();
}

function incomingRows(changes: ViewChanges, c: IncomingCommit): void {
  changes.message(c?.message?.id);
  // What another device of our account sent (a new outgoing row here) and read (rows now read).
  changes.message(c?.transcript?.id);
  for (const id of c?.readElsewhere?.messageIds ?? []) changes.message(id);
  if (c?.action) changes.everything();
  for (const u of c?.statusUpdates ?? []) changes.message(u?.messageId);
}

/** The rows a committed write changed (called with the write's arguments after it resolved). */
const WRITES: Partial<Record<StoreMethod, (changes: ViewChanges, args: readonly unknown[]) => void>> = {
  commitOutgoing: (ch, [c]) => outgoingRows(ch, c as OutgoingCommit),
  commitPendingOutgoing: (ch, [c]) => outgoingRows(ch, c as PendingOutgoingCommit),
  markSent: (ch, [id]) => ch.envelope(id as string),
  recordAttemptFailure: (ch, [id]) => ch.envelope(id as string),
  markFailed: (ch, [id]) => ch.envelope(id as string),
  retry: (ch, [id]) => ch.message(id as string),
  deleteMessageLocally: (ch, [id]) => ch.message(id as string),
  commitIncoming: (ch, [c]) => incomingRows(ch, c as IncomingCommit),
  commitIncomingBatch: (ch, [cs]) => {
    for (const c of (cs as readonly IncomingCommit[]) ?? []) incomingRows(ch, c);
  },
  commitRead: (ch, [c]) => {
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
        const report = () => {
          if (NO_MESSAGE_ROWS.has(method)) return;
          const rows = WRITES[method];
          if (rows) rows(changes, args);
          else changes.everything();
        };
        if (result instanceof Promise) return result.then((r: unknown) => (report(), r));
        report();
        return result;
      };
    },
  });
}
