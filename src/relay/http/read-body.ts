import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body of exactly `length` bytes (the caller checked Content-Length against
 * its caps). Resolves the bytes, or a reason in words when the body is longer or shorter
 * than declared or the connection ended inside it (nothing should then be stored).
 */
export async function readExactBody(req: IncomingMessage, length: number): Promise<Uint8Array | { readonly refused: string }> {
  const out = Buffer.allocUnsafe(length);
  let filled = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      if (filled + chunk.length > length) return { refused: 'body longer than Content-Length' };
      chunk.copy(out, filled);
      filled += chunk.length;
    }
  } catch {
    return { refused: 'the connection ended inside the body' }; // the client went away
  }
  if (filled !== length) return { refused: 'body shorter than Content-Length' };
  return new Uint8Array(out.buffer, out.byteOffset, length);
}
