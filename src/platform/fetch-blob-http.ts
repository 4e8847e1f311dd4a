/**
 * BlobHttp (src/core/attachments/blob-http.ts) over fetch, for the browser (and Node, which
 * has the same fetch). Same-origin requests to the relay that served the app; `base` is
 * its origin. Bodies stream through the ReadableStream reader, so a download is never
 * buffered whole.
 */
import type { BlobHttp, BlobHttpRequest, BlobHttpResponse } from '../core/attachments/blob-http.ts';

async function* readBody(body: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array, void, undefined> {
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

export function fetchBlobHttp(base: string, fetchImpl: typeof fetch = fetch): BlobHttp {
  return {
    async send(request: BlobHttpRequest): Promise<BlobHttpResponse> {
      const res = await fetchImpl(new URL(request.path, base), {
        method: request.method,
        headers: request.headers,
        ...(request.body ? { body: request.body as Uint8Array<ArrayBuffer> } : {}),
        credentials: 'omit',
      });
      return {
        status: res.status,
        header: (name) => res.headers.get(name) ?? undefined,
        body: readBody(res.body),
        discard: async () => {
          await res.body?.cancel().catch(() => {});
        },
      };
    },
  };
}
