/**
 * tests/vectors/protocol-v1.json: every field recomputed from the fixed inputs, twice —
 * with an independent in-test implementation written from docs/PROTOCOL.md on plain
 * @noble primitives (so the vectors say what the spec says, not just what our code does),
 * and with the crypto core itself. The generator must also reproduce the file exactly.
 * Groups: the six required ones (fixed shape) and the extra safety_number, prekey_message,
 * ratchet_out_of_order.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { concatBytes, fromHex, fromUtf8, toHex } from '../../src/core/bytes.ts';
import { identityFromSeed } from '../../src/core/crypto/identity.ts';
import { initiatorSessionKey, responderSessionKey } from '../../src/core/crypto/pqxdh.ts';
import { initRatchetAsInitiator, initRatchetAsResponder, ratchetDecrypt, ratchetEncrypt } from '../../src/core/crypto/double-ratchet.ts';
import { MlKemKeyPair, X25519KeyPair, signPqPreKey, signSignedPreKey, verifyPqPreKeySignature, verifySignedPreKeySignature } from '../../src/core/crypto/prekeys.ts';
import { acceptSession } from '../../src/core/crypto/session.ts';
import { compareScannedSafetyNumber, safetyNumber, safetyNumberQrPayload } from '../../src/core/crypto/safety-number.ts';
import { dhKeyPair, x25519PublicKey } from '../../src/core/crypto/x25519.ts';
import { SecretBytes } from '../../src/core/crypto/redacted.ts';
import { CryptoRuntime } from '../../src/core/crypto/crypto-runtime.ts';
import { seededRandom } from '../../src/core/random.ts';
import { listRandom, renderVectors } from '../../scripts/gen-vectors.ts';

interface Vectors {
  protocol: string;
  params: Record<'x3dh_info' | 'ratchet_info' | 'message_info' | 'spk_signature_label' | 'pqpk_signature_label', string>;
  identity: Array<{ seed: string; ed25519_public: string; x25519_private: string; x25519_public: string }>;
  prekey_signatures: Array<{ kind: 'spk' | 'pqpk'; identity_seed: string; public: string; signature: string }>;
  x3dh: Array<{
    alice_identity_seed: string;
    alice_ephemeral_private: string;
    bob_identity_seed: string;
    bob_signed_prekey_private: string;
    bob_one_time_prekey_private: string | null;
    kem_shared_secret: string;
    sk: string;
    ad: string;
  }>;
  ratchet: Array<{
    sk: string;
    ad: string;
    bob_signed_prekey_private: string;
    alice_ratchet_privates: string[];
    bob_ratchet_privates: string[];
    messages: Array<{ from: 'alice' | 'bob'; plaintext: string; header: string; ciphertext: string }>;
  }>;
  safety_number: Array<{
    our_identity_seed: string;
    their_identity_seed: string;
    our_identity_public: string;
    their_identity_public: string;
    our_stable_id: string;
    their_stable_id: string;
    safety_number: string;
    qr_payload: string;
  }>;
  ratchet_out_of_order: Array<
    Vectors['ratchet'][number] & {
      events: Array<{ op: 'send' | 'deliver'; message: number }>;
    }
  >;
  prekey_message: Array<{
    alice_identity_seed: string;
    bob_identity_seed: string;
    bob_signed_prekey: { id: number; private: string };
    bob_one_time_prekey: { id: number; private: string } | null;
    bob_pq_prekey: { id: number; seed: string; last_resort: boolean };
    alice_ephemeral_private: string;
    kem_encapsulation_randomness: string;
    alice_ratchet_private: string;
    plaintext: string;
    message: string;
  }>;
}

const FILE = readFileSync(new URL('../vectors/protocol-v1.json', import.meta.url));
const V: Vectors = JSON.parse(FILE.toString('utf8'));
const h = fromHex;

describe('published vectors: shape and coverage', () => {
  it('keeps the required groups first and exactly; extra groups are added after them', () => {
    expect(Object.keys(V)).toEqual(['protocol', 'params', 'identity', 'prekey_signatures', 'x3dh', 'ratchet', 'safety_number', 'prekey_message', 'ratchet_out_of_order']);
    expect(Object.keys(V.params)).toEqual(['x3dh_info', 'ratchet_info', 'message_info', 'spk_signature_label', 'pqpk_signature_label']);
  });

  it('has the protocol name, the labels and enough vectors of each kind', () => {
    expect(V.protocol).toBe('petrel/1');
    expect(fromUtf8(h(V.params.x3dh_info))).toBe('Petrel_CURVE25519_SHA-256_ML-KEM-768');
    expect(fromUtf8(h(V.params.ratchet_info))).toBe('Petrel_Ratchet');
    expect(fromUtf8(h(V.params.message_info))).toBe('Petrel_MessageKeys');
    expect(fromUtf8(h(V.params.spk_signature_label))).toBe('Petrel_SPK');
    expect(fromUtf8(h(V.params.pqpk_signature_label))).toBe('Petrel_PQPK');
    expect(V.identity.length).toBeGreaterThanOrEqual(2);
    expect(new Set(V.prekey_signatures.map((p) => p.kind))).toEqual(new Set(['spk', 'pqpk']));
    expect(V.x3dh.some((x) => x.bob_one_time_prekey_private === null)).toBe(true);
    expect(V.x3dh.some((x) => x.bob_one_time_prekey_private !== null)).toBe(true);
    const longest = Math.max(...V.ratchet.map((r) => r.messages.length));
    expect(longest).toBeGreaterThanOrEqual(20);
    const turns = (r: Vectors['ratchet'][number]) => r.messages.filter((m, i) => i > 0 && m.from !== r.messages[i - 1]!.from).length;
    expect(Math.max(...V.ratchet.map(turns))).toBeGreaterThanOrEqual(5);
    expect(V.safety_number.length).toBeGreaterThanOrEqual(3);
    expect(V.safety_number.some((x) => x.our_stable_id !== '')).toBe(true);
    expect(V.prekey_message.some((x) => x.bob_one_time_prekey === null && x.bob_pq_prekey.last_resort)).toBe(true);
    expect(V.prekey_message.some((x) => x.bob_one_time_prekey !== null && !x.bob_pq_prekey.last_resort)).toBe(true);
    // Out of order: every message sent once and delivered once, some after a later one.
    for (const v of V.ratchet_out_of_order) {
      const sent = v.events.filter((e) => e.op === 'send').map((e) => e.message);
      const delivered = v.events.filter((e) => e.op === 'deliver').map((e) => e.message);
      expect(sent).toEqual(v.messages.map((_, i) => i));
      expect([...delivered].sort((x, y) => x - y)).toEqual(sent);
      expect(delivered.some((m, i) => i > 0 && m < delivered[i - 1]!)).toBe(true);
    }
  });

  it('the generator reproduces the file byte for byte', async () => {
    const generated = Buffer.from(await renderVectors(), 'utf8');
    expect(generated.length).toBe(FILE.length);
    expect(generated.equals(FILE)).toBe(true);
  });
});

/** PROTOCOL.md §1: the identity's X25519 private key = SHA-512(seed)[0..32), clamped (RFC 7748 §5 decodeScalar25519). */
function identityX25519Private(seed: Uint8Array): Uint8Array {
  const k = sha512(seed).slice(0, 32);
  k[0]! &= 248;
  k[31]! &= 127;
  k[31]! |= 64;
  return k;
}

