/**
 * Every size limit of the wire format, in one place. Decoders check these before
 * they allocate anything that depends on the input.
 */

/** Largest frame accepted on any link (relay WebSocket, WebRTC data channel). */
export const MAX_FRAME_BYTES = 256 * 1024;
/** Largest sealed envelope body (the end-to-end ciphertext). */
export const MAX_ENVELOPE_BODY_BYTES = 192 * 1024;
/** Largest opaque WebRTC signaling blob forwarded by the relay. */
export const MAX_SIGNAL_BLOB_BYTES = 16 * 1024;
/** Most envelope ids in one `ack` / `p2p.ack` / receipt. */
export const MAX_ACK_IDS = 256;
/** Most one-time keys of each kind in one prekey upload. */
export const MAX_PREKEYS_PER_UPLOAD = 100;
/** Most mailboxes one `send.multi` deposits to (a group's member devices, MAX_GROUP_MEMBERS, each once). */
export const MAX_MULTI_RECIPIENTS = 1000;
/** Most accounts one `devices.watch` names. */
export const MAX_WATCH_PER_FRAME = 256;
/** Longest human-readable `error.msg`, in UTF-8 bytes. */
export const MAX_ERROR_MESSAGE_BYTES = 256;

/** Largest encoded content frame (what is encrypted inside an envelope). */
export const MAX_CONTENT_BYTES = 64 * 1024;
/** Longest message text, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 16 * 1024;
/** Longest WebRTC session description / ICE candidate carried in an `rtc` content frame. */
/** Largest `link.data` payload: a sealed 64 KiB transfer chunk with its framing. */
export const MAX_LINK_DATA_BYTES = 66 * 1024;
/** Most blob bytes in one `p2p.blob` frame (PROTOCOL.md §14.8). */
export const MAX_P2P_BLOB_DATA_BYTES = 64 * 1024;
/** A link channel id (PROTOCOL.md §13.6). */
export const LINK_CHANNEL_ID_BYTES = 16;
export const MAX_RTC_DATA_BYTES = 16 * 1024;

/** Deepest nesting of arrays and maps (frames need 4: frame → bundle → list → key). */
export const MAX_DEPTH = 6;
/** Most items in one CBOR array (a 1,000-member group change or multi-recipient deposit fits). */
export const MAX_ARRAY_LENGTH = 1024;
/** Most entries in one CBOR map (the widest schema has 5 keys). */
export const MAX_MAP_ENTRIES = 16;
/** Longest map key, in bytes (all keys are short ASCII names). */
export const MAX_KEY_BYTES = 32;

/** The only frame version this code speaks. */
export const WIRE_VERSION = 1;

export const UINT32_MAX = 0xffff_ffff;

export const IDENTITY_KEY_BYTES = 32;
export const MAILBOX_ADDRESS_BYTES = 32;
export const MESSAGE_ID_BYTES = 16;
export const SIGNATURE_BYTES = 64;
export const NONCE_BYTES = 32;
export const X25519_PUBLIC_KEY_BYTES = 32;
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;

/** The quoted excerpt a `reply` carries (UTF-8 bytes). */
export const MAX_QUOTE_BYTES = 512;
/** A reaction: one emoji (UTF-8 bytes; the longest ZWJ sequences are about 35). */
export const MAX_REACTION_BYTES = 64;
/** The plain text a content kind carries for clients that do not know the kind (UTF-8 bytes). */
export const MAX_FALLBACK_BYTES = MAX_TEXT_BYTES + MAX_QUOTE_BYTES + 64;

/** A display name inside a `profile` content frame (UTF-8 bytes), as in invite links. */
export const MAX_PROFILE_NAME_BYTES = 64;

/** Longest Web Push endpoint URL a device may register (UTF-8 bytes). */
export const MAX_PUSH_ENDPOINT_BYTES = 1024;
/** A Web Push subscription's P-256 public key, uncompressed (RFC 8291 `p256dh`). */
export const PUSH_P256DH_BYTES = 65;
/** A Web Push subscription's authentication secret (RFC 8291 `auth`). */
export const PUSH_AUTH_BYTES = 16;
