/** The relay connection as the UI shows it. */
export type RelayConnectionState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'authenticating' }
  | { readonly kind: 'online' }
  /** Waiting to reconnect at `at` (ms since epoch). */
  | { readonly kind: 'reconnecting'; readonly at: number }
  /** The browser is offline, or the transport was stopped. */
  | { readonly kind: 'offline' };
