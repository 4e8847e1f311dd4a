/**
 * Redaction: how secret key material stays out of logs, error reports and debug output.
 *
 * `Redacted` is the base of every object that holds secrets (identity, key pairs, session
 * state, prekey pool). Secrets live in ES private fields (invisible to JSON, enumeration and
 * structured clone); these overrides make the object itself print as a label in
 * `String(x)`, `JSON.stringify(x)` and Node's `util.inspect` (so `console.log`, pino, ...).
 *
 * `SecretBytes` is one secret byte string (a root, chain or message key, a private scalar):
 * every secret inside a plain data object (`SessionState.data`, `DhPrivate`) is one, so
 * printing the data object prints labels, never key bytes. Only the function that needs the
 * bytes (a KDF, X25519, the serialiser) calls `expose()` — the `secrecy` crate's pattern.
 * tests/crypto/redaction.test.ts checks every secret-holding object against every printer.
 */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export abstract class Redacted {
  protected abstract readonly redactedLabel: string;

  toString(): string {
    return `[${this.redactedLabel} (redacted)]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [INSPECT](): string {
    return this.toString();
  }
}

export class SecretBytes extends Redacted {
  readonly #bytes: Uint8Array;

  /** Takes ownership of `bytes` (no copy): the caller must not keep, change or print them. */
  constructor(bytes: Uint8Array) {
    super();
    this.#bytes = bytes;
  }

  // A prototype getter, not a field: secrets are created per message, keep them small.
  protected get redactedLabel(): string {
    return 'SecretBytes';
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** The bytes themselves (not a copy), for a KDF, X25519 or serialisation. Never log or keep them. */
  expose(): Uint8Array {
    return this.#bytes;
  }
}
