/**
 * Base for every object that holds secret key material. Secrets live in ES private
 * fields (invisible to JSON and to enumeration); these overrides make sure the object
 * itself prints as a label in `String(x)`, `JSON.stringify(x)` and Node's `util.inspect`.
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
