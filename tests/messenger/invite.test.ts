import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { concatBytes, toBase64Url, utf8 } from '../../src/core/bytes.ts';
import { generateIdentity } from '../../src/core/crypto/index.ts';
import { decodeInvite, encodeInvite, InvalidInvite, inviteUrl, parseInviteUrl, readInviteUrl } from '../../src/core/messenger/invite.ts';
import { seededRandom } from '../../src/core/random.ts';

const ik = generateIdentity(seededRandom(1)).publicKey;
const alice = { identityKey: ik, displayName: 'Alice 🐦', relay: 'wss://petrel.example/ws' };

/** A version-1 link as earlier builds wrote them (no length of the relay, no check). */
function v1(invite: typeof alice): Uint8Array {
  const name = utf8(invite.displayName);
  return concatBytes(Uint8Array.of(1), invite.identityKey, Uint8Array.of(name.length), name, utf8(invite.relay));
}

describe('invite links', () => {
  it('round-trips through a URL fragment', () => {
    const url = inviteUrl('https://petrel.example/', alice);
    expect(url.startsWith('https://petrel.example/#invite=')).toBe(true);
    expect(parseInviteUrl(url)).toEqual(alice);
    expect(readInviteUrl(url)).toEqual({ kind: 'invite', invite: alice });
  });

  it('round-trips any valid invite', () => {
    // Valid means 1..64 bytes of UTF-8 (20 graphemes can be more: some are 4+ bytes each).
    const name = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((n) => new TextEncoder().encode(n).length <= 64);
    fc.assert(
      fc.property(fc.integer(), name, (seed, displayName) => {
        const inv = { identityKey: generateIdentity(seededRandom(seed)).publicKey, displayName, relay: 'ws://127.0.0.1:8787/ws' };
        expect(decodeInvite(encodeInvite(inv))).toEqual(inv);
      }),
      { numRuns: 50 },
    );
  });

  it('a link cut short anywhere, or with any one character changed, is damaged, never another valid invite', () => {
    const url = inviteUrl('https://petrel.example/', alice);
    const start = url.indexOf('=') + 1;
    for (let end = start; end < url.length; end++) expect(readInviteUrl(url.slice(0, end)).kind).toBe('invalid');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = start; i < url.length; i++) {
      const other = alphabet[(alphabet.indexOf(url[i]!) + 17) % 64]!;
      const changed = url.slice(0, i) + other + url.slice(i + 1);
      expect(readInviteUrl(changed).kind, `position ${i}`).toBe('invalid');
    }
  });

  it('reads version-1 links, but not one cut inside its relay URL (the "different relay 0.0.0.12" case)', () => {
    const whole = `https://petrel.example/#invite=${toBase64Url(v1({ ...alice, relay: 'ws://10.0.0.12:8787/ws' }))}`;
    expect(parseInviteUrl(whole)).toEqual({ ...alice, relay: 'ws://10.0.0.12:8787/ws' });
    for (const relay of ['ws://10.0.0.12:8787/w', 'ws://10.0.0.12:8787', 'ws://10.0.0.12', 'ws://0.0.0.12']) {
      const cut = `https://petrel.example/#invite=${toBase64Url(v1({ ...alice, relay }))}`;
      expect(readInviteUrl(cut)).toMatchObject({ kind: 'invalid', problem: 'invite link is incomplete' });
    }
  });

  it('says what is wrong with a garbage or unusable invite, and ignores URLs without one', () => {
    expect(readInviteUrl('https://petrel.example/')).toEqual({ kind: 'none' });
    expect(readInviteUrl('https://petrel.example/#other=1')).toEqual({ kind: 'none' });
    expect(readInviteUrl('https://petrel.example/#invite=!!!').kind).toBe('invalid');
    expect(readInviteUrl('https://petrel.example/#invite=').kind).toBe('invalid');
    expect(readInviteUrl('https://petrel.example/#invite=hello-world').kind).toBe('invalid');
    // A small-order "identity" (here the neutral point) can be nobody's key.
    const weak = new Uint8Array(32);
    weak[0] = 1;
    expect(() => decodeInvite(encodeInvite({ ...alice, identityKey: weak }))).toThrow(/not a usable key/);
    const bytes = encodeInvite(alice);
    const wrongVersion = bytes.slice();
    wrongVersion[0] = 3;
    expect(() => decodeInvite(wrongVersion)).toThrow(/version/);
    expect(() => decodeInvite(bytes.subarray(0, 30))).toThrow(InvalidInvite);
    expect(() => encodeInvite({ ...alice, relay: 'http://x' })).toThrow(/relay/);
    expect(() => encodeInvite({ ...alice, displayName: '' })).toThrow(/display name/);
  });

  it('never throws anything but InvalidInvite on random bytes', () => {
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
