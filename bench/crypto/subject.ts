/** One library under test, as a pair of parties with in-memory stores holding serialised state. */
export type Side = 'alice' | 'bob';

export interface SentMessage {
  readonly kind: 'prekey' | 'normal';
  readonly bytes: Uint8Array;
}

export interface Pair {
  /** Alice fetches Bob's bundle, builds a session, encrypts; Bob decrypts (through the first decrypt). */
  setup(): Promise<void>;
  /** Encrypt on `from`'s session (load state bytes → encrypt → save state bytes). */
  send(from: Side, plaintext: Uint8Array): Promise<SentMessage>;
  /** Decrypt on the other side's session (load → decrypt → save); returns the plaintext. */
  receive(to: Side, message: SentMessage): Promise<Uint8Array>;
}

export interface Subject {
  readonly name: string;
  /** Fresh identities and prekeys (not timed). */
  createPair(): Promise<Pair>;
}
