import type { IncomingMessage } from 'node:http';
import { BLOB_AUTH_SCHEME, BLOB_AUTH_WINDOW_MS, blobRequestPayload } from '../../core/wire/blob-request-auth.ts';
import { mailboxAddress } from '../../core/wire/mailbox-address.ts';
import { isStrictEd25519PublicKey, verifyEd25519 } from '../crypto/ed25519-verify.ts';

const HEADER = new RegExp(`^${BLOB_AUTH_SCHEME} ik=([A-Za-z0-9_-]{43}), ?ts=(\\d{1,16}), ?sig=([A-Za-z0-9_-]{86})$`);

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

export type BlobAuthResult = { readonly ok: true; readonly account: Uint8Array } | { readonly ok: false; readonly why: 'missing' | 'malformed' | 'stale' | 'weak_identity_key' | 'bad_signature' };

/**
 * Checks a blob request's `Authorization: Petrel ik=…, ts=…, sig=…` (docs/PROTOCOL.md §14.5):
 * the timestamp within BLOB_AUTH_WINDOW_MS of `now`, a strict Ed25519 identity key, and its
 * signature over the method, path, Upload-Offset, Upload-Length and, when present,
 * Petrel-Recipient-Accounts. The account is the
 * mailbox address the key hashes to, as on the WebSocket.
 */
export function verifyBlobRequest(req: IncomingMessage, path: string, now: number): BlobAuthResult {
  const raw = header(req, 'authorization');
  if (raw === undefined) return { ok: false, why: 'missing' };
  const m = HEADER.exec(raw);
  if (!m) return { ok: false, why: 'malformed' };
  const ik = new Uint8Array(Buffer.from(m[1]!, 'base64url'));
  const ts = Number(m[2]);
  const sig = new Uint8Array(Buffer.from(m[3]!, 'base64url'));
  if (Math.abs(now - ts) > BLOB_AUTH_WINDOW_MS) return { ok: false, why: 'stale' };
  if (!isStrictEd25519PublicKey(ik)) return { ok: false, why: 'weak_identity_key' };
  const payload = blobRequestPayload({
    timestamp: ts,
    method: req.method ?? '',
    path,
    uploadOffset: header(req, 'upload-offset'),
    uploadLength: header(req, 'upload-length'),
    recipientAccounts: header(req, 'petrel-recipient-accounts'),
  });
  if (!verifyEd25519(ik, payload, sig)) return { ok: false, why: 'bad_signature' };
  return { ok: true, account: mailboxAddress(ik) };
}
