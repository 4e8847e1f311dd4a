/** The transport layer of the core: what the messenger and the platform adapters import. */
export { Backoff, backoffWindow, fullJitterDelay, RECONNECT_BACKOFF, RETRY_BACKOFF, type BackoffPolicy } from './backoff.ts';
export { BREAKER_STATE_GAUGE, CircuitBreaker, DEFAULT_BREAKER_CONFIG, type BreakerConfig, type BreakerState, type BreakerTransition } from './circuit-breaker.ts';
export { destinationKey, envelopeKey, type Envelope } from './envelope.ts';
export { ACK_BATCH_DELAY_MS, AckBatcher, MAX_QUEUED_ACKS } from './ack-batcher.ts';
export { PendingRequests } from './pending-requests.ts';
export type { RelayConnectionState } from './relay-connection-state.ts';
export { wireFrameDecoder } from './wire-frame-decoder.ts';
export { IngressGuard, type Admission, type FrameCheck, type FrameDecoder, type IngressGuardDeps, type IngressResult } from './ingress-guard.ts';
export { Listeners } from './listeners.ts';
export { DEFAULT_RECENT_IDS_CAPACITY, RecentIds } from './recent-ids.ts';
export { DEFAULT_RETRY_BUDGET, type DeliveryFailureReason, type RetryBudget, type RetryState } from './retry-budget.ts';
export { ATTEMPT_TIMEOUT_MS, DEFAULT_ROUTER_CONFIG, Router, type AttemptOutcome, type RouterConfig, type RetryOpportunity, type RouterDeps } from './router.ts';
export {
  countsAgainstTransport,
  TRANSPORT_PRIORITY,
  TransportSendError,
  type IncomingEnvelope,
  type SendOptions,
  type Transport,
  type TransportFailureKind,
  type TransportName,
  type TransportStateChange,
} from './transport.ts';
export { DIRECT_ACK_BATCH_DELAY_MS, DIRECT_ACK_TIMEOUT_MS, DirectTransport, type DirectTransportDeps } from './direct-transport.ts';
export type { PeerChannel } from './peer-channel.ts';
export { RELAY_SEND_PACE, SendPacer, type PacePolicy } from './send-pacer.ts';
export { alwaysOnline, type NetworkSignal, type NetworkSignals } from './network-signals.ts';
