/**
 * Property tests (fast-check): any interleaving of sends, drops, duplicates and reorders
 * (within MAX_SKIP) decrypts exactly the delivered messages, each once, with the right
 * plaintext; every refused delivery leaves the state byte-identical; state survives a
 * serialise/deserialise round trip after every step; both sides can still talk at the
 * end. Plus: parsers and deserialisers never throw anything but their typed error.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromUtf8, toHex, utf8 } from '../../src/core/bytes.ts';
import {
  CryptoError,
  DuplicateMessageError,
  MalformedMessageError,
  MalformedStateError,
  CorruptStateError,
  decrypt,
  deserializeSession,
  encrypt,
  parseMessage,
  serializeSession,
  type SessionState,
} from '../../src/core/crypto/index.ts';
import { seededRandom } from '../../src/core/random.ts';
import { establish } from './helpers.ts';

type Side = 'alice' | 'bob';
type Command = { kind: 'send'; from: Side } | { kind: 'deliver'; to: Side; pick: number } | { kind: 'duplicate'; to: Side; pick: number } | { kind: 'drop'; to: Side; pick: number };

const side = fc.constantFrom<Side>('alice', 'bob');
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: side.map((from) => ({ kind: 'send' as const, from })) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), to: side, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), to: side, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), to: side, pick: fc.nat() }) },
);

const setup = establish(41);

function roundTrip(s: SessionState): SessionState {
  const bytes = serializeSession(s);
  const back = deserializeSession(bytes);
  expect(toHex(serializeSession(back))).toBe(toHex(bytes));
  return back;
}

describe('Double Ratchet under an adversarial network', () => {
  it('delivers exactly the delivered messages once, refuses replays without state change, and both sides continue', async () => {
    const { a, b } = await setup;
    const totals = { delivered: 0, replays: 0, turns: 0, forgottenChainReplays: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 20, maxLength: 80, size: 'max' }), fc.integer(), async (commands, seed) => {
        const random = seededRandom(seed);
        const state: Record<Side, SessionState> = { alice: a, bob: b };
        // In flight towards each side: not yet delivered.
        const inflight: Record<Side, Array<{ id: number; message: Uint8Array }>> = { alice: [], bob: [] };
        const delivered: Record<Side, Array<{ id: number; message: Uint8Array }>> = { alice: [], bob: [] };
        let nextId = 0;
        const got: number[] = [];
        for (const c of commands) {
          if (c.kind === 'send') {
            const to: Side = c.from === 'alice' ? 'bob' : 'alice';
            if (state[c.from].data.sendingChain?.n === 0) totals.turns++; // first message of a new chain
            const id = nextId++;
            const out = await encrypt(state[c.from], utf8(`msg ${id}`), random);
            state[c.from] = roundTrip(out.state);
            inflight[to].push({ id, message: out.message });
          } else if (c.kind === 'deliver' && inflight[c.to].length > 0) {
            const [m] = inflight[c.to].splice(c.pick % inflight[c.to].length, 1);
            const out = await decrypt(state[c.to], m!.message);
            expect(fromUtf8(out.plaintext)).toBe(`msg ${m!.id}`);
            state[c.to] = roundTrip(out.state);
            delivered[c.to].push(m!);
            got.push(m!.id);
            totals.delivered++;
          } else if (c.kind === 'duplicate' && delivered[c.to].length > 0) {
            const m = delivered[c.to][c.pick % delivered[c.to].length]!;
            const before = serializeSession(state[c.to]);
            const err = await decrypt(state[c.to], m.message).then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(err).toBeInstanceOf(CryptoError);
            // Within the remembered chains (current + MAX_FINISHED_RECEIVING_CHAINS) a replay is
            // recognised as such; older ones are still refused, as tampering.
            const dh = toHex(parseMessage(m.message).header.subarray(0, 32));
            const d = state[c.to].data;
            const remembered = [d.remoteRatchetKey, ...d.finishedChains.list().map((f) => f.dh)].filter((k) => k !== undefined).map((k) => toHex(k));
            if (remembered.includes(dh)) expect(err).toBeInstanceOf(DuplicateMessageError);
            else totals.forgottenChainReplays++;
            expect(toHex(serializeSession(state[c.to]))).toBe(toHex(before));
            totals.replays++;
          } else if (c.kind === 'drop' && inflight[c.to].length > 0) {
            inflight[c.to].splice(c.pick % inflight[c.to].length, 1);
          }
        }
        expect(new Set(got).size).toBe(got.length);
        // Both sides can still talk, in both orders of speaking.
        for (const [from, to] of [
          ['alice', 'bob'],
          ['bob', 'alice'],
          ['bob', 'alice'],
          ['alice', 'bob'],
        ] as Array<[Side, Side]>) {
          const out = await encrypt(state[from], utf8('still here'), random);
          state[from] = out.state;
          const back = await decrypt(state[to], out.message);
          expect(fromUtf8(back.plaintext)).toBe('still here');
          state[to] = back.state;
        }
      }),
      { numRuns: 150 },
    );
    // The generator really exercised the network (not a vacuous pass).
    expect(totals.delivered).toBeGreaterThan(1000);
    expect(totals.replays).toBeGreaterThan(100);
    expect(totals.turns).toBeGreaterThan(300);
  }, 60_000);
});

describe('parsers never throw anything but their typed error', () => {
  it('deserializeSession on random and mutated bytes', async () => {
    const { a } = await setup;
    const valid = serializeSession(a);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat()).map(([i, v, cut]) => {
        const m = valid.slice(0, valid.length - (cut % 3));
        m[i % m.length] = v;
        return m;
      })), (bytes) => {
        try {
          const s = deserializeSession(bytes);
          expect(serializeSession(s).length).toBe(bytes.length);
        } catch (e) {
          expect(e instanceof MalformedStateError || e instanceof CorruptStateError).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('parseMessage on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1400 }), fc.constantFrom(0x11, 0x12, 0x00), (bytes, first) => {
        const m = bytes.length > 0 ? Uint8Array.of(first, ...bytes.subarray(1)) : bytes;
        try {
          const p = parseMessage(m);
          expect(p.ciphertext.length).toBeGreaterThanOrEqual(16);
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedMessageError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
