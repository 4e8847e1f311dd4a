/**
 * Invite links: a URL of the app whose fragment carries the inviter's identity key,
 * display name and relay. The fragment never reaches a server (not even ours), so the
 * relay's logs cannot collect who invited whom.
 *
 *   <app origin>/#invite=<base64url(payload)>
 *   payload = 0x01 (version) ‖ IK_pub (32) ‖ len(name) (1) ‖ name (UTF-8, 1..64 bytes)
 *             ‖ relay URL (UTF-8, ws: or wss:, the rest, 1..256 bytes)
 */
import { concatBytes, fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../bytes.ts';
import type { Invite } from './messenger-api.ts';

export const INVITE_VERSION = 1;
export const MAX_INVITE_NAME_BYTES = 64;
export const MAX_INVITE_RELAY_BYTES = 256;
const FRAGMENT_KEY = 'invite=';

export class InvalidInvite extends Error {
  override readonly name = 'InvalidInvite';
}

export function encodeInvite(invite: Invite): Uint8Array {
  const name = utf8(invite.displayName);
  const relay = utf8(invite.relay);
  if (invite.identityKey.length !== 32) throw new InvalidInvite('identity key must be 32 bytes');
  if (name.length < 1 || name.length > MAX_INVITE_NAME_BYTES) throw new InvalidInvite('display name must be 1..64 bytes of UTF-8');
  if (relay.length < 1 || relay.length > MAX_INVITE_RELAY_BYTES || !/^wss?:\/\//.test(invite.relay)) {
    throw new InvalidInvite('relay must be a ws: or wss: URL of at most 256 bytes');
  }
  return concatBytes(new Uint8Array([INVITE_VERSION]), invite.identityKey, new Uint8Array([name.length]), name, relay);
}

export function decodeInvite(bytes: Uint8Array): Invite {
  if (bytes.length < 1 + 32 + 1 + 1 + 1) throw new InvalidInvite('invite too short');
  if (bytes[0] !== INVITE_VERSION) throw new InvalidInvite(`unsupported invite version ${bytes[0]}`);
  const identityKey = bytes.slice(1, 33);
  const nameLen = bytes[33]!;
  if (nameLen < 1 || nameLen > MAX_INVITE_NAME_BYTES || 34 + nameLen >= bytes.length) throw new InvalidInvite('bad display name length');
  let displayName: string;
  let relay: string;
  try {
    displayName = fromUtf8(bytes.subarray(34, 34 + nameLen));
    relay = fromUtf8(bytes.subarray(34 + nameLen));
  } catch {
    throw new InvalidInvite('invite text is not UTF-8');
  }
  if (relay.length > MAX_INVITE_RELAY_BYTES || !/^wss?:\/\/[^\s]+$/.test(relay)) throw new InvalidInvite('bad relay URL');
  return { identityKey, displayName, relay };
}

/** `<appUrl>#invite=…` — appUrl is the app's own origin + path. */
export function inviteUrl(appUrl: string, invite: Invite): string {
  const base = appUrl.split('#')[0]!;
  return `${base}#${FRAGMENT_KEY}${toBase64Url(encodeInvite(invite))}`;
}

/** The invite carried by a URL, or undefined when the URL has none or it is invalid. */
export function parseInviteUrl(url: string): Invite | undefined {
  const hash = url.indexOf('#');
  if (hash < 0) return undefined;
  const fragment = url.slice(hash + 1);
  if (!fragment.startsWith(FRAGMENT_KEY)) return undefined;
  try {
    return decodeInvite(fromBase64Url(fragment.slice(FRAGMENT_KEY.length)));
  } catch {
    return undefined;
  }
}
