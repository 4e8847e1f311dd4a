import type { MessengerState } from '../../core/messenger/messenger-api.ts';
import { useMessengerState } from '../messenger-context.tsx';
import { useNow } from '../hooks/useNow.ts';
import { describeConnection } from './connection-text.ts';
import './ConnectionStatus.css';

const selectConnection = (s: MessengerState) => s.connection;
const selectQueueDepth = (s: MessengerState) => s.queueDepth;

/** The always-visible connection line (role status, named "Connection"). */
export function ConnectionStatus() {
  const connection = useMessengerState(selectConnection);
  const queueDepth = useMessengerState(selectQueueDepth);
  const now = useNow(connection.kind === 'reconnecting');
  return (
    <div role="status" aria-label="Connection" className="connection-status" data-kind={connection.kind}>
      <span className="connection-dot" aria-hidden="true" />
      {describeConnection(connection, queueDepth, now)}
    </div>
  );
}
