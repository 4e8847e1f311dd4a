/**
 * Runs async tasks one at a time, in submission order. Every read-modify-write of a
 * ratchet session goes through the one lane, so two operations never advance the same
 * session from the same starting state (the store's session versions catch it if they
 * ever did).
 */
export class SerialLane {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
