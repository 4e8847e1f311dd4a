/**
 * The transfer channel of a device link (docs/PROTOCOL.md §13.6), pure: once the existing
 * device accepted the new device's request (`acceptLinkRequest`), it sends the account
 * (identity, contacts, settings, history; their encoding is the caller's) as a sequence of
 * sealed chunks the relay only carries.
 *
 * Key: the existing device makes an ephemeral X25519 key pair E and derives
 *   K = HKDF-SHA256(ikm = X25519(E, X25519 form of the new device key) ‖ link secret,
 *                   salt = channel, info = "Petrel_LinkTransfer_v1" ‖ device id ‖ device key ‖ E.pub)
 * The new device derives the same K with its device key's private half. So reading the
 * transfer needs both the link secret AND the device key the request named: someone who
 * saw the link (a QR code over a shoulder) and the relay's traffic, but did not make the
 * accepted request, reads nothing; the relay, holding neither, learns only sizes.
 *
 * Chunks: `{seq, last, box}`, box = AES-256-GCM(K, nonce = seq as 12 bytes big-endian,
 * aad = "Petrel_LinkChunk" ‖ channel ‖ seq ‖ last). Each K is used for one transfer (E is
 * fresh), so the nonces never repeat under a key. The receiver takes chunks strictly in
 * order from 0 and nothing after `last`: a dropped, repeated, reordered or truncated
 * stream is a typed error, and a chunk that fails authentication is LinkTamperedError;
 * a refused chunk changes nothing (the receiver still waits for the same seq).
 */
import { bytesEqual, concatBytes, utf8 } from '../bytes.ts';
import { aesGcmDecrypt, aesGcmEncrypt } from '../crypto/aead.ts';
import { AuthenticationFailedError, InvalidKeyError } from '../crypto/errors.ts';
import type { Identity } from '../crypto/identity.ts';
import { hkdfSha256 } from '../crypto/kdf.ts';
import type { SecretBytes } from '../crypto/redacted.ts';
import { generateDhKeyPair, nobleX25519Dh } from '../crypto/x25519.ts';
import type { Random } from '../random.ts';
import type { DeviceEntry } from '../wire/index.ts';
import { LinkTamperedError, LinkTransferFinishedError, LinkTransferOrderError } from './link-errors.ts';
import { ed25519 } from '@noble/curves/ed25519.js';

const TRANSFER_INFO = utf8('Petrel_LinkTransfer_v1');
const CHUNK_LABEL = utf8('Petrel_LinkChunk');
/** Largest plaintext of one chunk (a relay frame carries it with room to spare). */
export const MAX_LINK_CHUNK_BYTES = 64 * 1024;
/** Most chunks in one transfer (a uint32 sequence; 2^32 × 64 KiB is more than any history). */
const MAX_SEQ = 0xffff_ffff;

/** One sealed piece of the transfer. */
export interface LinkChunk {
  readonly seq: number;
  readonly last: boolean;
  readonly box: Uint8Array;
}

/** What opens the transfer: the existing device's ephemeral public key. */
export interface LinkTransferStart {
  readonly channel: Uint8Array;
  readonly ephemeral: Uint8Array;
}

function transferKey(dh: Uint8Array, secret: SecretBytes, channel: Uint8Array, device: DeviceEntry, ephemeral: Uint8Array): Uint8Array {
  return hkdfSha256(concatBytes(dh, secret.expose()), channel, concatBytes(TRANSFER_INFO, device.id, device.key, ephemeral), 32);
}

function nonceOf(seq: number): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(8, seq);
  return n;
}

function aadOf(channel: Uint8Array, seq: number, last: boolean): Uint8Array {
  const tail = new Uint8Array(5);
  new DataView(tail.buffer).setUint32(0, seq);
  tail[4] = last ? 1 : 0;
  return concatBytes(CHUNK_LABEL, channel, tail);
}

/** The existing device's side: seals the transfer for the device whose request it accepted. */
export class LinkSender {
  private next = 0;
  private done = false;

  private constructor(
    private readonly key: Uint8Array,
    readonly start: LinkTransferStart,
  ) {}

