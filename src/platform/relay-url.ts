/** The relay's WebSocket on this origin (the relay serves the app and `/ws` on one port). */
export function relayUrlFor(loc: { readonly protocol: string; readonly host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}
