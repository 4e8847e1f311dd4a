/**
 * Generates tests/vectors/protocol-v1.json: Petrel protocol v1 test vectors from fixed
 * keys (every private key is SHA-256 of a fixed label, so the file is reproducible).
 * Run: npx tsx scripts/gen-vectors.ts   (tests/crypto/vectors.test.ts checks the file)
 *
 * The required groups (protocol, params, identity, prekey_signatures, x3dh, ratchet) keep
 * their shape; later groups are extra top-level keys: safety_number, prekey_message,
 * ratchet_out_of_order.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex, utf8 } from '../src/core/bytes.ts';
import { seededRandom, type Random } from '../src/core/random.ts';
import { identityFromSeed } from '../src/core/crypto/identity.ts';
import { initRatchetAsInitiator, initRatchetAsResponder, ratchetDecrypt, ratchetEncrypt } from '../src/core/crypto/double-ratchet.ts';
import { associatedData, initiatorSessionKey } from '../src/core/crypto/pqxdh.ts';
import { MlKemKeyPair, X25519KeyPair, signPqPreKey, signSignedPreKey, verifyFetchedBundle } from '../src/core/crypto/prekeys.ts';
import { safetyNumber, safetyNumberQrPayload } from '../src/core/crypto/safety-number.ts';
import { encrypt, initiateSession } from '../src/core/crypto/session.ts';
import * as L from '../src/core/crypto/limits.ts';
import { dhKeyPair, x25519PublicKey } from '../src/core/crypto/x25519.ts';
import { SecretBytes } from '../src/core/crypto/redacted.ts';
import type { SessionState } from '../src/core/crypto/session-state.ts';

/** 32 bytes = SHA-256("petrel/1 vectors: " ‖ label). */
export const fixedKey = (label: string): Uint8Array => sha256(utf8(`petrel/1 vectors: ${label}`));

/** A Random that hands out the given 32-byte keys in order (and fails loudly otherwise). */
export function listRandom(keys: readonly Uint8Array[]): Random & { used(): number } {
  let i = 0;
  return {
    bytes(length) {
      const k = keys[i];
      if (!k || k.length !== length) throw new Error(`vector randomness exhausted or wrong length at ${i}`);
      i++;
      return k.slice();
    },
    float: () => {
      throw new Error('not used');
    },
    used: () => i,
  };
}

export interface RatchetMessageVector {
  from: 'alice' | 'bob';
  plaintext: string;
  header: string;
  ciphertext: string;
}

/** Who sends each message of a ratchet vector, in send (= delivery) order. */
const CONVERSATIONS: readonly string[] = [
  'AAABBAABBBABAAABBBBAABAB', // 24 messages, many turns
  'ABABABAB',
  'AAAAABBBBB',
];

async function ratchetVector(index: number, pattern: string) {
  const sk = fixedKey(`ratchet ${index} sk`);
  const aliceIk = identityFromSeed(fixedKey(`ratchet ${index} alice identity`)).publicKey;
  const bobIk = identityFromSeed(fixedKey(`ratchet ${index} bob identity`)).publicKey;
  const ad = associatedData(aliceIk, bobIk);
  const spkPriv = fixedKey(`ratchet ${index} bob spk`);
  const aliceTurns = pattern.split(/B+/).filter(Boolean).length;
  const bobTurns = pattern.split(/A+/).filter(Boolean).length;
  // Alice: her initial key, then one per Bob chain she receives; Bob: one per Alice chain he
  // receives (the DH ratchet step makes the next sending key on receipt, §3.5). The last
  // key of a party may go unused when the conversation ends.
  const alicePrivs = Array.from({ length: 1 + bobTurns }, (_, i) => fixedKey(`ratchet ${index} alice ratchet ${i}`));
  const bobPrivs = Array.from({ length: aliceTurns }, (_, i) => fixedKey(`ratchet ${index} bob ratchet ${i}`));
  const aliceRandom = listRandom(alicePrivs);
  const bobRandom = listRandom(bobPrivs);
  const baseKey = new Uint8Array(32);
  let a: SessionState = await initRatchetAsInitiator({ sk: new SecretBytes(sk.slice()), ad, baseKey, remoteSignedPreKey: x25519PublicKey(spkPriv) }, aliceRandom);
  let b: SessionState = initRatchetAsResponder({ sk: new SecretBytes(sk.slice()), ad, baseKey, signedPreKey: dhKeyPair(spkPriv.slice()) });
  const messages: RatchetMessageVector[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const fromAlice = pattern[i] === 'A';
    const plaintext = `message ${i} from ${fromAlice ? 'alice' : 'bob'}`;
    const sent = await ratchetEncrypt(fromAlice ? a : b, utf8(plaintext), fromAlice ? aliceRandom : bobRandom);
    const received = await ratchetDecrypt(fromAlice ? b : a, sent.header, sent.ciphertext, fromAlice ? bobRandom : aliceRandom);
    if (fromAlice) [a, b] = [sent.state, received.state];
    else [b, a] = [sent.state, received.state];
    messages.push({ from: fromAlice ? 'alice' : 'bob', plaintext: toHex(utf8(plaintext)), header: toHex(sent.header), ciphertext: toHex(sent.ciphertext) });
  }
  if (aliceRandom.used() !== alicePrivs.length || bobRandom.used() !== bobPrivs.length) throw new Error('ratchet key count mismatch');
  return {
    sk: toHex(sk),
    ad: toHex(ad),
    bob_signed_prekey_private: toHex(spkPriv),
    alice_ratchet_privates: alicePrivs.map(toHex),
    bob_ratchet_privates: bobPrivs.map(toHex),
    messages,
  };
}

