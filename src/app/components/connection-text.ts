import type { ConnectionState } from '../../core/messenger/messenger-api.ts';

/** What the always-visible status line says about the connection (and the queue). */
export function describeConnection(connection: ConnectionState, queueDepth: number, now: number): string {
  const queued = queueDepth > 0 ? ` · ${queueDepth} queued` : '';
  switch (connection.kind) {
    case 'online':
      return (connection.direct > 0 ? `Online · direct to ${connection.direct}` : 'Online via relay') + queued;
    case 'offline':
      return `Offline — messages will be sent when you reconnect${queued}`;
    case 'connecting':
      return `Connecting…${queued}`;
    case 'reconnecting': {
      const seconds = Math.ceil((connection.at - now) / 1000);
      return (seconds > 0 ? `Reconnecting in ${seconds} s` : 'Reconnecting…') + queued;
    }
  }
}

/**
 * What a screen reader is told when the connection changes: one sentence per state,
 * without the countdown or the queue (which change far more often than the state).
 */
export function announceConnection(connection: ConnectionState): string {
  switch (connection.kind) {
    case 'online':
      return 'Connected.';
    case 'offline':
      return 'Offline. Messages will be sent when you reconnect.';
    case 'connecting':
      return 'Connecting.';
    case 'reconnecting':
      return 'Connection lost. Reconnecting.';
  }
}

/**
 * What the live region says next, given what it says now: a reconnect attempt
 * (connecting again after a loss) is part of reconnecting and says nothing new, so a
 * run of failed attempts is announced once, not at every try.
 */
export function nextAnnouncement(current: string, connection: ConnectionState): string {
  if (connection.kind === 'connecting' && current === announceConnection({ kind: 'reconnecting', at: 0 })) return current;
  return announceConnection(connection);
}
