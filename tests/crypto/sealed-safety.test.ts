/** Sealed sender (no sender identity in the clear) and safety numbers. */
import { describe, expect, it } from 'vitest';
import { fromUtf8, toHex, utf8 } from '../../src/core/bytes.ts';
import { seededRandom } from '../../src/core/random.ts';
import {
  MalformedSafetyNumberError,
  SEALED_SENDER_OVERHEAD_BYTES,
  SealedSenderError,
  compareScannedSafetyNumber,
  generateIdentity,
  safetyNumber,
  safetyNumberQrPayload,
  sealedSender,
  acceptSessionFromPool,
  encrypt,
  WrongIdentityError,
} from '../../src/core/crypto/index.ts';
import { establish, party } from './helpers.ts';

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return toHex(hay).includes(toHex(needle));
}

describe('sealed sender', () => {
  const r = seededRandom(70);
  const alice = generateIdentity(r);
  const bob = generateIdentity(r);
  const eve = generateIdentity(r);

  it('round-trips and carries no sender identity (Ed25519 or X25519 form) in the clear', async () => {
    const inner = utf8('inner petrel message');
    const box = await sealedSender.seal(alice, bob.publicKey, inner, r);
    expect(box.length).toBe(inner.length + SEALED_SENDER_OVERHEAD_BYTES);
    expect(contains(box, alice.publicKey)).toBe(false);
    expect(contains(box, alice.x25519PublicKey)).toBe(false);
    expect(contains(box, inner)).toBe(false);
    const opened = await sealedSender.unseal(bob, box);
    expect(toHex(opened.senderIdentityPublic)).toBe(toHex(alice.publicKey));
    expect(fromUtf8(opened.inner)).toBe('inner petrel message');
  });

  it('two seals of the same message differ (fresh ephemeral key)', async () => {
    const a = await sealedSender.seal(alice, bob.publicKey, utf8('x'), r);
    const b = await sealedSender.seal(alice, bob.publicKey, utf8('x'), r);
    expect(toHex(a)).not.toBe(toHex(b));
  });

  it('refuses the wrong recipient, any altered byte, and junk with SealedSenderError', async () => {
    const box = await sealedSender.seal(alice, bob.publicKey, utf8('hello'), r);
    await expect(sealedSender.unseal(eve, box)).rejects.toBeInstanceOf(SealedSenderError);
    for (const i of [0, 1, 20, 40, box.length - 1]) {
      const bad = box.slice();
      bad[i]! ^= 0x04;
      await expect(sealedSender.unseal(bob, bad)).rejects.toBeInstanceOf(SealedSenderError);
    }
    await expect(sealedSender.unseal(bob, new Uint8Array(10))).rejects.toBeInstanceOf(SealedSenderError);
    const lowOrder = box.slice();
    lowOrder.fill(0, 1, 33);
    await expect(sealedSender.unseal(bob, lowOrder)).rejects.toBeInstanceOf(SealedSenderError);
  });
});

describe('sealed sender version 2 (a device of a multi-device account)', () => {
  const r = seededRandom(71);
  const alice = generateIdentity(r);
  const bob = generateIdentity(r);
  const device = r.bytes(16);

  it('carries the sending device inside the box, never in the clear; version 1 boxes carry none', async () => {
    const inner = utf8('from a laptop');
    const box = await sealedSender.seal(alice, bob.publicKey, inner, r, device);
    expect(box[0]).toBe(0x02);
    expect(box.length).toBe(inner.length + SEALED_SENDER_OVERHEAD_BYTES + 16);
    expect(contains(box, device)).toBe(false);
    const opened = await sealedSender.unseal(bob, box);
    expect(toHex(opened.senderIdentityPublic)).toBe(toHex(alice.publicKey));
    expect(toHex(opened.senderDevice!)).toBe(toHex(device));
    expect(fromUtf8(opened.inner)).toBe('from a laptop');
    const v1 = await sealedSender.unseal(bob, await sealedSender.seal(alice, bob.publicKey, inner, r));
    expect(v1.senderDevice).toBeUndefined();
  });

  it('a version byte switched between 1 and 2, an altered byte or a device id of another length is refused', async () => {
    const box = await sealedSender.seal(alice, bob.publicKey, utf8('x'), r, device);
    for (const version of [0x01, 0x03]) {
      const bad = box.slice();
      bad[0] = version;
      await expect(sealedSender.unseal(bob, bad)).rejects.toBeInstanceOf(SealedSenderError);
    }
    const flipped = box.slice();
    flipped[40]! ^= 0x01;
    await expect(sealedSender.unseal(bob, flipped)).rejects.toBeInstanceOf(SealedSenderError);
    await expect(sealedSender.seal(alice, bob.publicKey, utf8('x'), r, new Uint8Array(15))).rejects.toBeInstanceOf(SealedSenderError);
  });
});

describe('sealed sender carrying session messages', () => {
  it('the unsealed identity must match the inner message: a box naming someone else is refused', async () => {
    const { alice, bob, a, random } = await establish(90);
    const eve = party(random);
    const m = await encrypt(a, utf8('from alice'), random);
    // Honest: Bob unseals, learns Alice, and the prekey message agrees.
    const box = await sealedSender.seal(alice.identity, bob.identity.publicKey, m.message, random);
    const opened = await sealedSender.unseal(bob.identity, box);
    expect(toHex(opened.senderIdentityPublic)).toBe(toHex(alice.identity.publicKey));
    // Forged: Eve seals Alice's message under her own name; the initial message names Alice.
    const forged = await sealedSender.seal(eve.identity, bob.identity.publicKey, m.message, random);
    const o2 = await sealedSender.unseal(bob.identity, forged);
    await expect(acceptSessionFromPool(bob.identity, bob.pool, o2.inner, { expectedSender: o2.senderIdentityPublic })).rejects.toBeInstanceOf(WrongIdentityError);
  });
});

describe('safety numbers', () => {
  const r = seededRandom(80);
  const alice = generateIdentity(r).publicKey;
  const bob = generateIdentity(r).publicKey;
  const mallory = generateIdentity(r).publicKey;

  it('are 60 digits, identical on both sides, and change with either key', () => {
    const ab = safetyNumber(alice, bob);
    expect(ab).toMatch(/^\d{60}$/);
    expect(safetyNumber(bob, alice)).toBe(ab);
    expect(safetyNumber(alice, mallory)).not.toBe(ab);
    expect(safetyNumber(alice, bob, { ourStableId: utf8('a'), theirStableId: utf8('b') })).toBe(
      safetyNumber(bob, alice, { ourStableId: utf8('b'), theirStableId: utf8('a') }),
    );
  });

  it('QR payloads: the other side scanning ours matches; a swapped key does not; junk is refused', () => {
    const fromBob = safetyNumberQrPayload(bob, alice);
    expect(compareScannedSafetyNumber(alice, bob, fromBob)).toBe('match');
    expect(compareScannedSafetyNumber(alice, mallory, fromBob)).toBe('mismatch');
    expect(compareScannedSafetyNumber(alice, bob, safetyNumberQrPayload(mallory, alice))).toBe('mismatch');
    expect(() => compareScannedSafetyNumber(alice, bob, new Uint8Array(3))).toThrow(MalformedSafetyNumberError);
  });
});
