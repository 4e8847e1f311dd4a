/**
 * The storage state the core (and the UI) observes. `ok` until something goes wrong;
 * the failure states are sticky except `quota_exceeded`, which clears on the next
 * successful write (the user freed space).
 */
export type StorageState = 'ok' | 'quota_exceeded' | 'blocked' | 'closed' | 'version_changed';

export interface StorageHealthView {
  get(): StorageState;
  subscribe(listener: (state: StorageState) => void): () => void;
}

export class StorageHealth implements StorageHealthView {
  private state: StorageState = 'ok';
  private readonly listeners = new Set<(state: StorageState) => void>();

  get(): StorageState {
    return this.state;
  }

  set(next: StorageState): void {
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l(next);
  }

  /** A write committed: a quota problem is over; a blocked open resolved. */
  recordSuccess(): void {
    if (this.state === 'quota_exceeded' || this.state === 'blocked') this.set('ok');
  }

  subscribe(listener: (state: StorageState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
