import type { ErrorCode, WireErrorReason } from '../../core/wire/index.ts';

/** The error code a client is sent for each decoder refusal. */
export function errorCodeFor(reason: WireErrorReason): ErrorCode {
  switch (reason) {
    case 'too_large':
    case 'unsupported_version':
    case 'unknown_type':
      return reason;
    default:
      return 'malformed';
  }
}