/**
 * Out-of-order delivery: sends and deliveries interleaved, so messages arrive late within a
 * chain (skipped keys), after the sender's next chain has begun (skipped keys of a finished
 * chain, PN), and in reverse. Each event is "A<i>"/"B<i>" (Alice/Bob sends message i) or
 * ">i" (message i is delivered to its recipient). Every message is delivered once.
 */
const OUT_OF_ORDER: readonly (readonly string[])[] = [
  ['A0', 'A1', 'A2', '>2', '>0', 'B3', 'B4', '>4', 'A5', '>1', '>5', 'B6', '>6', '>3', 'A7', 'A8', 'A9', '>9', '>8', '>7', 'B10', '>10'],
];

async function outOfOrderVector(index: number, events: readonly string[]) {
  const sends = events.filter((e) => e[0] !== '>');
  const sk = fixedKey(`out of order ${index} sk`);
  const ad = associatedData(
    identityFromSeed(fixedKey(`out of order ${index} alice identity`)).publicKey,
    identityFromSeed(fixedKey(`out of order ${index} bob identity`)).publicKey,
  );
  const spkPriv = fixedKey(`out of order ${index} bob spk`);
  // A party makes a key at init (Alice) and on the first delivery of each new remote chain.
  const chains = (who: string) => sends.filter((e, i) => e[0] === who && (i === 0 || sends[i - 1]![0] !== who)).length;
  const alicePrivs = Array.from({ length: 1 + chains('B') }, (_, i) => fixedKey(`out of order ${index} alice ratchet ${i}`));
  const bobPrivs = Array.from({ length: chains('A') }, (_, i) => fixedKey(`out of order ${index} bob ratchet ${i}`));
  const random = { A: listRandom(alicePrivs), B: listRandom(bobPrivs) };
  const state: Record<'A' | 'B', SessionState> = {
    A: await initRatchetAsInitiator({ sk: new SecretBytes(sk.slice()), ad, baseKey: new Uint8Array(32), remoteSignedPreKey: x25519PublicKey(spkPriv) }, random.A),
    B: initRatchetAsResponder({ sk: new SecretBytes(sk.slice()), ad, baseKey: new Uint8Array(32), signedPreKey: dhKeyPair(spkPriv.slice()) }),
  };
  const messages: RatchetMessageVector[] = [];
  const out: Array<{ op: 'send' | 'deliver'; message: number }> = [];
  for (const e of events) {
    if (e[0] === '>') {
      const i = Number(e.slice(1));
      const m = messages[i]!;
      const to = m.from === 'alice' ? 'B' : 'A';
      const got = await ratchetDecrypt(state[to], fromHex(m.header), fromHex(m.ciphertext), random[to]);
      if (toHex(got.plaintext) !== m.plaintext) throw new Error(`message ${i} decrypted wrongly`);
      state[to] = got.state;
      out.push({ op: 'deliver', message: i });
    } else {
      const who = e[0] as 'A' | 'B';
      const i = Number(e.slice(1));
      if (i !== messages.length) throw new Error('messages must be sent in index order');
      const plaintext = `message ${i} from ${who === 'A' ? 'alice' : 'bob'}`;
      const sent = await ratchetEncrypt(state[who], utf8(plaintext), random[who]);
      state[who] = sent.state;
      messages.push({ from: who === 'A' ? 'alice' : 'bob', plaintext: toHex(utf8(plaintext)), header: toHex(sent.header), ciphertext: toHex(sent.ciphertext) });
      out.push({ op: 'send', message: i });
    }
  }
  if (random.A.used() !== alicePrivs.length || random.B.used() !== bobPrivs.length) throw new Error('out-of-order ratchet key count mismatch');
  return {
    sk: toHex(sk),
    ad: toHex(ad),
    bob_signed_prekey_private: toHex(spkPriv),
    alice_ratchet_privates: alicePrivs.map(toHex),
    bob_ratchet_privates: bobPrivs.map(toHex),
    messages,
    events: out,
  };
}