describe('published vectors: independent recomputation from the spec', () => {
  it('identity: Ed25519 public key; X25519 private = clamped SHA-512(seed)[0..32); X25519 public = the birational map', () => {
    for (const v of V.identity) {
      expect(toHex(ed25519.getPublicKey(h(v.seed)))).toBe(v.ed25519_public);
      expect(toHex(identityX25519Private(h(v.seed)))).toBe(v.x25519_private);
      // The published private key is already clamped: bits 0-2 clear, bit 255 clear, bit 254 set.
      const k = h(v.x25519_private);
      expect([k[0]! & 7, k[31]! & 0x80, k[31]! & 0x40]).toEqual([0, 0, 0x40]);
      expect(toHex(ed25519.utils.toMontgomery(h(v.ed25519_public)))).toBe(v.x25519_public);
      expect(toHex(x25519.getPublicKey(h(v.x25519_private)))).toBe(v.x25519_public);
    }
  });

  it('safety numbers: iterated SHA-512 fingerprints, 30 digits each, smaller first; QR payload', () => {
    const u16 = (n: number) => Uint8Array.of(n >> 8, n & 255);
    const fingerprint = (ik: Uint8Array, stableId: Uint8Array) => {
      let hash = sha512(concatBytes(u16(0), ik, stableId, ik));
      for (let i = 1; i < 5200; i++) hash = sha512(concatBytes(hash, ik));
      return hash;
    };
    const digits = (fp: Uint8Array) => {
      let out = '';
      for (let c = 0; c < 6; c++) out += (BigInt('0x' + toHex(fp.slice(5 * c, 5 * c + 5))) % 100000n).toString().padStart(5, '0');
      return out;
    };
    for (const v of V.safety_number) {
      const ours = ed25519.getPublicKey(h(v.our_identity_seed));
      const theirs = ed25519.getPublicKey(h(v.their_identity_seed));
      expect(toHex(ours)).toBe(v.our_identity_public);
      expect(toHex(theirs)).toBe(v.their_identity_public);
      const fpOurs = fingerprint(ours, h(v.our_stable_id));
      const fpTheirs = fingerprint(theirs, h(v.their_stable_id));
      expect(v.safety_number).toMatch(/^\d{60}$/);
      expect([digits(fpOurs), digits(fpTheirs)].sort().join('')).toBe(v.safety_number);
      expect(toHex(concatBytes(Uint8Array.of(1), fpOurs.slice(0, 32), fpTheirs.slice(0, 32)))).toBe(v.qr_payload);
    }
  });

  it('prekey messages: PQXDH from the bundle, the first ratchet message, and the §5.3 byte layout', () => {
    for (const v of V.prekey_message) {
      const ikA = ed25519.getPublicKey(h(v.alice_identity_seed));
      const ikB = ed25519.getPublicKey(h(v.bob_identity_seed));
      const spkPub = x25519.getPublicKey(h(v.bob_signed_prekey.private));
      const pqPub = ml_kem768.keygen(h(v.bob_pq_prekey.seed)).publicKey;
      const ek = h(v.alice_ephemeral_private);
      const { cipherText, sharedSecret } = ml_kem768.encapsulate(pqPub, h(v.kem_encapsulation_randomness));
      const dh = [
        x25519.getSharedSecret(identityX25519Private(h(v.alice_identity_seed)), spkPub),
        x25519.getSharedSecret(ek, ed25519.utils.toMontgomery(ikB)),
        x25519.getSharedSecret(ek, spkPub),
        ...(v.bob_one_time_prekey ? [x25519.getSharedSecret(ek, x25519.getPublicKey(h(v.bob_one_time_prekey.private)))] : []),
      ];
      const sk = hkdf(sha256, concatBytes(new Uint8Array(32).fill(0xff), ...dh, sharedSecret), new Uint8Array(32), h(V.params.x3dh_info), 32);
      // RatchetInitAlice, then RatchetEncrypt of the first message (PN = N = 0).
      const dhs = h(v.alice_ratchet_private);
      const rkOut = hkdf(sha256, x25519.getSharedSecret(dhs, spkPub), sk, h(V.params.ratchet_info), 64);
      const mk = hmac(sha256, rkOut.slice(32), Uint8Array.of(1));
      const header = concatBytes(x25519.getPublicKey(dhs), u32(0), u32(0));
      const keys = hkdf(sha256, mk, new Uint8Array(32), h(V.params.message_info), 44);
      const ct = gcm(keys.slice(0, 32), keys.slice(32), concatBytes(ikA, ikB, header)).encrypt(h(v.plaintext));
      const opk = v.bob_one_time_prekey;
      const message = concatBytes(
        Uint8Array.of(0x12),
        ikA,
        x25519.getPublicKey(ek),
        u32(v.bob_signed_prekey.id),
        u32(v.bob_pq_prekey.id),
        Uint8Array.of(opk ? 1 : 0),
        u32(opk ? opk.id : 0),
        cipherText,
        header,
        ct,
      );
      expect(toHex(message)).toBe(v.message);
    }
  });

  it('ratchet_out_of_order: the Double Ratchet as its spec writes it sends every byte and reads every late or reordered message', () => {
    for (const v of V.ratchet_out_of_order) {
      const keys = { alice: v.alice_ratchet_privates.map(h), bob: v.bob_ratchet_privates.map(h) };
      const next = (who: 'alice' | 'bob') => () => keys[who].shift()!;
      const spk = h(v.bob_signed_prekey_private);
      const party = {
        alice: SpecRatchet.alice(h(v.sk), h(v.ad), x25519.getPublicKey(spk), next('alice')),
        bob: SpecRatchet.bob(h(v.sk), h(v.ad), spk, next('bob')),
      };
      for (const e of v.events) {
        const m = v.messages[e.message]!;
        if (e.op === 'send') {
          const out = party[m.from].encrypt(h(m.plaintext));
          expect(toHex(out.header), `header of ${e.message}`).toBe(m.header);
          expect(toHex(out.ciphertext), `ciphertext of ${e.message}`).toBe(m.ciphertext);
        } else {
          const to = m.from === 'alice' ? 'bob' : 'alice';
          expect(toHex(party[to].decrypt(h(m.header), h(m.ciphertext))), `plaintext of ${e.message}`).toBe(m.plaintext);
        }
      }
      // Every generated key was used, and no skipped key is left over.
      expect([keys.alice.length, keys.bob.length]).toEqual([0, 0]);
      expect(party.alice.skipped.size + party.bob.skipped.size).toBe(0);
    }
  });

  it('prekey signatures: Ed25519(IK, label ‖ public)', () => {
    for (const v of V.prekey_signatures) {
      const label = v.kind === 'spk' ? V.params.spk_signature_label : V.params.pqpk_signature_label;
      expect(v.public.length / 2).toBe(v.kind === 'spk' ? 32 : 1184);
      expect(toHex(ed25519.sign(concatBytes(h(label), h(v.public)), h(v.identity_seed)))).toBe(v.signature);
      const ik = ed25519.getPublicKey(h(v.identity_seed));
      const verify = v.kind === 'spk' ? verifySignedPreKeySignature : verifyPqPreKeySignature;
      expect(verify(ik, h(v.public), h(v.signature))).toBe(true);
    }
  });

  it('x3dh: SK = HKDF(0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] ‖ SS) and AD = IK_A ‖ IK_B', () => {
    for (const v of V.x3dh) {
      const ikA = h(v.alice_identity_seed);
      const ikB = h(v.bob_identity_seed);
      const spkPub = x25519.getPublicKey(h(v.bob_signed_prekey_private));
      const ikBx = ed25519.utils.toMontgomery(ed25519.getPublicKey(ikB));
      const dh1 = x25519.getSharedSecret(ed25519.utils.toMontgomerySecret(ikA), spkPub);
      const dh2 = x25519.getSharedSecret(h(v.alice_ephemeral_private), ikBx);
      const dh3 = x25519.getSharedSecret(h(v.alice_ephemeral_private), spkPub);
      const dh4 = v.bob_one_time_prekey_private
        ? x25519.getSharedSecret(h(v.alice_ephemeral_private), x25519.getPublicKey(h(v.bob_one_time_prekey_private)))
        : new Uint8Array(0);
      const ikm = concatBytes(new Uint8Array(32).fill(0xff), dh1, dh2, dh3, dh4, h(v.kem_shared_secret));
      expect(toHex(hkdf(sha256, ikm, new Uint8Array(32), h(V.params.x3dh_info), 32))).toBe(v.sk);
      expect(v.ad).toBe(toHex(ed25519.getPublicKey(ikA)) + toHex(ed25519.getPublicKey(ikB)));
    }
  });

  it('ratchet: every header and ciphertext of every conversation', () => {
    for (const v of V.ratchet) {
      const ad = h(v.ad);
      const kdfRk = (rk: Uint8Array, dh: Uint8Array) => {
        const out = hkdf(sha256, dh, rk, h(V.params.ratchet_info), 64);
        return [out.slice(0, 32), out.slice(32)] as const;
      };
      const kdfCk = (ck: Uint8Array) => [hmac(sha256, ck, Uint8Array.of(1)), hmac(sha256, ck, Uint8Array.of(2))] as const;
      const aPrivs = v.alice_ratchet_privates.map(h);
      const bPrivs = v.bob_ratchet_privates.map(h);
      // Alice: DHs = first key, RK, CKs = KDF_RK(SK, DH(DHs, SPK_B)). Bob: DHs = SPK, RK = SK.
      const spkPub = x25519.getPublicKey(h(v.bob_signed_prekey_private));
      let [rk, ck] = kdfRk(h(v.sk), x25519.getSharedSecret(aPrivs[0]!, spkPub));
      let sender: 'alice' | 'bob' = 'alice';
      let senderPriv = aPrivs[0]!;
      let n = 0;
      let pn = 0;
      const lastChainLength = { alice: 0, bob: 0 };
      // Keys are made on receipt of a new chain: Alice 1 + one per Bob chain, Bob one per Alice chain.
      const chains = (who: string) => v.messages.filter((m, i) => m.from === who && (i === 0 || v.messages[i - 1]!.from !== who)).length;
      expect(aPrivs.length).toBe(1 + chains('bob'));
      expect(bPrivs.length).toBe(chains('alice'));
      let ai = 1;
      let bi = 0;
      for (const m of v.messages) {
        if (m.from !== sender) {
          // Direction turns: the new sender makes a ratchet key and the root key absorbs
          // DH(new key, peer's current key); the receiver's "receiving half" derives the same.
          const newPriv = m.from === 'alice' ? aPrivs[ai++]! : bPrivs[bi++]!;
          [rk, ck] = kdfRk(rk, x25519.getSharedSecret(newPriv, x25519.getPublicKey(senderPriv)));
          lastChainLength[sender] = n;
          pn = lastChainLength[m.from];
          n = 0;
          sender = m.from;
          senderPriv = newPriv;
        }
        const header = concatBytes(x25519.getPublicKey(senderPriv), u32(pn), u32(n));
        expect(toHex(header)).toBe(m.header);
        const [mk, next] = kdfCk(ck);
        ck = next;
        const keys = hkdf(sha256, mk, new Uint8Array(32), h(V.params.message_info), 44);
        const ct = gcm(keys.slice(0, 32), keys.slice(32), concatBytes(ad, header)).encrypt(h(m.plaintext));
        expect(toHex(ct)).toBe(m.ciphertext);
        n++;
      }
    }
  });
});

