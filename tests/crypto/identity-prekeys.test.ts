/**
 * Identity persistence and contact-key comparison; prekey pools (replenishment below the
 * threshold, SPK rotation keeping the previous key, serialisation). Redaction of secrets:
 * redaction.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, fromUtf8, toHex, utf8 } from '../../src/core/bytes.ts';
import { seededRandom } from '../../src/core/random.ts';
import {
  InvalidKeyError,
  MalformedStateError,
  CorruptStateError,
  buildSignedPreKeyBundle,
  signedPreKeyRotationDue,
  acceptSessionFromPool,
  buildPublishedBundle,
  compareContactIdentity,
  createPreKeyPool,
  deserializePreKeyPool,
  encrypt,
  generateIdentity,
  identityFromSeed,
  initiateSession,
  limits,
  loadOrCreateIdentity,
  mailboxAddress,
  replenishPreKeys,
  addOneTimePreKeys,
  oneTimePreKeysNeeded,
  rotateSignedPreKeys,
  serializePreKeyPool,
  signRelayChallenge,
  verifyFetchedBundle,
  verifyRelayChallenge,
  verifyPublishedBundle,
} from '../../src/core/crypto/index.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { fetchedBundle } from './helpers.ts';

describe('identity', () => {
  it('is created once, persisted through the store, and loaded identically afterwards', async () => {
    let stored: Uint8Array | undefined;
    let saves = 0;
    const store = {
      load: async () => stored,
      save: async (seed: Uint8Array) => {
        stored = seed.slice();
        saves++;
      },
    };
    const first = await loadOrCreateIdentity(store, seededRandom(1));
    const second = await loadOrCreateIdentity(store, seededRandom(2));
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(saves).toBe(1);
    expect(toHex(second.identity.publicKey)).toBe(toHex(first.identity.publicKey));
    stored = new Uint8Array(5);
    await expect(loadOrCreateIdentity(store, seededRandom(3))).rejects.toBeInstanceOf(MalformedStateError);
  });

  it('compareContactIdentity: new, same, changed; a malformed key is refused, never a new contact', () => {
    const a = generateIdentity(seededRandom(4)).publicKey;
    const b = generateIdentity(seededRandom(5)).publicKey;
    expect(compareContactIdentity(undefined, a)).toBe('new');
    expect(compareContactIdentity(a, a.slice())).toBe('same');
    expect(compareContactIdentity(a, b)).toBe('changed');
    for (const bad of [new Uint8Array(0), a.subarray(0, 31), new Uint8Array(33)]) {
      expect(() => compareContactIdentity(undefined, bad)).toThrow(InvalidKeyError);
      expect(() => compareContactIdentity(a, bad)).toThrow(InvalidKeyError);
      expect(() => compareContactIdentity(bad, a)).toThrow(InvalidKeyError);
    }
  });

  it('relay challenge answer = Ed25519(IK, "Petrel_Auth" ‖ nonce)', () => {
    const id = generateIdentity(seededRandom(7));
    const nonce = seededRandom(8).bytes(32);
    const sig = signRelayChallenge(id, nonce);
    expect(toHex(sig)).toBe(toHex(id.sign(concatBytes(utf8('Petrel_Auth'), nonce))));
    expect(verifyRelayChallenge(id.publicKey, nonce, sig)).toBe(true);
    expect(verifyRelayChallenge(id.publicKey, seededRandom(9).bytes(32), sig)).toBe(false);
  });

  it('mailbox address = SHA-256("Petrel_Mailbox" ‖ IK_pub)', () => {
    const ik = generateIdentity(seededRandom(6)).publicKey;
    expect(toHex(mailboxAddress(ik))).toBe(toHex(sha256(concatBytes(utf8('Petrel_Mailbox'), ik))));
  });
});

describe('prekey pool', () => {
  const random = seededRandom(50);
  const identity = identityFromSeed(random.bytes(32));
  const pool = createPreKeyPool(identity, random, 30);

  it('publishes a bundle whose every signature verifies', () => {
    const bundle = buildPublishedBundle(identity, pool);
    expect(bundle.opks.length).toBe(30);
    expect(bundle.pqopks.length).toBe(30);
    expect(bundle.pqspk.pub.length).toBe(1184);
    expect(verifyPublishedBundle(bundle)).toBe(true);
    const ids = [bundle.spk.id, bundle.pqspk.id, ...bundle.opks.map((k) => k.id), ...bundle.pqopks.map((k) => k.id)];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it(`replenishes only below ${limits.ONE_TIME_PREKEY_REPLENISH_THRESHOLD}, up to ${limits.ONE_TIME_PREKEY_TARGET}`, () => {
    const none = replenishPreKeys(pool, identity, random);
    expect(none.pool).toBe(pool);
    expect(none.publish.opks.length + none.publish.pqopks.length).toBe(0);
    const low = replenishPreKeys(pool, identity, random, { opks: 10, pqopks: 30 });
    expect(low.publish.opks.length).toBe(limits.ONE_TIME_PREKEY_TARGET - 10);
    expect(low.publish.pqopks.length).toBe(0);
    expect(low.pool.data.oneTimePreKeys.length).toBe(30 + 90);
    const fresh = new Set(low.publish.opks.map((k) => k.id));
    expect(pool.data.oneTimePreKeys.some((k) => fresh.has(k.id))).toBe(false);
  });

  it('a top-up is decided once (threshold, then up to the target) and can be made in steps of exact size', () => {
    expect(oneTimePreKeysNeeded({ opks: limits.ONE_TIME_PREKEY_REPLENISH_THRESHOLD, pqopks: 0 })).toEqual({ opks: 0, pqopks: limits.ONE_TIME_PREKEY_TARGET });
    expect(oneTimePreKeysNeeded({ opks: -3, pqopks: 10 })).toEqual({ opks: limits.ONE_TIME_PREKEY_TARGET, pqopks: limits.ONE_TIME_PREKEY_TARGET - 10 });
    const r = seededRandom(52);
    const small = createPreKeyPool(identity, r, 3);
    const first = addOneTimePreKeys(small, identity, r, { opks: 4, pqopks: 2 });
    const second = addOneTimePreKeys(first.pool, identity, r, { opks: 0, pqopks: 5 });
    expect([first.publish.opks.length, first.publish.pqopks.length, second.publish.opks.length, second.publish.pqopks.length]).toEqual([4, 2, 0, 5]);
    expect(second.pool.data.oneTimePreKeys).toHaveLength(3 + 4);
    expect(second.pool.data.pqOneTimePreKeys).toHaveLength(3 + 2 + 5);
    // Every id is new, and the bundle of the grown pool verifies (each PQ key is signed by the identity).
    const bundle = buildPublishedBundle(identity, second.pool);
    const ids = [bundle.spk.id, bundle.pqspk.id, ...bundle.opks.map((k) => k.id), ...bundle.pqopks.map((k) => k.id)];
    expect(new Set(ids).size).toBe(ids.length);
    expect(verifyPublishedBundle(bundle)).toBe(true);
    expect(addOneTimePreKeys(second.pool, identity, r, { opks: 0, pqopks: 0 }).pool).toBe(second.pool);
  });

  it('rotation keeps the previous SPK: an initial message built on the old bundle still opens', async () => {
    const r = seededRandom(51);
    const alice = generateIdentity(r);
    const bobId = generateIdentity(r);
    const bob = { identity: bobId, pool: createPreKeyPool(bobId, r, 2) };
    const oldBundle = await verifyFetchedBundle(fetchedBundle(bob, { opk: false, pqOneTime: false }));
    const rotated = rotateSignedPreKeys(bob.pool, bob.identity, r);
    expect(rotated.publish.spk.id).not.toBe(oldBundle.spk.id);
    expect(rotated.pool.data.previousSignedPreKey?.id).toBe(oldBundle.spk.id);
    const init = await initiateSession(alice, oldBundle, r);
    const m = await encrypt(init.state, utf8('late'), r);
    const accepted = await acceptSessionFromPool(bob.identity, rotated.pool, m.message);
    expect(fromUtf8(accepted.plaintext)).toBe('late');
    // A second rotation forgets it.
    const twice = rotateSignedPreKeys(rotated.pool, bob.identity, r);
    await expect(acceptSessionFromPool(bob.identity, twice.pool, m.message)).rejects.toThrow(/unknown spk prekey/);
  });

  it('rotation publishes the new signed keys only: no one-time key goes back to the relay', () => {
    const r = seededRandom(52);
    const id = generateIdentity(r);
    const before = createPreKeyPool(id, r, 5);
    const { pool: after, publish } = rotateSignedPreKeys(before, id, r);
    expect(publish.opks).toEqual([]);
    expect(publish.pqopks).toEqual([]);
    expect(toHex(publish.ik)).toBe(toHex(id.publicKey));
    expect(publish.spk.id).toBe(after.data.signedPreKey.id);
    expect(publish.pqspk.id).toBe(after.data.lastResortPqPreKey.id);
    expect(verifyPublishedBundle(publish)).toBe(true);
    // One-time keys are untouched, ids never reused.
    expect(after.data.oneTimePreKeys.map((k) => k.id)).toEqual(before.data.oneTimePreKeys.map((k) => k.id));
    const ids = [publish.spk.id, publish.pqspk.id, ...before.data.oneTimePreKeys.map((k) => k.id), ...before.data.pqOneTimePreKeys.map((k) => k.id)];
    expect(new Set(ids).size).toBe(ids.length);
    // A retried upload is the same bytes.
    expect(buildSignedPreKeyBundle(id, after)).toEqual(publish);
    // The rotated pool survives serialisation with both generations.
    const back = deserializePreKeyPool(serializePreKeyPool(after));
    expect(back.data.previousSignedPreKey?.id).toBe(before.data.signedPreKey.id);
    expect(back.data.previousLastResortPqPreKey?.id).toBe(before.data.lastResortPqPreKey.id);
  });

  it(`signedPreKeyRotationDue: every ${limits.SIGNED_PREKEY_ROTATION_INTERVAL_MS / 86_400_000} days, when unknown, and after a clock that ran far ahead`, () => {
    const day = 86_400_000;
    const t = 1_800_000_000_000;
    expect(signedPreKeyRotationDue(undefined, t)).toBe(true);
    expect(signedPreKeyRotationDue(t, t)).toBe(false);
    expect(signedPreKeyRotationDue(t - limits.SIGNED_PREKEY_ROTATION_INTERVAL_MS + 1, t)).toBe(false);
    expect(signedPreKeyRotationDue(t - limits.SIGNED_PREKEY_ROTATION_INTERVAL_MS, t)).toBe(true);
    expect(signedPreKeyRotationDue(t + day, t)).toBe(false); // a small clock step back
    expect(signedPreKeyRotationDue(t + limits.SIGNED_PREKEY_ROTATION_INTERVAL_MS + 1, t)).toBe(true);
    expect(signedPreKeyRotationDue(Number.NaN, t)).toBe(true);
  });

  it('serialises losslessly and refuses garbage', async () => {
    const bytes = serializePreKeyPool(pool);
    const back = deserializePreKeyPool(bytes);
    expect(toHex(serializePreKeyPool(back))).toBe(toHex(bytes));
    expect((await back.data.pqOneTimePreKeys[3]!.keyPair.decapsulate(new Uint8Array(1088))).length).toBe(32);
    expect(() => deserializePreKeyPool(bytes.subarray(0, 100))).toThrow(CorruptStateError);
    expect(() => deserializePreKeyPool(new Uint8Array([7]))).toThrow(MalformedStateError);
  });
});
