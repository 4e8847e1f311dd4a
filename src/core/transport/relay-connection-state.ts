/** The relay connection as the UI shows it. */
export type RelayConnectionState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'authenticating' }
  | { readonly kind: 'online' }
  /** Waiting to reconnect at `at` (ms since epoch). */
  | { readonly kind: 'reconnecting'; readonly at: number }
  /**
   * The browser is offline, or the transport was stopped; `device_unlinked`: the relay
   * refused this device (no longer in its account's list) and the transport stopped for good.
   */
  | { readonly kind: 'offline'; readonly reason?: 'device_unlinked' };
