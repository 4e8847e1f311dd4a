/**
 * The sender-key distribution message: how a member device hands its chain to another
 * member device. It travels only inside a pairwise Double Ratchet message, which already
 * says which device sent it, so it carries no signature of its own (docs/PROTOCOL.md §16.3):
 *
 *   version (1) ‖ group id (16) ‖ chain id (uint32 BE) ‖ iteration (uint32 BE) ‖ chain key (32) ‖ signing public key (32)
 *
 * The iteration is where the receiver's copy starts: it can read that message and every
 * later one, never an earlier one (a member added later reads nothing from before).
 */
import { ByteReader, ByteWriter } from '../crypto/binary.ts';
import { MalformedMessageError } from '../crypto/errors.ts';
import { KEY_BYTES } from '../crypto/limits.ts';
import { isStrictEd25519PublicKey } from '../crypto/ed25519-verify.ts';
import { GROUP_ID_BYTES, SENDER_KEY_VERSION } from './limits.ts';
import type { SenderKeyState } from './sender-key-state.ts';

export const SENDER_KEY_DISTRIBUTION_BYTES = 1 + GROUP_ID_BYTES + 4 + 4 + KEY_BYTES + KEY_BYTES;

export interface SenderKeyDistribution {
  readonly groupId: Uint8Array;
  readonly chainId: number;
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  readonly signingPublic: Uint8Array;
}

/** The distribution of our own chain as it stands now (its next message is the first the receiver can read). */
export function distributionOf(groupId: Uint8Array, state: SenderKeyState): Uint8Array {
  if (groupId.length !== GROUP_ID_BYTES) throw new RangeError(`group id must be ${GROUP_ID_BYTES} bytes`);
  return new ByteWriter(SENDER_KEY_DISTRIBUTION_BYTES)
    .u8(SENDER_KEY_VERSION)
    .bytes(groupId)
    .u32(state.chainId)
    .u32(state.iteration)
    .bytes(state.chainKey.expose())
    .bytes(state.signingPublic)
    .finish();
}

/** MalformedMessageError for wrong length, an unknown version, or a signing key Petrel would not accept (non-canonical, small order). */
export function parseSenderKeyDistribution(bytes: Uint8Array): SenderKeyDistribution {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SENDER_KEY_DISTRIBUTION_BYTES) throw new MalformedMessageError('not a sender-key distribution (length)');
  const r = new ByteReader(bytes.slice(), (m) => new MalformedMessageError(m));
  const version = r.u8();
  if (version !== SENDER_KEY_VERSION) throw new MalformedMessageError(`unknown sender-key distribution version ${version}`);
  const groupId = r.bytes(GROUP_ID_BYTES);
  const chainId = r.u32();
  const iteration = r.u32();
  const chainKey = r.bytes(KEY_BYTES);
  const signingPublic = r.bytes(KEY_BYTES);
  r.end();
  if (!isStrictEd25519PublicKey(signingPublic)) throw new MalformedMessageError('sender-key signing key is not a usable Ed25519 key');
  return { groupId, chainId, iteration, chainKey, signingPublic };
}
