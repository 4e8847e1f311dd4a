/**
 * Invite links: a URL of the app whose fragment carries the inviter's identity key,
 * display name and relay. The fragment never reaches a server (not even ours), so the
 * relay's logs cannot collect who invited whom.
 *
 *   <app origin>/#invite=<base64url(payload)>
 *   payload (version 2) = 0x02 ‖ IK_pub (32) ‖ len(name) (1) ‖ name (UTF-8, 1..64 bytes)
 *             ‖ len(relay) (uint16 BE) ‖ relay URL (UTF-8, ws: or wss:, 1..256 bytes)
 *             ‖ check (4) = SHA-256(everything before)[0..4)
 *
 * The check makes a link that was cut short or had characters changed (copied by hand,
 * wrapped by a mail client) a damaged link rather than a different, valid-looking invite.
 * Version 1 links (0x01 ‖ IK ‖ len(name) ‖ name ‖ relay, no check) are still read; their
 * relay must be a whole relay URL (ending in `/ws`, as every Petrel relay's is), so one cut
 * inside the relay is refused. A key that cannot be anyone's identity (not a canonical
 * Ed25519 point, or of small order) is refused in both versions.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../bytes.ts';
// The key check alone, not the crypto barrel: the app's first screen parses invites.
import { isUsableEd25519Key } from '../crypto/ed25519-key-check.ts';
import type { Invite } from './messenger-api.ts';

export const INVITE_VERSION = 2;
const INVITE_VERSION_1 = 1;
export const MAX_INVITE_NAME_BYTES = 64;
export const MAX_INVITE_RELAY_BYTES = 256;
const CHECK_BYTES = 4;
const FRAGMENT_KEY = 'invite=';

export class InvalidInvite extends Error {
  override readonly name = 'InvalidInvite';
}

function check(bytes: Uint8Array): Uint8Array {
  return sha256(bytes).subarray(0, CHECK_BYTES);
}

export function encodeInvite(invite: Invite): Uint8Array {
  const name = utf8(invite.displayName);
  const relay = utf8(invite.relay);
  if (invite.identityKey.length !== 32) throw new InvalidInvite('identity key must be 32 bytes');
  if (name.length < 1 || name.length > MAX_INVITE_NAME_BYTES) throw new InvalidInvite('display name must be 1..64 bytes of UTF-8');
  if (relay.length < 1 || relay.length > MAX_INVITE_RELAY_BYTES || !/^wss?:\/\//.test(invite.relay)) {
    throw new InvalidInvite('relay must be a ws: or wss: URL of at most 256 bytes');
  }
  const body = concatBytes(Uint8Array.of(INVITE_VERSION), invite.identityKey, Uint8Array.of(name.length), name, Uint8Array.of(relay.length >> 8, relay.length & 0xff), relay);
  return concatBytes(body, check(body));
}

function text(bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes);
  } catch {
    throw new InvalidInvite('invite text is not UTF-8');
  }
}

function checkedFields(identityKey: Uint8Array, displayName: string, relay: string): Invite {
  if (relay.length > MAX_INVITE_RELAY_BYTES || !/^wss?:\/\/[^\s]+$/.test(relay)) throw new InvalidInvite('bad relay URL');
  if (!isUsableEd25519Key(identityKey)) throw new InvalidInvite('the identity key is not a usable key');
  return { identityKey, displayName, relay };
}

function decodeVersion2(bytes: Uint8Array): Invite {
  if (bytes.length < 1 + 32 + 1 + 1 + 2 + 1 + CHECK_BYTES) throw new InvalidInvite('invite too short');
  const body = bytes.subarray(0, bytes.length - CHECK_BYTES);
  if (!bytesEqual(check(body), bytes.subarray(bytes.length - CHECK_BYTES))) throw new InvalidInvite('invite link is damaged or incomplete');
  const identityKey = body.slice(1, 33);
  const nameLen = body[33]!;
  if (nameLen < 1 || nameLen > MAX_INVITE_NAME_BYTES || 34 + nameLen + 2 > body.length) throw new InvalidInvite('bad display name length');
  const relayAt = 34 + nameLen + 2;
  const relayLen = (body[34 + nameLen]! << 8) | body[35 + nameLen]!;
  if (relayLen < 1 || relayAt + relayLen !== body.length) throw new InvalidInvite('bad relay length');
  return checkedFields(identityKey, text(body.subarray(34, 34 + nameLen)), text(body.subarray(relayAt)));
}

function decodeVersion1(bytes: Uint8Array): Invite {
  if (bytes.length < 1 + 32 + 1 + 1 + 1) throw new InvalidInvite('invite too short');
  const identityKey = bytes.slice(1, 33);
  const nameLen = bytes[33]!;
  if (nameLen < 1 || nameLen > MAX_INVITE_NAME_BYTES || 34 + nameLen >= bytes.length) throw new InvalidInvite('bad display name length');
  const relay = text(bytes.subarray(34 + nameLen));
  // No check in version 1: only a whole relay URL shows the link was not cut short.
  if (!/^wss?:\/\/[^\s/]+\/(?:[^\s]*\/)?ws$/.test(relay)) throw new InvalidInvite('invite link is incomplete');
  return checkedFields(identityKey, text(bytes.subarray(34, 34 + nameLen)), relay);
}

export function decodeInvite(bytes: Uint8Array): Invite {
  if (bytes.length < 1) throw new InvalidInvite('invite too short');
  if (bytes[0] === INVITE_VERSION) return decodeVersion2(bytes);
  if (bytes[0] === INVITE_VERSION_1) return decodeVersion1(bytes);
  throw new InvalidInvite(`unsupported invite version ${bytes[0]}`);
}

/** `<appUrl>#invite=…` — appUrl is the app's own origin + path. */
export function inviteUrl(appUrl: string, invite: Invite): string {
  const base = appUrl.split('#')[0]!;
  return `${base}#${FRAGMENT_KEY}${toBase64Url(encodeInvite(invite))}`;
}

/** What a URL carries: no invite, a damaged one (with what is wrong, for the person), or a valid one. */
export type InviteInUrl = { readonly kind: 'none' } | { readonly kind: 'invalid'; readonly problem: string } | { readonly kind: 'invite'; readonly invite: Invite };

export function readInviteUrl(url: string): InviteInUrl {
  const hash = url.indexOf('#');
  if (hash < 0) return { kind: 'none' };
  const fragment = url.slice(hash + 1);
  if (!fragment.startsWith(FRAGMENT_KEY)) return { kind: 'none' };
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(fragment.slice(FRAGMENT_KEY.length));
  } catch {
    return { kind: 'invalid', problem: 'invite link is not readable' };
  }
  try {
    return { kind: 'invite', invite: decodeInvite(bytes) };
  } catch (e) {
    return { kind: 'invalid', problem: e instanceof InvalidInvite ? e.message : 'invite link is not readable' };
  }
}

/** The invite carried by a URL, or undefined when the URL has none or it is invalid. */
export function parseInviteUrl(url: string): Invite | undefined {
  const read = readInviteUrl(url);
  return read.kind === 'invite' ? read.invite : undefined;
}
