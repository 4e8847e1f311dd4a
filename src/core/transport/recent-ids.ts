/**
 * A bounded set of recently seen ids, oldest evicted first. It sits in front of the
 * store's durable dedup so replays and duplicates are dropped without a database read;
 * an id that fell out of it is still caught by the store.
 */
export const DEFAULT_RECENT_IDS_CAPACITY = 4096;

export class RecentIds {
  // A Map keeps insertion order, so the first key is always the oldest.
  private readonly ids = new Map<string, true>();

  constructor(readonly capacity = DEFAULT_RECENT_IDS_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('RecentIds capacity must be a positive integer');
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.set(id, true);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.keys().next().value as string;
      this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
