import { useCallback, useEffect, useMemo, useState } from 'react';
import type { MessengerState } from '../../core/messenger/messenger-api.ts';
import { disablePush, enablePush, type PushEnv, type PushStatus } from '../../platform/web-push-subscription.ts';
import { useMessenger, useMessengerState } from '../messenger-context.tsx';

/** The relay serves the app and `/push/key` on one origin. */
export const PUSH_KEY_URL = '/push/key';

const selectReady = (s: MessengerState) => s.phase === 'ready' || s.phase === 'follower';

/** The environment enablePush needs, bound to this messenger. */
export function usePushEnv(): PushEnv {
  const messenger = useMessenger();
  return useMemo(() => ({ keyUrl: PUSH_KEY_URL, register: (sub) => messenger.setPushSubscription(sub) }), [messenger]);
}

/**
 * Once the core is up, hands the browser's existing push subscription to it again (the
 * relay may have lost it; the key may have changed). Never asks the user anything.
 */
export function usePushSync(): void {
  const env = usePushEnv();
  const ready = useMessengerState(selectReady);
  useEffect(() => {
    if (ready) void enablePush(env, false);
  }, [env, ready]);
}

/** Settings' view of push: the current status, and turning it on (asking) or off. */
export function usePushControl(): { status: PushStatus | undefined; busy: boolean; turnOn(): void; turnOff(): void } {
  const env = usePushEnv();
  const [status, setStatus] = useState<PushStatus>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let live = true;
    void enablePush(env, false).then((s) => live && setStatus(s));
    return () => {
      live = false;
    };
  }, [env]);
  const run = useCallback((op: () => Promise<PushStatus>) => {
    setBusy(true);
    void op()
      .then(setStatus)
      .finally(() => setBusy(false));
  }, []);
  return {
    status,
    busy,
    turnOn: () => run(() => enablePush(env, true)),
    turnOff: () => run(() => disablePush(env)),
  };
}
