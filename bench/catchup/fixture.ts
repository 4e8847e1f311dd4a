/**
 * The catch-up benchmark's input, made in Node before anything is timed: an existing
 * session between Alice (sender) and Bob (the benchmarked receiver, past the prekey
 * messages in both directions), and Alice's queued envelopes to Bob — each a real
 * Double Ratchet message in a sealed-sender box, exactly what the relay would deliver.
 * Shipped to the page as one CBOR document.
 */
import { encode } from 'cbor-x';
import {
  acceptSessionFromPool,
  buildPublishedBundle,
  createPreKeyPool,
  decrypt,
  encrypt,
  generateIdentity,
  initiateSession,
  seal,
  serializePreKeyPool,
  verifyFetchedBundle,
} from '../../src/core/crypto/index.ts';
import { encodeSessionSet, sessionSetOf } from '../../src/core/messenger/session-set.ts';
import { secureRandom } from '../../src/core/random.ts';
import { encodeContent, mailboxAddress, type SendableContent } from '../../src/core/wire/index.ts';

/** Message ids and envelope ids are 16 random bytes (the wire contract). */
const ID_BYTES = 16;
/** An ordinary chat line (~60 characters) as every message's text. */
export const MESSAGE_TEXT = 'a message of ordinary length, around sixty characters long.';

/** What the page receives (bytes as CBOR byte strings). */
export interface CatchupFixture {
  /** Bob's identity seed, his prekey pool and his session set with Alice (the store row's state). */
  readonly bobSeed: Uint8Array;
  readonly bobPool: Uint8Array;
  readonly bobSessions: Uint8Array;
  /** Alice's identity public key (the contact Bob has). */
  readonly aliceKey: Uint8Array;
  /** Alice's queued envelopes, in sending order. */
  readonly envelopes: ReadonlyArray<{ readonly to: Uint8Array; readonly id: Uint8Array; readonly body: Uint8Array }>;
}

/**
 * Builds the session and `count` sealed envelopes from Alice to Bob: ordinary chat lines,
 * or what `contentAt(i)` gives for envelope i.
 */
export async function makeCatchupFixture(count: number, contentAt?: (i: number) => SendableContent): Promise<CatchupFixture> {
  const alice = generateIdentity(secureRandom);
  const bob = generateIdentity(secureRandom);
  const pool = createPreKeyPool(bob, secureRandom, 1);
  const pub = buildPublishedBundle(bob, pool);
  const fetched = { ik: pub.ik, spk: pub.spk, pq: { ...pub.pqopks[0]!, lastResort: false }, opk: pub.opks[0]! };
  let aliceState = (await initiateSession(alice, await verifyFetchedBundle(fetched), secureRandom)).state;

  // Handshake: Alice's prekey message, Bob's reply; afterwards both send ordinary ratchet messages.
  const first = await encrypt(aliceState, encodeContent({ t: 'profile', name: 'Alice' }), secureRandom);
  aliceState = first.state;
  const accepted = await acceptSessionFromPool(bob, pool, first.message);
  const reply = await encrypt(accepted.state, encodeContent({ t: 'profile', name: 'Bob' }), secureRandom);
  aliceState = (await decrypt(aliceState, reply.message)).state;

  const to = mailboxAddress(bob.publicKey);
  const envelopes: Array<CatchupFixture['envelopes'][number]> = [];
  for (let i = 0; i < count; i++) {
    const content = encodeContent(contentAt?.(i) ?? { t: 'msg', id: secureRandom.bytes(ID_BYTES), ts: Date.now(), text: MESSAGE_TEXT });
    const out = await encrypt(aliceState, content, secureRandom);
    aliceState = out.state;
    envelopes.push({ to, id: secureRandom.bytes(ID_BYTES), body: await seal(alice, bob.publicKey, out.message, secureRandom) });
  }
  return {
    bobSeed: bob.exportSeed(),
    bobPool: serializePreKeyPool(accepted.pool),
    bobSessions: encodeSessionSet(sessionSetOf(reply.state)),
    aliceKey: alice.publicKey,
    envelopes,
  };
}

export function encodeFixture(fixture: CatchupFixture): Uint8Array {
  return encode(fixture);
}
