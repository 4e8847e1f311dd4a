import type { SignalSendFrame } from '../core/wire/index.ts';
import { HIGH_WATER_BYTES, type Connection } from './ws/connection.ts';
import type { SessionRegistry } from './ws/session-registry.ts';
import { mailboxKey } from './ws/session-registry.ts';

export type SignalOutcome = 'forwarded' | 'offline' | 'overloaded';

/**
 * Forwards an opaque, end-to-end encrypted WebRTC signaling blob to every connection
 * of the mailbox `to` on this node, as `signal{blob}` (the sender is only inside the
 * blob). Nothing is stored: an offline recipient is reported, not queued. A recipient
 * that is not draining its output gets nothing more; the sender is told `overloaded`.
 *
 * Why refuse instead of pausing the sender's reads until the recipient drains: the
 * sender's one connection also carries its deposits and acks for everyone, so pausing it
 * would let any recipient, by not reading, stall every peer that signals it (a lever one
 * user holds over others); and signaling blobs are ephemeral and go stale in seconds, so
 * a prompt `overloaded` the sender can retry or answer by staying on the relay path beats
 * a late delivery. Memory stays bounded either way: nothing is kept for a refused blob,
 * the recipient's output is capped (slow consumers are closed), and senders are bounded
 * by the per-IP and per-connection budgets.
 */
export function forwardSignal(registry: SessionRegistry, frame: SignalSendFrame): SignalOutcome {
  const owners: readonly Connection[] = registry.owners(mailboxKey(frame.to));
  if (owners.length === 0) return 'offline';
  const ready = owners.filter((c) => c.buffered() < HIGH_WATER_BYTES);
  if (ready.length === 0) return 'overloaded';
  for (const c of ready) c.send({ t: 'signal', blob: frame.blob });
  return 'forwarded';
}
