import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeInvite, encodeInvite, InvalidInvite, inviteUrl, parseInviteUrl } from '../../src/core/messenger/invite.ts';

const ik = new Uint8Array(32).map((_, i) => i);
const alice = { identityKey: ik, displayName: 'Alice 🐦', relay: 'wss://petrel.example/ws' };

describe('invite links', () => {
  it('round-trips through a URL fragment', () => {
    const url = inviteUrl('https://petrel.example/', alice);
    expect(url.startsWith('https://petrel.example/#invite=')).toBe(true);
    expect(parseInviteUrl(url)).toEqual(alice);
  });

  it('round-trips any valid invite', () => {
    // Valid means 1..64 bytes of UTF-8 (20 graphemes can be more: some are 4+ bytes each).
    const name = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((n) => new TextEncoder().encode(n).length <= 64);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), name, (key, displayName) => {
        const inv = { identityKey: key, displayName, relay: 'ws://127.0.0.1:8787/ws' };
        expect(decodeInvite(encodeInvite(inv))).toEqual(inv);
      }),
    );
  });

  it('ignores URLs without an invite and refuses malformed ones', () => {
    expect(parseInviteUrl('https://petrel.example/')).toBeUndefined();
    expect(parseInviteUrl('https://petrel.example/#other=1')).toBeUndefined();
    expect(parseInviteUrl('https://petrel.example/#invite=!!!')).toBeUndefined();
    const bytes = encodeInvite(alice);
    const wrongVersion = bytes.slice();
    wrongVersion[0] = 2;
    expect(() => decodeInvite(wrongVersion)).toThrow(/version/);
    expect(() => decodeInvite(bytes.subarray(0, 30))).toThrow(InvalidInvite);
    const badLen = bytes.slice();
    badLen[33] = 200;
    expect(() => decodeInvite(badLen)).toThrow(InvalidInvite);
    expect(() => encodeInvite({ ...alice, relay: 'http://x' })).toThrow(/relay/);
    expect(() => encodeInvite({ ...alice, displayName: '' })).toThrow(/display name/);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        try {
          decodeInvite(b);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInvite);
        }
      }),
    );
  });
});
