/**
 * Where attachment bytes come from: an async iterable of chunks (a Node stream, an async
 * generator, a ReadableStream where it is async-iterable) or anything with a ReadableStream's
 * `getReader()`. Chunks may be any size; readers below re-cut them.
 */
export interface ReadableStreamLike {
  getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>; releaseLock(): void };
}

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStreamLike;

function isReadableStreamLike(source: ByteSource): source is ReadableStreamLike {
  return typeof (source as Partial<ReadableStreamLike>).getReader === 'function';
}

export async function* iterateBytes(source: ByteSource): AsyncGenerator<Uint8Array, void, undefined> {
  if (!isReadableStreamLike(source)) {
    yield* source;
    return;
  }
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Reads exact byte counts from a chunked source, copying only what straddles chunk boundaries. */
export class ExactReader {
  private readonly chunks: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;

  constructor(source: ByteSource) {
    this.chunks = iterateBytes(source)[Symbol.asyncIterator]();
  }

  /** Exactly `length` bytes, or fewer only when the source ended first. */
  async read(length: number): Promise<Uint8Array> {
    if (this.pending.length >= length) return this.take(length);
    const out = new Uint8Array(length);
    let filled = 0;
    for (;;) {
      const n = Math.min(this.pending.length, length - filled);
      out.set(this.pending.subarray(0, n), filled);
      filled += n;
      this.pending = this.pending.subarray(n);
      if (filled === length) return out;
      if (!(await this.pull())) return out.subarray(0, filled);
    }
  }

  /** True when the source has no more bytes. */
  async atEnd(): Promise<boolean> {
    while (this.pending.length === 0) if (!(await this.pull())) return true;
    return false;
  }

  /** Stops the source early (a failure): lets a stream or file handle close. */
  async cancel(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.chunks.return?.();
    }
  }

  private take(length: number): Uint8Array {
    const out = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    return out;
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.pending = next.value;
    return true;
  }
}