  /**
   * `secret` is the link's (from the offer, before it was marked used), `channel` and
   * `device` the accepted request's. Send `start` first, then each sealed chunk in order.
   */
  static open(secret: SecretBytes, channel: Uint8Array, device: DeviceEntry, random: Random): LinkSender {
    const eph = generateDhKeyPair(random);
    const dh = nobleX25519Dh(eph, ed25519.utils.toMontgomery(device.key));
    return new LinkSender(transferKey(dh, secret, channel, device, eph.publicKey), { channel: channel.slice(), ephemeral: eph.publicKey.slice() });
  }

  /** Seals the next chunk; `last` ends the transfer (LinkTransferFinishedError afterwards). */
  async seal(plaintext: Uint8Array, last: boolean): Promise<LinkChunk> {
    if (this.done) throw new LinkTransferFinishedError('the transfer is already complete');
    if (plaintext.length > MAX_LINK_CHUNK_BYTES) throw new RangeError(`a link chunk carries at most ${MAX_LINK_CHUNK_BYTES} bytes`);
    if (this.next > MAX_SEQ) throw new LinkTransferFinishedError('the transfer has too many chunks');
    const seq = this.next++;
    if (last) this.done = true;
    const box = await aesGcmEncrypt(this.key, nonceOf(seq), plaintext, aadOf(this.start.channel, seq, last));
    return { seq, last, box };
  }
}

/** Where the new device's side of a transfer stands. */
export type LinkReceiverState = { readonly status: 'receiving'; readonly next: number } | { readonly status: 'complete'; readonly chunks: number };

/** The new device's side: opens chunks strictly in order, until the last one. */
export class LinkReceiver {
  private next = 0;
  private complete = false;

  private constructor(
    private readonly key: Uint8Array,
    private readonly channel: Uint8Array,
  ) {}

  /**
   * `secret` and `channel` from the parsed link, `deviceKey` this device's key (the one its
   * request named), `start` what the existing device sent. LinkTamperedError for an
   * ephemeral key that is not a usable X25519 key, or a start for another channel.
   */
  static open(secret: SecretBytes, channel: Uint8Array, deviceId: Uint8Array, deviceKey: Identity, start: LinkTransferStart): LinkReceiver {
    if (!(start.channel instanceof Uint8Array) || !bytesEqual(start.channel, channel)) {
      throw new LinkTamperedError('the transfer is for another link');
    }
    let dh: Uint8Array;
    try {
      dh = nobleX25519Dh(deviceKey.dhPrivate(), start.ephemeral);
    } catch (err) {
      if (err instanceof InvalidKeyError) throw new LinkTamperedError('the transfer key is not a usable X25519 key');
      throw err;
    }
    return new LinkReceiver(transferKey(dh, secret, channel, { id: deviceId, key: deviceKey.publicKey }, start.ephemeral), channel.slice());
  }

  get state(): LinkReceiverState {
    return this.complete ? { status: 'complete', chunks: this.next } : { status: 'receiving', next: this.next };
  }

  /** The chunk's plaintext. Refusals (typed) leave the receiver waiting for the same chunk. */
  async open(chunk: LinkChunk): Promise<Uint8Array> {
    if (this.complete) throw new LinkTransferFinishedError('the transfer is already complete');
    if (!Number.isInteger(chunk?.seq) || chunk.seq !== this.next) throw new LinkTransferOrderError(`expected chunk ${this.next}, got ${String(chunk?.seq)}`);
    if (!(chunk.box instanceof Uint8Array) || typeof chunk.last !== 'boolean') throw new LinkTamperedError('not a link chunk');
    let plaintext: Uint8Array;
    try {
      plaintext = await aesGcmDecrypt(this.key, nonceOf(chunk.seq), chunk.box, aadOf(this.channel, chunk.seq, chunk.last));
    } catch (err) {
      if (err instanceof AuthenticationFailedError) throw new LinkTamperedError('a transfer chunk does not authenticate');
      throw err;
    }
    // Another open of the same chunk finished first (concurrent callers): this one is the repeat.
    if (this.complete || this.next !== chunk.seq) throw new LinkTransferOrderError(`chunk ${chunk.seq} was already taken`);
    this.next++;
    if (chunk.last) this.complete = true;
    return plaintext;
  }
}
