/**
 * Adapts the wire module's throwing `decodeFrame` to the IngressGuard's FrameDecoder,
 * restricted to the frame types the sender may send: the relay only relay frames, a peer
 * (the direct path) only `p2p.*`. Without `from`, the origin follows the transport the
 * bytes came in on. Refusals are counted once, by the guard.
 */
import { decodeFrame, isWireError, type Frame, type FrameOrigin } from '../wire/index.ts';
import type { FrameDecoder } from './ingress-guard.ts';
import type { TransportName } from './transport.ts';

/** The sender a transport's incoming bytes come from. */
export function originOf(transport: TransportName): FrameOrigin {
  return transport === 'relay' ? 'relay' : 'peer';
}

export function wireFrameDecoder(from?: FrameOrigin): FrameDecoder<Frame> {
  return (bytes, transport) => {
    try {
      return { ok: true, frame: decodeFrame(bytes, { from: from ?? originOf(transport) }) };
    } catch (err) {
      return { ok: false, reason: isWireError(err) ? err.reason : 'malformed' };
    }
  };
}
