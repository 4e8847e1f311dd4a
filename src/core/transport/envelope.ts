/**
 * The envelope as the transports see it: the wire module's `Envelope` (recipient
 * mailbox, random message id, sealed body). Transports never look inside `body`;
 * retries resend the identical bytes and receivers deduplicate by `id`.
 */
import { toHex } from '../bytes.ts';

export type { Envelope } from '../wire/index.ts';

/** Hex of the envelope id: the key for maps, logs (ids are random, not user data) and dedup sets. */
export function envelopeKey(envelope: { readonly id: Uint8Array }): string {
  return toHex(envelope.id);
}

/** Hex of a destination mailbox, the key for per-destination state. */
export function destinationKey(to: Uint8Array): string {
  return toHex(to);
}