/**
 * The Double Ratchet as its spec writes it (revision 4, §3.3–§3.5: RatchetInitAlice/Bob,
 * RatchetEncrypt, RatchetDecrypt, TrySkippedMessageKeys, SkipMessageKeys, DHRatchet) with
 * PROTOCOL.md §1's KDFs, cipher and header, on plain @noble primitives. `nextKey` is
 * GENERATE_DH()'s private key source.
 */
class SpecRatchet {
  rk: Uint8Array;
  dhs: Uint8Array;
  dhr: Uint8Array | undefined;
  cks: Uint8Array | undefined;
  ckr: Uint8Array | undefined;
  ns = 0;
  nr = 0;
  pn = 0;
  readonly skipped = new Map<string, Uint8Array>();

  private constructor(
    private readonly ad: Uint8Array,
    private readonly nextKey: () => Uint8Array,
    rk: Uint8Array,
    dhs: Uint8Array,
  ) {
    this.rk = rk;
    this.dhs = dhs;
  }

  static alice(sk: Uint8Array, ad: Uint8Array, bobPublic: Uint8Array, nextKey: () => Uint8Array): SpecRatchet {
    const r = new SpecRatchet(ad, nextKey, sk, nextKey());
    r.dhr = bobPublic;
    [r.rk, r.cks] = SpecRatchet.kdfRk(sk, x25519.getSharedSecret(r.dhs, bobPublic));
    return r;
  }

