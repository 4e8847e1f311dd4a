/**
 * The one error the wire codecs throw. `reason` says which check refused the input;
 * it is the `reason` label of the `packet.validation.failure` metric.
 */
export type WireErrorReason =
  /** Larger than the frame (or content) limit; checked before parsing. */
  | 'too_large'
  /** Not well-formed canonical CBOR of the allowed subset (tags, floats, indefinite lengths, trailing bytes, ...). */
  | 'malformed'
  /** Nested deeper than MAX_DEPTH or a collection longer than its limit. */
  | 'too_deep'
  /** `v` is not a version this code speaks. */
  | 'unsupported_version'
  /** `t` names no known frame type (or one not allowed in this direction). */
  | 'unknown_type'
  /** A required field is absent. */
  | 'missing_field'
  /** A field that the type's schema does not have. */
  | 'unknown_field'
  /** A field with the wrong type, byte length or range. */
  | 'invalid_field';

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly reason: WireErrorReason,
    message: string,
    /** Dotted path of the offending field, when there is one (`env.body`). */
    readonly field?: string,
  ) {
    super(message);
  }
}

export function isWireError(err: unknown): err is WireError {
  return err instanceof WireError;
}
