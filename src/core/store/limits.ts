/** Named limits of the store. */

/**
 * Processed envelope ids are remembered this long: the relay's DEFAULT retention
 * (PETREL_RETENTION_DAYS = 30). An operator may keep envelopes far longer (up to 3650
 * days), so a redelivery older than this is not caught here; it is still never shown
 * twice — the ratchet or the prekeys reject it (STORAGE.md, "Dedup bounds").
 */
export const DEDUP_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** At most this many processed ids are kept; the oldest go first. */
export const DEDUP_MAX_ENTRIES = 50_000;
/** Largest page of messages one query returns (a 10,000-message chat is never loaded at once). */
export const MESSAGE_PAGE_MAX = 200;
/** Largest number of outbox entries one `dueOutbox` call returns. */
export const OUTBOX_DUE_MAX = 500;
/** Largest number of receives one `commitIncomingBatch` accepts (one transaction). */
export const INCOMING_BATCH_MAX = 1_000;
/** Longest message body kept (characters); the composer enforces a smaller one. */
export const MESSAGE_BODY_MAX_CHARS = 64 * 1024;
/** Longest failure/error text kept. */
export const ERROR_TEXT_MAX_CHARS = 500;
/** Longest list inside one commit (receipts, consumed prekeys, replies) and in one id lookup. */
export const COMMIT_LIST_MAX = 10_000;
/** Contacts whose last committed session the core keeps in memory (`withSessionCache`). */
export const SESSION_CACHE_MAX = 256;

/** The longest local name the user may give a contact (characters, after trimming). */
export const LOCAL_NAME_MAX_CHARS = 64;

/**
 * Copies of sent messages are kept for resend this long (PROTOCOL.md §12.8): 30 days, the
 * relay's default mailbox retention (PETREL_RETENTION_DAYS), so whatever a device can still
 * fetch from its mailbox and fails to read can still be sent again. An operator who keeps
 * envelopes longer leaves the older ones unrepairable (`expired`, counted).
 */
export const RESEND_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** At most this many copies are kept for resend; the oldest go first. */
export const RESENDABLE_MAX = 5_000;
/** A copy is sent again on request at most this many times (then the request is refused and counted). */
export const MAX_RESENDS = 2;