  static bob(sk: Uint8Array, ad: Uint8Array, bobPrivate: Uint8Array, nextKey: () => Uint8Array): SpecRatchet {
    return new SpecRatchet(ad, nextKey, sk, bobPrivate);
  }

  static kdfRk(rk: Uint8Array, dh: Uint8Array): [Uint8Array, Uint8Array] {
    const out = hkdf(sha256, dh, rk, h(V.params.ratchet_info), 64);
    return [out.slice(0, 32), out.slice(32)];
  }

  static kdfCk(ck: Uint8Array): [Uint8Array, Uint8Array] {
    return [hmac(sha256, ck, Uint8Array.of(2)), hmac(sha256, ck, Uint8Array.of(1))]; // [next CK, MK]
  }

  private cipher(mk: Uint8Array, header: Uint8Array) {
    const keys = hkdf(sha256, mk, new Uint8Array(32), h(V.params.message_info), 44);
    return gcm(keys.slice(0, 32), keys.slice(32), concatBytes(this.ad, header));
  }

  encrypt(plaintext: Uint8Array): { header: Uint8Array; ciphertext: Uint8Array } {
    const [ck, mk] = SpecRatchet.kdfCk(this.cks!);
    this.cks = ck;
    const header = concatBytes(x25519.getPublicKey(this.dhs), u32(this.pn), u32(this.ns));
    this.ns += 1;
    return { header, ciphertext: this.cipher(mk, header).encrypt(plaintext) };
  }

