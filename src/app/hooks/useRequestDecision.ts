import { useState } from 'react';
import { useMessenger } from '../messenger-context.tsx';

/**
 * Deciding a message request: Accept (into the conversations) or Block (its messages
 * dropped, nothing tells them). `failed` names the request whose decision did not go
 * through; `busy` the one being decided.
 */
export function useRequestDecision() {
  const messenger = useMessenger();
  const [busy, setBusy] = useState<string | undefined>();
  const [failed, setFailed] = useState<string | undefined>();
  const decide = (id: string, run: () => Promise<void>) => {
    setBusy(id);
    setFailed(undefined);
    run()
      .catch(() => setFailed(id))
      .finally(() => setBusy(undefined));
  };
  return {
    busy,
    failed,
    accept: (id: string) => decide(id, () => messenger.acceptRequest(id)),
    block: (id: string) => decide(id, () => messenger.setBlocked(id, true)),
  };
}
