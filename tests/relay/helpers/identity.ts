import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import {
  authPayload,
  mailboxAddress,
  pqpkSignaturePayload,
  spkSignaturePayload,
  type PublishedBundle,
} from '../../../src/core/wire/index.ts';

/** A test identity: Ed25519 from a random seed (independent of src/core/crypto on purpose). */
export interface TestIdentity {
  readonly seed: Uint8Array;
  readonly ik: Uint8Array;
  readonly mailbox: Uint8Array;
  signAuth(nonce: Uint8Array): Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function newIdentity(): TestIdentity {
  const seed = new Uint8Array(randomBytes(32));
  const ik = ed25519.getPublicKey(seed);
  return {
    seed,
    ik,
    mailbox: mailboxAddress(ik),
    signAuth: (nonce) => ed25519.sign(authPayload(nonce), seed),
    sign: (m) => ed25519.sign(m, seed),
  };
}

const rnd = (n: number) => new Uint8Array(randomBytes(n));

/** A correctly signed bundle with `opks` X25519 and `pqopks` ML-KEM one-time keys (random key bytes; the relay only checks signatures). */
export function signedBundle(id: TestIdentity, opks: number, pqopks: number, firstId = 1): PublishedBundle {
  const pq = (kid: number) => {
    const pub = rnd(1184);
    return { id: kid, pub, sig: id.sign(pqpkSignaturePayload(pub)) };
  };
  const spkPub = rnd(32);
  return {
    ik: id.ik,
    spk: { id: 1, pub: spkPub, sig: id.sign(spkSignaturePayload(spkPub)) },
    pqspk: pq(0),
    opks: Array.from({ length: opks }, (_, i) => ({ id: firstId + i, pub: rnd(32) })),
    pqopks: Array.from({ length: pqopks }, (_, i) => pq(firstId + i)),
  };
}

export function randomEnvelope(to: Uint8Array, bodyBytes = 64) {
  return { to, id: rnd(16), body: rnd(bodyBytes) };
}
