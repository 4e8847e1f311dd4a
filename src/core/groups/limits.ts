/**
 * Named constants of Petrel's group messaging (Sender Keys over the pairwise sessions,
 * docs/PROTOCOL.md §16). Changing one changes the protocol.
 */
import { utf8 } from '../bytes.ts';

/** Version byte of the sender-key message and distribution formats. */
export const SENDER_KEY_VERSION = 1;
/** A group id: 16 random bytes chosen by the group's creator. */
export const GROUP_ID_BYTES = 16;

/** Sender message key → AES-256 key ‖ 12-byte nonce (HKDF info). */
export const SENDER_KEY_MESSAGE_KEYS_INFO_BYTES = utf8('Petrel_SenderKey_MessageKeys');
/** A group message's signature = Ed25519(chain signing key, label ‖ message without signature). */
export const SENDER_KEY_SIGNATURE_LABEL_BYTES = utf8('Petrel_SenderKeyMessage');
/** Integrity label of a stored sender-key record (state-integrity.ts). */
export const SENDER_KEY_RECORD_LABEL = 'Petrel_SenderKeyRecord_v1';

/**
 * The most message keys one group message may make a receiver derive ahead in a chain
 * (libsignal's MAX_FORWARD_JUMPS is 25,000). A member offline for the 14-day retention
 * behind a sender of 1,000 messages a day needs 14,000; a message asking for more is refused.
 */
export const MAX_SENDER_KEY_FORWARD_JUMP = 25_000;
/** Skipped message keys a receiver keeps per sender chain; beyond it the oldest are dropped (their messages then read as duplicates). */
export const MAX_STORED_SENDER_MESSAGE_KEYS = 2_000;
/** Sender chains kept per (group, sender device), newest first: a chain rotated away still reads its late messages for a while. */
export const MAX_SENDER_KEY_STATES = 5;

/** A sender rotates its chain after this many messages (and after every removal or leave). */
export const SENDER_KEY_ROTATE_AFTER_MESSAGES = 100;
/** … or when the chain is this old. */
export const SENDER_KEY_ROTATE_AFTER_MS = 7 * 24 * 60 * 60 * 1000;

/** Members of one group, every device of an account counting once. The 1,001st is refused. */
export const MAX_GROUP_MEMBERS = 1_000;
