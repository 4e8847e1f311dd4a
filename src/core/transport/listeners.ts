/** A minimal typed listener set: the core's event plumbing without a framework. */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();

  add(listener: (value: T) => void): () => void {
    this.set.add(listener);
    return () => {
      this.set.delete(listener);
    };
  }

  emit(value: T): void {
    // Copy: a listener may unsubscribe itself while we iterate.
    for (const l of [...this.set]) l(value);
  }

  get size(): number {
    return this.set.size;
  }
}
