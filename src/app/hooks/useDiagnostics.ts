import { useEffect, useState } from 'react';
import type { Diagnostics, MessengerApi } from '../../core/messenger/messenger-api.ts';
import { useMessenger } from '../messenger-context.tsx';

export const DIAGNOSTICS_REFRESH_MS = 1000;

const EMPTY: Diagnostics = { metrics: { counters: {}, gauges: {}, histograms: {} }, logs: [], breakers: {} };

/** Reads the diagnostics; a core that cannot produce them yet shows as empty, not as a crash. */
function read(messenger: MessengerApi): Diagnostics {
  try {
    return messenger.diagnostics();
  } catch {
    return EMPTY;
  }
}

/** The core's diagnostics, read now and refreshed every second while mounted. */
export function useDiagnostics(): Diagnostics {
  const messenger = useMessenger();
  const [diagnostics, setDiagnostics] = useState(() => read(messenger));
  useEffect(() => {
    const timer = setInterval(() => setDiagnostics(read(messenger)), DIAGNOSTICS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [messenger]);
  return diagnostics;
}
