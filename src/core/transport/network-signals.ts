/**
 * What the platform says about connectivity and page life, as the relay connection
 * needs it: whether the device is online, and the moments worth reconnecting at once
 * (`online`, the page becoming visible, a page restored from the back/forward cache).
 * Injected so Node tests can drive it; the browser adapter is `browserNetworkSignals`
 * in src/platform/ws-relay-transport.ts.
 */
export type NetworkSignal = 'online' | 'offline' | 'visible' | 'pageshow';

export interface NetworkSignals {
  isOnline(): boolean;
  subscribe(listener: (signal: NetworkSignal) => void): () => void;
}

/** Signals for an environment without a browser: always online, never fires. */
export const alwaysOnline: NetworkSignals = { isOnline: () => true, subscribe: () => () => {} };
