/**
 * `delivery.latency`: compose → delivered, observed for each of our messages a delivery
 * receipt just moved. The row says `delivered` as of that commit; a repeated receipt finds
 * it unchanged, and an older row already delivered or read keeps its earlier time, so
 * each message is observed once.
 */
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { PetrelStore } from '../store/index.ts';

export interface DeliveredMessage {
  readonly messageId: string;
  /** When the batch that carried the receipt committed. */
  readonly at: number;
}

export function observeDeliveryLatency(deps: { readonly store: PetrelStore; readonly metrics: Metrics; readonly log: Logger }, delivered: readonly DeliveredMessage[]): void {
  const { store, metrics, log } = deps;
  void (async () => {
    const rows = await Promise.all(delivered.map((d) => store.getMessage(d.messageId)));
    rows.forEach((m, i) => {
      const { at } = delivered[i]!;
      if (m?.direction === 'out' && m.status === 'delivered' && m.updatedAt === at) metrics.observe('delivery.latency', Math.max(0, at - m.sentAt));
    });
  })().catch((err: unknown) => log.warn('delivery latency not observed', { error: err instanceof Error ? err.name : 'unknown' }));
}
