/**
 * What the attachment uploader and downloader need from HTTP, injected (the core has no
 * fetch of its own): one request at a time, a streamed response body. The browser passes
 * src/platform/fetch-blob-http.ts; tests pass a double or the same adapter in Node.
 * Requests are signed per docs/PROTOCOL.md §14.5 with the account's identity key.
 */
import { toBase64Url } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import { BLOB_AUTH_SCHEME, blobRequestPayload } from '../wire/blob-request-auth.ts';

export interface BlobHttpRequest {
  readonly method: 'POST' | 'HEAD' | 'PATCH' | 'GET' | 'DELETE' | 'PUT';
  /** Path on the relay, e.g. `/blobs/…`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

export interface BlobHttpResponse {
  readonly status: number;
  header(name: string): string | undefined;
  /** The body as it arrives (read it or `discard()` it). */
  readonly body: AsyncIterable<Uint8Array>;
  discard(): Promise<void>;
}

export interface BlobHttp {
  /** Rejects only when no answer arrived (network failure); any HTTP status resolves. */
  send(request: BlobHttpRequest): Promise<BlobHttpResponse>;
}

/** Signs requests as one account: its Ed25519 identity key and a signer over the payload. */
export interface BlobAccount {
  readonly identityKey: Uint8Array;
  sign(payload: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export type BlobTransferFailure = 'refused' | 'network' | 'lost';

/** The relay refused a request (`status`, its `error` code), the network failed past the retries, or the relay lost bytes it had confirmed. */
export class BlobTransferError extends Error {
  override readonly name = 'BlobTransferError';
  constructor(
    readonly kind: BlobTransferFailure,
    message: string,
    readonly status?: number,
    /** The relay's `error` code of a refusal (e.g. `over_quota`), when it sent one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Reads at most this much of a refusal's body for its `error` code. */
const REFUSAL_BODY_MAX_BYTES = 4096;

/** A refusal as a typed error carrying the relay's `error` code (its JSON body: `{"error": …}`). */
export async function refusalOf(res: BlobHttpResponse, what: string): Promise<BlobTransferError> {
  let text = '';
  try {
    const decoder = new TextDecoder();
    for await (const piece of res.body) {
      text += decoder.decode(piece, { stream: true });
      if (text.length > REFUSAL_BODY_MAX_BYTES) break;
    }
  } catch {
    // No body to read: the status says enough.
  }
  let code: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string' && /^[a-z_]{1,40}$/u.test(parsed.error)) code = parsed.error;
  } catch {
    code = undefined;
  }
  await res.discard().catch(() => undefined);
  return new BlobTransferError('refused', `${what}: the relay answered ${res.status}${code ? ` (${code})` : ''}`, res.status, code);
}

/** Sends `request` signed by `account` at `clock.now()`. */
export async function sendSigned(http: BlobHttp, account: BlobAccount, clock: Pick<Clock, 'now'>, request: BlobHttpRequest): Promise<BlobHttpResponse> {
  const timestamp = clock.now();
  const payload = blobRequestPayload({
    timestamp,
    method: request.method,
    path: request.path,
    uploadOffset: request.headers['Upload-Offset'],
    uploadLength: request.headers['Upload-Length'],
    recipientAccounts: request.headers['Petrel-Recipient-Accounts'],
  });
  const sig = await account.sign(payload);
  const authorization = `${BLOB_AUTH_SCHEME} ik=${toBase64Url(account.identityKey)}, ts=${timestamp}, sig=${toBase64Url(sig)}`;
  return http.send({ ...request, headers: { ...request.headers, Authorization: authorization } });
}

export function blobPath(blobId: Uint8Array): string {
  return `/blobs/${toBase64Url(blobId)}`;
}
