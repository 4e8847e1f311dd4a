/**
 * Receive step 1, dedup: the ingress guard has already dropped replays of envelopes this
 * core committed (its recent set); here the store's durable dedup marks catch the rest
 * (a redelivery after a restart, the same envelope over both paths). A duplicate is
 * settled as such (acknowledged, nothing decrypted). The store still checks the marks
 * again inside the commit: this read only saves the decryption.
 */
import { toHex } from '../bytes.ts';
import type { PetrelStore } from '../store/index.ts';
import type { PendingEnvelope } from './receive-batch.ts';

/** Reads the dedup marks of a batch (issued early; awaited by the caller). */
export function readDedupMarks(store: PetrelStore, batch: readonly PendingEnvelope[]): Promise<ReadonlySet<string>> {
  const seen = store.processedEnvelopes(batch.map((p) => toHex(p.incoming.envelope.id)));
  seen.catch(() => undefined); // awaited by the pipeline; not unhandled meanwhile
  return seen;
}

/** The envelopes of `batch` not yet processed; the others are settled as duplicates. */
export function withoutDuplicates<P extends PendingEnvelope>(batch: readonly P[], seen: ReadonlySet<string>): P[] {
  if (!seen.size) return [...batch];
  const fresh: P[] = [];
  for (const p of batch) {
    if (seen.has(toHex(p.incoming.envelope.id))) p.settle('duplicate');
    else fresh.push(p);
  }
  return fresh;
}
