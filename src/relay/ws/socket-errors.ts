import type { CloseReason } from './connection.ts';

/** How the relay counts a frame that ws itself refused. */
export interface SocketRefusal {
  /** `petrel_rejected_frames_total{reason}` */
  readonly frameReason: 'over_max_payload' | 'ws_protocol';
  /** `petrel_connections_closed_total{reason}` */
  readonly closeReason: Extract<CloseReason, 'too_large' | 'protocol_error'>;
}

/**
 * Classifies an `error` event of a server-side ws WebSocket. ws emits one only for frames
 * its receiver refused (codes `WS_ERR_*`), and only AFTER it queued its own close frame
 * (1009 for a payload over maxPayload, 1002/1007 for protocol violations), so no error
 * frame can follow: the RFC 6455 close code is the typed refusal. Anything else is not a
 * refusal (undefined).
 */
export function classifySocketError(code: string | undefined): SocketRefusal | undefined {
  if (!code?.startsWith('WS_ERR_')) return undefined;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') {
    return { frameReason: 'over_max_payload', closeReason: 'too_large' };
  }
  return { frameReason: 'ws_protocol', closeReason: 'protocol_error' };
}