/** Safety numbers (PROTOCOL.md §7) for pairs of identities, one pair with stable ids. */
function safetyNumberVectors() {
  const cases: Array<[number, string, string]> = [
    [0, '', ''],
    [1, '', ''],
    [2, 'alice@example.org', 'bob@example.org'],
  ];
  return cases.map(([i, ourStable, theirStable]) => {
    const ours = identityFromSeed(fixedKey(`safety number ${i} ours`));
    const theirs = identityFromSeed(fixedKey(`safety number ${i} theirs`));
    const opts = { ourStableId: utf8(ourStable), theirStableId: utf8(theirStable) };
    return {
      our_identity_seed: toHex(ours.exportSeed()),
      their_identity_seed: toHex(theirs.exportSeed()),
      our_identity_public: toHex(ours.publicKey),
      their_identity_public: toHex(theirs.publicKey),
      our_stable_id: toHex(opts.ourStableId),
      their_stable_id: toHex(opts.theirStableId),
      safety_number: safetyNumber(ours.publicKey, theirs.publicKey, opts),
      qr_payload: toHex(safetyNumberQrPayload(ours.publicKey, theirs.publicKey, opts)),
    };
  });
}

/**
 * Initial (prekey) messages (PROTOCOL.md §4.1, §5.3): Alice's first message to Bob from a
 * fetched bundle, with OPK and a one-time PQ key, and without OPK with the last-resort PQ key.
 * Randomness in the order §4.1 draws it: EK_A, the ML-KEM encapsulation message m, DHs.
 */
async function preKeyMessageVectors() {
  const out = [];
  for (const [i, withOpk, lastResort] of [
    [0, true, false],
    [1, false, true],
  ] as const) {
    const alice = identityFromSeed(fixedKey(`prekey message ${i} alice identity`));
    const bob = identityFromSeed(fixedKey(`prekey message ${i} bob identity`));
    const spk = X25519KeyPair.fromPrivate(fixedKey(`prekey message ${i} bob spk`));
    const opk = withOpk ? X25519KeyPair.fromPrivate(fixedKey(`prekey message ${i} bob opk`)) : undefined;
    const pqSeed = new Uint8Array([...fixedKey(`prekey message ${i} bob pq d`), ...fixedKey(`prekey message ${i} bob pq z`)]);
    const pq = MlKemKeyPair.fromSeed(pqSeed);
    const ids = { spk: 7 + i, pq: 300 + i, opk: 41 + i };
    const bundle = await verifyFetchedBundle({
      ik: bob.publicKey,
      spk: { id: ids.spk, pub: spk.publicKey, sig: signSignedPreKey(bob, spk.publicKey) },
      pq: { id: ids.pq, pub: pq.publicKey, sig: signPqPreKey(bob, pq.publicKey), lastResort },
      ...(opk ? { opk: { id: ids.opk, pub: opk.publicKey } } : {}),
    });
    const randomness = [fixedKey(`prekey message ${i} alice ephemeral`), fixedKey(`prekey message ${i} kem m`), fixedKey(`prekey message ${i} alice ratchet`)];
    const random = listRandom(randomness);
    const plaintext = utf8(`first message ${i} from alice`);
    const { state } = await initiateSession(alice, bundle, random);
    const sent = await encrypt(state, plaintext, random);
    if (random.used() !== randomness.length) throw new Error('prekey message randomness count mismatch');
    out.push({
      alice_identity_seed: toHex(alice.exportSeed()),
      bob_identity_seed: toHex(bob.exportSeed()),
      bob_signed_prekey: { id: ids.spk, private: toHex(spk.exportPrivate()) },
      bob_one_time_prekey: opk ? { id: ids.opk, private: toHex(opk.exportPrivate()) } : null,
      bob_pq_prekey: { id: ids.pq, seed: toHex(pqSeed), last_resort: lastResort },
      alice_ephemeral_private: toHex(randomness[0]!),
      kem_encapsulation_randomness: toHex(randomness[1]!),
      alice_ratchet_private: toHex(randomness[2]!),
      plaintext: toHex(plaintext),
      message: toHex(sent.message),
    });
  }
  return out;
}

