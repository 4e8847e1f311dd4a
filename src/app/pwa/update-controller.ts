/**
 * The update flow, without React or workbox-window: a new service worker has
 * installed and waits; the user is asked; on "Reload" the waiting worker is told to
 * take over and the page reloads once it controls the page, so the new shell and the
 * new worker always run together.
 */

/** idle: nothing to offer. waiting: a new version is ready. applying: reload requested. */
export type UpdateState = 'idle' | 'waiting' | 'applying';

/** What the flow needs from the service worker side (workbox-window in the app). */
export interface WaitingWorkerHost {
  /** Calls `listener` whenever a newly installed worker is waiting to activate. */
  onWaiting(listener: () => void): void;
  /** Calls `listener` when a new worker has taken control of this page. */
  onControlling(listener: () => void): void;
  /** Tells the waiting worker to activate now (posts `{ type: 'SKIP_WAITING' }`). */
  messageSkipWaiting(): void;
}

export interface UpdateController {
  getState(): UpdateState;
  /** `listener` runs after every state change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Activates the waiting version and reloads once it controls the page. */
  applyUpdate(): void;
  /** Hides the prompt; a later new version shows it again. */
  dismiss(): void;
}

export function createUpdateController(host: WaitingWorkerHost, reload: () => void): UpdateController {
  let state: UpdateState = 'idle';
  // Another tab may already have activated the new worker: then a reload is enough.
  let newWorkerControls = false;
  const listeners = new Set<() => void>();

  const setState = (next: UpdateState) => {
    if (next === state) return;
    state = next;
    for (const listener of [...listeners]) listener();
  };

  host.onWaiting(() => {
    newWorkerControls = false;
    if (state !== 'applying') setState('waiting');
  });
  host.onControlling(() => {
    newWorkerControls = true;
    if (state === 'applying') reload();
  });

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    applyUpdate() {
      if (state !== 'waiting') return;
      setState('applying');
      if (newWorkerControls) reload();
      else host.messageSkipWaiting();
    },
    dismiss() {
      if (state === 'waiting') setState('idle');
    },
  };
}
