import { FRAME_SCHEMAS, FRAME_TYPES_BY_ORIGIN, signalDeliverSchema, signalSendSchema } from './frame-schemas.ts';
import type { ClientFrame, Frame, FrameOrigin, FrameType, PeerFrame, RelayFrame } from './frames.ts';
import { MAX_FRAME_BYTES } from './limits.ts';
import type { StructSchema } from './schema.ts';
import { decodeVersioned, encodeVersioned, type DecodeOptions } from './versioned-codec.ts';
import { WireError } from './wire-error.ts';

export interface DecodeFrameOptions extends DecodeOptions {
  /** Accept only the frame types this origin may send (the relay passes 'client'). */
  readonly from?: FrameOrigin;
}

function schemaOf(t: string, hasTo: boolean, from: FrameOrigin | undefined): StructSchema | undefined {
  if (from && !FRAME_TYPES_BY_ORIGIN[from].includes(t as FrameType)) return undefined;
  if (t === 'signal') {
    if (from === 'client') return signalSendSchema;
    if (from === 'relay') return signalDeliverSchema;
    return hasTo ? signalSendSchema : signalDeliverSchema;
  }
  return Object.hasOwn(FRAME_SCHEMAS, t) ? FRAME_SCHEMAS[t as keyof typeof FRAME_SCHEMAS] : undefined;
}

/**
 * Deterministic canonical CBOR of a frame. Checks the frame against its schema first
 * (a WireError 'invalid_field' / 'missing_field' / 'unknown_field' for a bad frame,
 * 'unknown_type' for an unknown `t`), so nothing malformed ever leaves.
 */
export function encodeFrame(frame: Frame): Uint8Array {
  const t: unknown = (frame as { t?: unknown } | null)?.t;
  const schema = typeof t === 'string' ? schemaOf(t, 'to' in frame, undefined) : undefined;
  if (!schema || typeof t !== 'string') throw new WireError('unknown_type', 'unknown frame type');
  return encodeVersioned(t, frame, schema);
}

/** The frames `origin` may send. */
export type FrameFrom<O extends FrameOrigin> = O extends 'client' ? ClientFrame : O extends 'relay' ? RelayFrame : PeerFrame;

/**
 * Whether `frame` is one `origin` may send (its type is in that origin's list): how a
 * transport narrows a decoded frame to its own kind, checked rather than cast. A frame
 * decoded with `from: origin` always passes.
 */
export function isFrameFrom<O extends FrameOrigin>(origin: O, frame: Frame): frame is FrameFrom<O> {
  return FRAME_TYPES_BY_ORIGIN[origin].includes(frame.t);
}

/**
 * Decodes and validates an untrusted frame. Returns a frame with plain `Uint8Array`
 * fields of exactly the schema's lengths, or throws a WireError (and nothing else).
 * Size is checked before any parsing; see cbor-scan.ts for the accepted CBOR subset.
 */
export function decodeFrame(bytes: Uint8Array, opts?: DecodeFrameOptions): Frame {
  const from = opts?.from;
  return decodeVersioned<Frame>(bytes, MAX_FRAME_BYTES, (t, fields) => schemaOf(t, fields.has('to'), from), opts);
}