  decrypt(header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const dh = header.slice(0, 32);
    const view = new DataView(header.buffer, header.byteOffset);
    const [pn, n] = [view.getUint32(32), view.getUint32(36)];
    const id = `${toHex(dh)}/${n}`;
    const stored = this.skipped.get(id);
    if (stored) {
      this.skipped.delete(id);
      return this.cipher(stored, header).decrypt(ciphertext);
    }
    if (!this.dhr || toHex(dh) !== toHex(this.dhr)) {
      this.skip(pn);
      // DHRatchet
      this.pn = this.ns;
      this.ns = 0;
      this.nr = 0;
      this.dhr = dh;
      [this.rk, this.ckr] = SpecRatchet.kdfRk(this.rk, x25519.getSharedSecret(this.dhs, this.dhr));
      this.dhs = this.nextKey();
      [this.rk, this.cks] = SpecRatchet.kdfRk(this.rk, x25519.getSharedSecret(this.dhs, this.dhr));
    }
    this.skip(n);
    const [ck, mk] = SpecRatchet.kdfCk(this.ckr!);
    this.ckr = ck;
    this.nr += 1;
    return this.cipher(mk, header).decrypt(ciphertext);
  }

  private skip(until: number): void {
    if (!this.ckr) return;
    while (this.nr < until) {
      const [ck, mk] = SpecRatchet.kdfCk(this.ckr);
      this.skipped.set(`${toHex(this.dhr!)}/${this.nr}`, mk);
      this.ckr = ck;
      this.nr += 1;
    }
  }
}

