/**
 * Comparing safety numbers by scanning: the QR text one side shows (safety-qr-text.ts)
 * scans into `compareSafetyNumber` on the other side as a match; anything else is a
 * mismatch or a typed, counted error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSafetyQrText, safetyQrText } from '../../src/core/messenger/safety-qr-text.ts';
import { device, introduce, onboard, testWorld } from './harness.ts';

const { relay, track } = testWorld();

describe('safety-number QR text', () => {
  it('round-trips any payload, and shows the digits in words', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), fc.stringMatching(/^[0-9]{60}$/), (qr, digits) => {
        const text = safetyQrText({ digits, qr });
        expect(text.startsWith(`Petrel safety number: ${digits.slice(0, 5)} ${digits.slice(5, 10)} `)).toBe(true);
        expect(parseSafetyQrText(text)).toEqual(qr);
      }),
    );
  });

  it('is undefined for text that is not one', () => {
    expect(parseSafetyQrText('https://example.org/#invite=abc')).toBeUndefined();
    expect(parseSafetyQrText('petrel-sn:***')).toBeUndefined();
  });
});

describe('compareSafetyNumber', () => {
  it("the other side's code matches; one's own code, another pair's or garbage does not", async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const bob = track(device(r.url));
    const carol = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    await onboard(carol, 'Carol');
    const { aSeesB, bSeesA } = await introduce(alice, bob);
    const { aSeesB: cSeesA } = await introduce(carol, alice);

    const shownByAlice = parseSafetyQrText(safetyQrText(await alice.messenger.safetyNumber(aSeesB)))!;
    expect(await bob.messenger.compareSafetyNumber(bSeesA, shownByAlice)).toBe('match');
    // Alice's own code, scanned on her side, names the pair the other way round.
    expect(await alice.messenger.compareSafetyNumber(aSeesB, shownByAlice)).toBe('mismatch');
    // Carol's code for Alice is not Bob's.
    const shownByCarol = (await carol.messenger.safetyNumber(cSeesA)).qr;
    expect(await bob.messenger.compareSafetyNumber(bSeesA, shownByCarol)).toBe('mismatch');
    await expect(bob.messenger.compareSafetyNumber(bSeesA, new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ kind: 'malformed_safety_number' });
    await expect(bob.messenger.compareSafetyNumber('ee'.repeat(32), shownByAlice)).rejects.toMatchObject({ kind: 'unknown_contact' });
    expect(bob.metrics.counter('verify.scan_match')).toBe(1);
    expect(bob.metrics.counter('verify.scan_mismatch')).toBe(1);
    expect(bob.metrics.counter('verify.scan_malformed')).toBe(1);
  });
});
