/**
 * Finished receiving chains: replay detection beyond the current chain.
 *
 * When a DH ratchet step ends a receiving chain, the new header's PN says how many messages
 * the peer sent on it, and SkipMessageKeys stores the key of every one not yet read
 * (Double Ratchet §3.5). From then on, for a message naming that chain's ratchet key:
 *   - N < length and no stored skipped key: its key was used (or evicted): a replay;
 *   - N ≥ length: the peer announced the chain ended before N: no honest peer sent it.
 * So one (ratchet key, length) pair per chain is all the state replay detection needs.
 *
 * The last MAX_FINISHED_RECEIVING_CHAINS pairs are kept, oldest first, packed as one byte
 * string of 36-byte records (ratchet public key ‖ u32 length, big-endian) — the same bytes
 * the session state stores — so (de)serialising a session copies one buffer instead of
 * allocating an object per chain. Public keys and counts only: nothing here is secret.
 */
import { bytesEqual } from '../bytes.ts';
import { MalformedStateError } from './errors.ts';
import { KEY_BYTES, MAX_FINISHED_RECEIVING_CHAINS } from './limits.ts';

export const FINISHED_CHAIN_RECORD_BYTES = KEY_BYTES + 4;

/**
 * Length recorded for chains read from session format 1, which kept only the ratchet key:
 * every N below it counts as used, which is what format 1 assumed for all N.
 */
export const UNKNOWN_CHAIN_LENGTH = 0xffffffff;

export class FinishedChains {
  static readonly none = new FinishedChains(new Uint8Array(0));

  private constructor(
    /** The packed records, oldest first (also their serialised form). Never modified. */
    readonly bytes: Uint8Array,
  ) {}

  /** Parses packed records; MalformedStateError unless whole records, at most MAX_FINISHED_RECEIVING_CHAINS. */
  static fromBytes(bytes: Uint8Array): FinishedChains {
    if (bytes.length % FINISHED_CHAIN_RECORD_BYTES !== 0) throw new MalformedStateError('finished chains: partial record');
    if (bytes.length / FINISHED_CHAIN_RECORD_BYTES > MAX_FINISHED_RECEIVING_CHAINS) throw new MalformedStateError('too many finished chains');
    return bytes.length === 0 ? FinishedChains.none : new FinishedChains(bytes);
  }

  /** From ratchet keys alone (session format 1): each gets UNKNOWN_CHAIN_LENGTH. */
  static fromKeysOfUnknownLength(keys: readonly Uint8Array[]): FinishedChains {
    let out = FinishedChains.none;
    for (const k of keys) out = out.add(k, UNKNOWN_CHAIN_LENGTH);
    return out;
  }

  get count(): number {
    return this.bytes.length / FINISHED_CHAIN_RECORD_BYTES;
  }

  /** The recorded length of the finished chain with ratchet key `dh`, or undefined if it is not remembered. */
  lengthOf(dh: Uint8Array): number | undefined {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    for (let at = this.bytes.length - FINISHED_CHAIN_RECORD_BYTES; at >= 0; at -= FINISHED_CHAIN_RECORD_BYTES) {
      if (bytesEqual(this.bytes.subarray(at, at + KEY_BYTES), dh)) return view.getUint32(at + KEY_BYTES);
    }
    return undefined;
  }

  /** These chains plus (dh, length) as the newest; the oldest dropped beyond MAX_FINISHED_RECEIVING_CHAINS. */
  add(dh: Uint8Array, length: number): FinishedChains {
    if (dh.length !== KEY_BYTES) throw new RangeError('ratchet key must be 32 bytes');
    const keep = Math.min(this.count, MAX_FINISHED_RECEIVING_CHAINS - 1) * FINISHED_CHAIN_RECORD_BYTES;
    const out = new Uint8Array(keep + FINISHED_CHAIN_RECORD_BYTES);
    out.set(this.bytes.subarray(this.bytes.length - keep));
    out.set(dh, keep);
    new DataView(out.buffer).setUint32(keep + KEY_BYTES, length);
    return new FinishedChains(out);
  }

  /** Every remembered chain, oldest first (tests, diagnostics). */
  list(): Array<{ dh: Uint8Array; length: number }> {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const out: Array<{ dh: Uint8Array; length: number }> = [];
    for (let at = 0; at < this.bytes.length; at += FINISHED_CHAIN_RECORD_BYTES) {
      out.push({ dh: this.bytes.slice(at, at + KEY_BYTES), length: view.getUint32(at + KEY_BYTES) });
    }
    return out;
  }
}
