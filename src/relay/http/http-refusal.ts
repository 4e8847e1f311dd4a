/**
 * A request an HTTP route refuses on purpose: its reason (a metric label and the JSON
 * body's `error`), a message for the client, and any headers to send (Retry-After).
 * Thrown inside a route's handler and turned into the answer by the route itself.
 */
export class HttpRefusal<Reason extends string> extends Error {
  constructor(
    readonly reason: Reason,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
