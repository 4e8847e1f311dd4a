/** Petrel's crypto core with an in-memory store of serialised session and prekey-pool bytes. */
import { secureRandom } from '../../src/core/random.ts';
import {
  acceptSessionFromPool,
  buildPublishedBundle,
  createPreKeyPool,
  decrypt,
  deserializePreKeyPool,
  deserializeSession,
  encrypt,
  generateIdentity,
  initiateSession,
  messageType,
  serializePreKeyPool,
  serializeSession,
  verifyFetchedBundle,
  CryptoRuntime,
  type Identity,
} from '../../src/core/crypto/index.ts';
import type { Pair, SentMessage, Side, Subject } from './subject.ts';

/** Each side's crypto runtime, as each device's running core has one (native key generation: secure randomness). */
export function benchRuntime(): CryptoRuntime {
  return new CryptoRuntime(secureRandom, { nativeKeyGeneration: true });
}

class PetrelPair implements Pair {
  private readonly sessions = new Map<Side, Uint8Array>();
  private readonly runtimes = new Map<Side, CryptoRuntime>([
    ['alice', benchRuntime()],
    ['bob', benchRuntime()],
  ]);
  private poolBytes: Uint8Array;

  constructor(
    private readonly alice: Identity,
    private readonly bob: Identity,
  ) {
    this.poolBytes = serializePreKeyPool(createPreKeyPool(bob, secureRandom, 1));
  }

  async setup(): Promise<void> {
    const pool = deserializePreKeyPool(this.poolBytes);
    const pub = buildPublishedBundle(this.bob, pool);
    const fetched = { ik: pub.ik, spk: pub.spk, pq: { ...pub.pqopks[0]!, lastResort: false }, opk: pub.opks[0]! };
    const { state } = await initiateSession(this.alice, await verifyFetchedBundle(fetched), this.runtimes.get('alice')!);
    this.sessions.set('alice', serializeSession(state));
    const first = await this.send('alice', new Uint8Array(16));
    const accepted = await acceptSessionFromPool(this.bob, deserializePreKeyPool(this.poolBytes), first.bytes, { random: this.runtimes.get('bob')! });
    this.sessions.set('bob', serializeSession(accepted.state));
    this.poolBytes = serializePreKeyPool(accepted.pool);
  }

  async send(from: Side, plaintext: Uint8Array): Promise<SentMessage> {
    const out = await encrypt(deserializeSession(this.sessions.get(from)!), plaintext, this.runtimes.get(from)!);
    this.sessions.set(from, serializeSession(out.state));
    return { kind: messageType(out.message) === 'prekey' ? 'prekey' : 'normal', bytes: out.message };
  }

  async receive(to: Side, message: SentMessage): Promise<Uint8Array> {
    const out = await decrypt(deserializeSession(this.sessions.get(to)!), message.bytes, this.runtimes.get(to)!);
    this.sessions.set(to, serializeSession(out.state));
    return out.plaintext;
  }
}

export const petrel: Subject = {
  name: 'petrel',
  async createPair() {
    return new PetrelPair(generateIdentity(secureRandom), generateIdentity(secureRandom));
  },
};
