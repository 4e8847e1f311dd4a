/** The link protocol's state machine (src/core/devices/link-offer.ts): 10-minute expiry, single use, tamper and foreign links refused, typed. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.ts';
import {
  LINK_PREFIX,
  LINK_TTL_MS,
  acceptLinkRequest,
  buildLinkRequest,
  createLinkOffer,
  formatLink,
  parseLink,
  type LinkRequest,
} from '../../src/core/devices/link-offer.ts';
import { ForeignLinkError, LinkError, LinkExpiredError, LinkTamperedError, LinkUsedError, MalformedLinkError } from '../../src/core/devices/link-errors.ts';
import { device } from './fixtures.ts';

const T0 = 1_700_000_000_000;

function refusal(fn: () => unknown): LinkError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LinkError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

function setup(seed = 1) {
  const offer = createLinkOffer(seededRandom(seed), T0);
  const text = formatLink(offer);
  const parsed = parseLink(text, T0 + 1000);
  const request = buildLinkRequest(parsed, device(7));
  return { offer, text, parsed, request };
}

describe('device link', () => {
  it('links one device: the request verifies once, before expiry, and names the new device', () => {
    const { offer, text, parsed, request } = setup();
    expect(text.startsWith(LINK_PREFIX)).toBe(true);
    expect(parsed.expiresAt).toBe(T0 + LINK_TTL_MS);
    expect(parsed.keys.channel).toEqual(offer.channel);
    const used = acceptLinkRequest(offer, request, T0 + LINK_TTL_MS - 1);
    expect(used.status).toBe('used');
    expect(used.device).toEqual(device(7));
  });

  it('does not print the secret', () => {
    const { offer, parsed } = setup();
    expect(JSON.stringify(offer)).not.toContain(Buffer.from(offer.secret.expose()).toString('hex'));
    expect(String(parsed.secret)).toBe('[SecretBytes (redacted)]');
  });

  it('is usable once: a second request, even a valid one, is LinkUsedError', () => {
    const { offer, request, parsed } = setup();
    const used = acceptLinkRequest(offer, request, T0 + 5);
    expect(refusal(() => acceptLinkRequest(used, request, T0 + 6))).toBeInstanceOf(LinkUsedError);
    expect(refusal(() => acceptLinkRequest(used, buildLinkRequest(parsed, device(8)), T0 + 6))).toBeInstanceOf(LinkUsedError);
  });

  it('expires after 10 minutes, on both sides', () => {
    const { offer, text, request } = setup();
    expect(refusal(() => parseLink(text, T0 + LINK_TTL_MS))).toBeInstanceOf(LinkExpiredError);
    expect(refusal(() => acceptLinkRequest(offer, request, T0 + LINK_TTL_MS))).toBeInstanceOf(LinkExpiredError);
    // The refusal changed nothing: the offer is still 'offered' and accepts in time.
    expect(offer.status).toBe('offered');
    expect(acceptLinkRequest(offer, request, T0 + 1).status).toBe('used');
  });

  it('refuses a request for another link: ForeignLinkError', () => {
    const { offer } = setup(1);
    const other = setup(2);
    expect(refusal(() => acceptLinkRequest(offer, other.request, T0 + 1))).toBeInstanceOf(ForeignLinkError);
  });

  it('refuses any change to the request: LinkTamperedError (property)', () => {
    const { offer, request } = setup();
    fc.assert(
      fc.property(fc.constantFrom('id', 'key', 'mac') as fc.Arbitrary<'id' | 'key' | 'mac'>, fc.nat(), fc.integer({ min: 0, max: 7 }), (field, at, bit) => {
        const bytes = (field === 'mac' ? request.mac : request.device[field]).slice();
        bytes[at % bytes.length]! ^= 1 << bit;
        const tampered: LinkRequest = field === 'mac' ? { ...request, mac: bytes } : { ...request, device: { ...request.device, [field]: bytes } };
        expect(refusal(() => acceptLinkRequest(offer, tampered, T0 + 1))).toBeInstanceOf(LinkTamperedError);
      }),
      { numRuns: 150 },
    );
    expect(refusal(() => acceptLinkRequest(offer, { ...request, mac: request.mac.subarray(1) }, T0 + 1))).toBeInstanceOf(LinkTamperedError);
  });

  it('refuses a request MACed with a guessed secret: LinkTamperedError', () => {
    const { offer } = setup();
    const forged = parseLink(formatLink({ ...createLinkOffer(seededRandom(99), T0), channel: offer.channel }), T0 + 1);
    const request = { ...buildLinkRequest(forged, device(9)), channel: offer.channel };
    expect(refusal(() => acceptLinkRequest(offer, request, T0 + 1))).toBeInstanceOf(LinkTamperedError);
  });

  it('refuses malformed link texts: MalformedLinkError, and only LinkErrors for any text (property)', () => {
    const { text } = setup();
    for (const bad of ['', 'https://example.org', LINK_PREFIX, `${LINK_PREFIX}!!!!`, text.slice(0, -2), `${text}AA`, LINK_PREFIX + 'A'.repeat(55)]) {
      expect(refusal(() => parseLink(bad, T0))).toBeInstanceOf(MalformedLinkError);
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          parseLink(s, T0);
        } catch (err) {
          expect(err).toBeInstanceOf(LinkError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
