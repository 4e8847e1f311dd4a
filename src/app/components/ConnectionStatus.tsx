import { useState } from 'react';
import type { MessengerState } from '../../core/messenger/messenger-api.ts';
import { useMessenger, useMessengerState } from '../messenger-context.tsx';
import { useNow } from '../hooks/useNow.ts';
import { announceConnection, describeConnection, nextAnnouncement } from './connection-text.ts';
import './ConnectionStatus.css';

const selectConnection = (s: MessengerState) => s.connection;
const selectQueueDepth = (s: MessengerState) => s.queueDepth;
const selectPhase = (s: MessengerState) => s.phase;

/**
 * The always-visible connection line (role status, named "Connection"), with **Retry now**
 * while waiting to reconnect. The line itself is not live (its countdown changes every
 * second); a separate polite live region says each change of state once, and a run of
 * reconnect attempts once (nextAnnouncement). Before there is an account nothing
 * connects, and the line says so rather than "Connecting…".
 */
export function ConnectionStatus() {
  const messenger = useMessenger();
  const connection = useMessengerState(selectConnection);
  const queueDepth = useMessengerState(selectQueueDepth);
  // No account yet: the core has no relay connection to make (a device link connects on its own).
  const idle = useMessengerState(selectPhase) === 'onboarding' && connection.kind === 'connecting';
  const [announcement, setAnnouncement] = useState(() => announceConnection(connection));
  const next = nextAnnouncement(announcement, connection);
  if (next !== announcement) setAnnouncement(next);
  const reconnecting = connection.kind === 'reconnecting';
  const now = useNow(reconnecting);
  const [retrying, setRetrying] = useState(false);
  const retryNow = () => {
    setRetrying(true);
    messenger
      .reconnectNow()
      .catch(() => undefined)
      .finally(() => setRetrying(false));
  };
  return (
    <div className="connection" data-kind={idle ? 'idle' : connection.kind}>
      <div role="status" aria-label="Connection" aria-live="off" className="connection-status" data-kind={idle ? 'idle' : connection.kind}>
        <span className="connection-dot" aria-hidden="true" />
        {idle ? 'Not connected yet' : describeConnection(connection, queueDepth, now)}
      </div>
      {reconnecting && (
        <button type="button" className="connection-retry" onClick={retryNow} disabled={retrying}>
          Retry now
        </button>
      )}
      <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="connection-announcement">
        {announcement}
      </div>
    </div>
  );
}
