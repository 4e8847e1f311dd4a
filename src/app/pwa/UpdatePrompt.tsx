import { useSyncExternalStore } from 'react';
import type { UpdateController } from './update-controller.ts';

export interface UpdatePromptProps {
  readonly updates: UpdateController;
}

/**
 * A non-blocking notice in a polite live region: screen readers announce it without
 * moving focus, and the page stays usable while it is shown.
 */
export function UpdatePrompt({ updates }: UpdatePromptProps) {
  const state = useSyncExternalStore(updates.subscribe, updates.getState);
  return (
    <div className="update-prompt-region" role="status" aria-live="polite">
      {state !== 'idle' && (
        <div className="update-prompt">
          <p>A new version of Petrel is ready</p>
          <div className="update-prompt-actions">
            <button type="button" className="button-primary" onClick={updates.applyUpdate} disabled={state === 'applying'}>
              Reload
            </button>
            <button type="button" className="button-quiet" onClick={updates.dismiss} disabled={state === 'applying'}>
              Not now
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
