/**
 * Adapts the wire module's throwing `decodeFrame` to the IngressGuard's FrameDecoder,
 * restricted to the frame types the given origin may send (a peer may only send
 * `p2p.*`, the relay only relay frames).
 */
import { decodeFrame, isWireError, type Frame, type FrameOrigin } from '../wire/index.ts';
import type { FrameDecoder } from './ingress-guard.ts';

export function wireFrameDecoder(from: FrameOrigin): FrameDecoder<Frame> {
  return (bytes) => {
    try {
      return { ok: true, frame: decodeFrame(bytes, { from }) };
    } catch (err) {
      return { ok: false, reason: isWireError(err) ? err.reason : 'malformed' };
    }
  };
}
