/**
 * How a client proves its account to the relay's blob endpoints (HTTP, docs/PROTOCOL.md
 * §14.5). There is no challenge round trip: the client signs the request itself, with a
 * timestamp the relay accepts within BLOB_AUTH_WINDOW_MS of its own clock.
 *
 *   Authorization: Petrel ik=<base64url IK>, ts=<ms since epoch>, sig=<base64url signature>
 *   sig = Ed25519(IK, "Petrel_Blob" ‖ 0x00 ‖ ts ‖ 0x00 ‖ METHOD ‖ 0x00 ‖ path ‖ 0x00 ‖ Upload-Offset ‖ 0x00 ‖ Upload-Length
 *                 [‖ 0x00 ‖ Petrel-Recipient-Accounts, only when the request carries that header])
 *
 * The recipient list (who may acknowledge the blob) is signed with the request, so it can be
 * neither added nor stripped on the way.
 * ts, Upload-Offset and Upload-Length are the decimal header strings ("" when the header is
 * absent); path is the request path without its query. The signature binds the request to
 * one blob, one method and one offset, so a captured header replayed within the window can
 * only repeat that same request (for a PATCH: a chunk at an offset already passed, refused).
 */
import { concatBytes, utf8 } from '../bytes.ts';

export const BLOB_AUTH_LABEL = 'Petrel_Blob';
/** Blob ids are this many random bytes, chosen by the relay (base64url in paths: 22 characters). */
export const BLOB_ID_BYTES = 16;
/** A request signed further than this from the relay's clock (either way) is refused. */
export const BLOB_AUTH_WINDOW_MS = 60_000;
/** The Authorization scheme name. */
export const BLOB_AUTH_SCHEME = 'Petrel';

export interface BlobRequestFields {
  readonly timestamp: number;
  readonly method: string;
  readonly path: string;
  readonly uploadOffset?: string | undefined;
  readonly uploadLength?: string | undefined;
  /** The `Petrel-Recipient-Accounts` header, when the request has one. */
  readonly recipientAccounts?: string | undefined;
}

const SEP = Uint8Array.of(0);

export function blobRequestPayload(r: BlobRequestFields): Uint8Array {
  return concatBytes(
    utf8(BLOB_AUTH_LABEL),
    SEP,
    utf8(String(r.timestamp)),
    SEP,
    utf8(r.method.toUpperCase()),
    SEP,
    utf8(r.path),
    SEP,
    utf8(r.uploadOffset ?? ''),
    SEP,
    utf8(r.uploadLength ?? ''),
    ...(r.recipientAccounts !== undefined ? [SEP, utf8(r.recipientAccounts)] : []),
  );
}