export async function generateVectors() {
  const identity = [0, 1, 2].map((i) => {
    const seed = fixedKey(`identity ${i}`);
    const id = identityFromSeed(seed);
    return { seed: toHex(seed), ed25519_public: toHex(id.publicKey), x25519_private: toHex(id.dhPrivate().privateKey.expose()), x25519_public: toHex(id.x25519PublicKey) };
  });

  const prekey_signatures = [0, 1].flatMap((i) => {
    const seed = fixedKey(`prekey signer ${i}`);
    const id = identityFromSeed(seed);
    const spkPub = x25519PublicKey(fixedKey(`signed prekey ${i}`));
    const pqPub = ml_kem768.keygen(new Uint8Array([...fixedKey(`pq prekey ${i} d`), ...fixedKey(`pq prekey ${i} z`)])).publicKey;
    return [
      { kind: 'spk', identity_seed: toHex(seed), public: toHex(spkPub), signature: toHex(signSignedPreKey(id, spkPub)) },
      { kind: 'pqpk', identity_seed: toHex(seed), public: toHex(pqPub), signature: toHex(signPqPreKey(id, pqPub)) },
    ];
  });

  const x3dh = [];
  for (const [i, withOpk] of [
    [0, true],
    [1, false],
    [2, true],
  ] as const) {
    const alice = identityFromSeed(fixedKey(`x3dh ${i} alice identity`));
    const bob = identityFromSeed(fixedKey(`x3dh ${i} bob identity`));
    const ek = fixedKey(`x3dh ${i} alice ephemeral`);
    const spk = fixedKey(`x3dh ${i} bob spk`);
    const opk = withOpk ? fixedKey(`x3dh ${i} bob opk`) : null;
    const ss = fixedKey(`x3dh ${i} kem shared secret`);
    const sk = await initiatorSessionKey({
      identity: alice,
      ephemeral: dhKeyPair(ek.slice()),
      remoteIdentity: bob.publicKey,
      remoteSignedPreKey: x25519PublicKey(spk),
      ...(opk ? { remoteOneTimePreKey: x25519PublicKey(opk) } : {}),
      kemSharedSecret: ss,
    }, seededRandom(0));
    x3dh.push({
      alice_identity_seed: toHex(alice.exportSeed()),
      alice_ephemeral_private: toHex(ek),
      bob_identity_seed: toHex(bob.exportSeed()),
      bob_signed_prekey_private: toHex(spk),
      bob_one_time_prekey_private: opk ? toHex(opk) : null,
      kem_shared_secret: toHex(ss),
      sk: toHex(sk.expose()),
      ad: toHex(associatedData(alice.publicKey, bob.publicKey)),
    });
  }

  const ratchet = [];
  for (let i = 0; i < CONVERSATIONS.length; i++) ratchet.push(await ratchetVector(i, CONVERSATIONS[i]!));
  const ratchet_out_of_order = [];
  for (let i = 0; i < OUT_OF_ORDER.length; i++) ratchet_out_of_order.push(await outOfOrderVector(i, OUT_OF_ORDER[i]!));

  return {
    protocol: L.PROTOCOL_NAME,
    params: {
      x3dh_info: toHex(L.PQXDH_INFO_BYTES),
      ratchet_info: toHex(L.RATCHET_INFO_BYTES),
      message_info: toHex(L.MESSAGE_KEYS_INFO_BYTES),
      spk_signature_label: toHex(L.SPK_SIGNATURE_LABEL_BYTES),
      pqpk_signature_label: toHex(L.PQPK_SIGNATURE_LABEL_BYTES),
    },
    identity,
    prekey_signatures,
    x3dh,
    ratchet,
    safety_number: safetyNumberVectors(),
    prekey_message: await preKeyMessageVectors(),
    ratchet_out_of_order,
  };
}

/** The exact text of tests/vectors/protocol-v1.json (the test compares bytes, not parsed values). */
export async function renderVectors(): Promise<string> {
  return JSON.stringify(await generateVectors(), null, 2) + '\n';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = fileURLToPath(new URL('../tests/vectors/protocol-v1.json', import.meta.url));
  writeFileSync(out, await renderVectors());
  process.stderr.write(`wrote ${out}\n`);
}
