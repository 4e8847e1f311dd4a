/**
 * tests/vectors/protocol-v1.json: every field recomputed from the fixed inputs, twice —
 * with an independent in-test implementation written from docs/PROTOCOL.md on plain
 * @noble primitives (so the vectors say what the spec says, not just what our code does),
 * and with the crypto core itself. The generator must also reproduce the file exactly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, fromUtf8, toHex } from '../../src/core/bytes.ts';
import { identityFromSeed } from '../../src/core/crypto/identity.ts';
import { initiatorSessionKey, responderSessionKey } from '../../src/core/crypto/pqxdh.ts';
import { initRatchetAsInitiator, initRatchetAsResponder, ratchetDecrypt, ratchetEncrypt } from '../../src/core/crypto/double-ratchet.ts';
import { verifyPqPreKeySignature, verifySignedPreKeySignature } from '../../src/core/crypto/prekeys.ts';
import { dhKeyPair, x25519PublicKey } from '../../src/core/crypto/x25519.ts';
import { SecretBytes } from '../../src/core/crypto/redacted.ts';
import { generateVectors, listRandom } from '../../scripts/gen-vectors.ts';

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
}

const V: Vectors = JSON.parse(readFileSync(new URL('../vectors/protocol-v1.json', import.meta.url), 'utf8'));
const h = fromHex;

describe('published vectors: shape and coverage', () => {
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
  });

  it('the generator reproduces the file byte for byte', async () => {
    expect(JSON.parse(JSON.stringify(await generateVectors()))).toEqual(V);
  });
});

describe('published vectors: independent recomputation from the spec', () => {
  it('identity: Ed25519 public key and X25519 forms', () => {
    for (const v of V.identity) {
      expect(toHex(ed25519.getPublicKey(h(v.seed)))).toBe(v.ed25519_public);
      expect(toHex(ed25519.utils.toMontgomerySecret(h(v.seed)))).toBe(v.x25519_private);
      expect(toHex(ed25519.utils.toMontgomery(h(v.ed25519_public)))).toBe(v.x25519_public);
      expect(toHex(x25519.getPublicKey(h(v.x25519_private)))).toBe(v.x25519_public);
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

function u32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

describe('published vectors: the crypto core agrees', () => {
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
      });
      const b = await responderSessionKey({ identity: bob, signedPreKey: spk, ...(opk ? { oneTimePreKey: opk } : {}), remoteIdentity: alice.publicKey, remoteBaseKey: ek.publicKey, kemSharedSecret: ss });
      expect(toHex(a.expose())).toBe(v.sk);
      expect(toHex(b.expose())).toBe(v.sk);
    }
  });

  it('ratchet: the sender reproduces every byte and the receiver decrypts every message', async () => {
    for (const v of V.ratchet) {
      const spkPriv = h(v.bob_signed_prekey_private);
      const random = { alice: listRandom(v.alice_ratchet_privates.map(h)), bob: listRandom(v.bob_ratchet_privates.map(h)) };
      const base = { ad: h(v.ad), baseKey: new Uint8Array(32) };
      const state = {
        alice: await initRatchetAsInitiator({ ...base, sk: new SecretBytes(h(v.sk)), remoteSignedPreKey: x25519PublicKey(spkPriv) }, random.alice),
        bob: initRatchetAsResponder({ ...base, sk: new SecretBytes(h(v.sk)), signedPreKey: dhKeyPair(spkPriv) }),
      };
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
});
