import { toHex } from '../../core/bytes.ts';

/**
 * A fresh id for a command that must act once even when it is resent to a new host
 * (a message, a file, an edit, a reaction): 128 random bits as 32 hex digits.
 */
export function newCommandId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}