function u32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

describe('published vectors: the crypto core agrees', () => {
  it('safety numbers: both sides compute the number, and each side matches the other\'s QR payload', () => {
    for (const v of V.safety_number) {
      const [ours, theirs] = [h(v.our_identity_public), h(v.their_identity_public)];
      const [ourStableId, theirStableId] = [h(v.our_stable_id), h(v.their_stable_id)];
      expect(safetyNumber(ours, theirs, { ourStableId, theirStableId })).toBe(v.safety_number);
      expect(safetyNumber(theirs, ours, { ourStableId: theirStableId, theirStableId: ourStableId })).toBe(v.safety_number);
      expect(toHex(safetyNumberQrPayload(ours, theirs, { ourStableId, theirStableId }))).toBe(v.qr_payload);
      expect(compareScannedSafetyNumber(theirs, ours, h(v.qr_payload), { ourStableId: theirStableId, theirStableId: ourStableId })).toBe('match');
    }
  });

  it('prekey messages: Bob accepts each with the prekeys it names and reads the plaintext', async () => {
    for (const v of V.prekey_message) {
      const bob = identityFromSeed(h(v.bob_identity_seed));
      const spk = X25519KeyPair.fromPrivate(h(v.bob_signed_prekey.private));
      const pq = MlKemKeyPair.fromSeed(h(v.bob_pq_prekey.seed));
      const opk = v.bob_one_time_prekey ? { id: v.bob_one_time_prekey.id, keyPair: X25519KeyPair.fromPrivate(h(v.bob_one_time_prekey.private)) } : undefined;
      const keys = {
        signedPreKey: { id: v.bob_signed_prekey.id, keyPair: spk, signature: signSignedPreKey(bob, spk.publicKey) },
        pqPreKey: { id: v.bob_pq_prekey.id, keyPair: pq, signature: signPqPreKey(bob, pq.publicKey), lastResort: v.bob_pq_prekey.last_resort },
        ...(opk ? { oneTimePreKey: opk } : {}),
      };
      const accepted = await acceptSession(bob, keys, h(v.message), { expectedSender: ed25519.getPublicKey(h(v.alice_identity_seed)) });
      expect(toHex(accepted.plaintext)).toBe(v.plaintext);
      expect(accepted.usedOneTimePreKeys).toEqual({
        ...(opk ? { oneTimePreKeyId: opk.id } : {}),
        ...(v.bob_pq_prekey.last_resort ? {} : { pqOneTimePreKeyId: v.bob_pq_prekey.id }),
      });
    }
  });

  it('x3dh: both PQXDH sides derive SK', async () => {
    for (const v of V.x3dh) {
      const alice = identityFromSeed(h(v.alice_identity_seed));
      const bob = identityFromSeed(h(v.bob_identity_seed));
      const ek = dhKeyPair(h(v.alice_ephemeral_private));
      const spk = dhKeyPair(h(v.bob_signed_prekey_private));
      const opk = v.bob_one_time_prekey_private ? dhKeyPair(h(v.bob_one_time_prekey_private)) : undefined;
      const ss = h(v.kem_shared_secret);
      const a = await initiatorSessionKey({
        identity: alice,
        ephemeral: ek,
        remoteIdentity: bob.publicKey,
        remoteSignedPreKey: spk.publicKey,
        ...(opk ? { remoteOneTimePreKey: opk.publicKey } : {}),
        kemSharedSecret: ss,
      }, new CryptoRuntime(seededRandom(0)));
      const b = await responderSessionKey({ identity: bob, signedPreKey: spk, ...(opk ? { oneTimePreKey: opk } : {}), remoteIdentity: alice.publicKey, remoteBaseKey: ek.publicKey, kemSharedSecret: ss }, seededRandom(0));
      expect(toHex(a.expose())).toBe(v.sk);
      expect(toHex(b.expose())).toBe(v.sk);
    }
  });

  /** Alice and Bob's ratchets as a ratchet vector starts them, with its scripted ratchet keys. */
  async function ratchetPairOf(v: { sk: string; ad: string; bob_signed_prekey_private: string; alice_ratchet_privates: string[]; bob_ratchet_privates: string[] }) {
    const spkPriv = h(v.bob_signed_prekey_private);
    const random = { alice: listRandom(v.alice_ratchet_privates.map(h)), bob: listRandom(v.bob_ratchet_privates.map(h)) };
    const base = { ad: h(v.ad), baseKey: new Uint8Array(32) };
    const state = {
      alice: await initRatchetAsInitiator({ ...base, sk: new SecretBytes(h(v.sk)), remoteSignedPreKey: x25519PublicKey(spkPriv) }, random.alice),
      bob: initRatchetAsResponder({ ...base, sk: new SecretBytes(h(v.sk)), signedPreKey: dhKeyPair(spkPriv) }),
    };
    return { random, state };
  }

  it('ratchet: the sender reproduces every byte and the receiver decrypts every message', async () => {
    for (const v of V.ratchet) {
      const { random, state } = await ratchetPairOf(v);
      for (const m of v.messages) {
        const to = m.from === 'alice' ? 'bob' : 'alice';
        const sent = await ratchetEncrypt(state[m.from], h(m.plaintext), random[m.from]);
        expect(toHex(sent.header)).toBe(m.header);
        expect(toHex(sent.ciphertext)).toBe(m.ciphertext);
        state[m.from] = sent.state;
        const out = await ratchetDecrypt(state[to], h(m.header), h(m.ciphertext), random[to]);
        expect(toHex(out.plaintext)).toBe(m.plaintext);
        state[to] = out.state;
      }
      expect(random.alice.used()).toBe(v.alice_ratchet_privates.length);
      expect(random.bob.used()).toBe(v.bob_ratchet_privates.length);
    }
  });

  it('ratchet_out_of_order: the core reproduces every byte in event order and reads every message', async () => {
    for (const v of V.ratchet_out_of_order) {
      const { random, state } = await ratchetPairOf(v);
      for (const e of v.events) {
        const m = v.messages[e.message]!;
        if (e.op === 'send') {
          const sent = await ratchetEncrypt(state[m.from], h(m.plaintext), random[m.from]);
          expect(toHex(sent.header)).toBe(m.header);
          expect(toHex(sent.ciphertext)).toBe(m.ciphertext);
          state[m.from] = sent.state;
        } else {
          const to = m.from === 'alice' ? 'bob' : 'alice';
          const out = await ratchetDecrypt(state[to], h(m.header), h(m.ciphertext), random[to]);
          expect(toHex(out.plaintext)).toBe(m.plaintext);
          state[to] = out.state;
        }
      }
      expect(state.alice.data.skipped.length + state.bob.data.skipped.length).toBe(0);
    }
  });
});
