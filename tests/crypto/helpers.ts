/** Shared fixtures for the crypto tests: two parties with pools and a started session. */
import { seededRandom, type Random } from '../../src/core/random.ts';
import {
  acceptSessionFromPool,
  buildPublishedBundle,
  createPreKeyPool,
  generateIdentity,
  initiateSession,
  encrypt,
  verifyFetchedBundle,
  type FetchedBundle,
  type Identity,
  type PreKeyPool,
  type SessionState,
} from '../../src/core/crypto/index.ts';
import { utf8 } from '../../src/core/bytes.ts';

export interface Party {
  identity: Identity;
  pool: PreKeyPool;
}

export function party(random: Random, oneTime = 3): Party {
  const identity = generateIdentity(random);
  return { identity, pool: createPreKeyPool(identity, random, oneTime) };
}

/** What a relay would hand out: first one-time keys of each kind (or none). */
export function fetchedBundle(p: Party, opts: { opk?: boolean; pqOneTime?: boolean } = {}): FetchedBundle {
  const pub = buildPublishedBundle(p.identity, p.pool);
  const pqo = pub.pqopks[0];
  const pq = opts.pqOneTime !== false && pqo ? { ...pqo, lastResort: false } : { ...pub.pqspk, lastResort: true };
  const opk = opts.opk !== false ? pub.opks[0] : undefined;
  return { ik: pub.ik, spk: pub.spk, pq, ...(opk ? { opk } : {}) };
}

/** Alice initiates, sends one message, Bob accepts it: both hold a session. */
export async function establish(seed = 1, opts: { opk?: boolean; pqOneTime?: boolean } = {}): Promise<{
  alice: Party;
  bob: Party;
  a: SessionState;
  b: SessionState;
  random: Random;
}> {
  const random = seededRandom(seed);
  const alice = party(random);
  const bob = party(random);
  const bundle = await verifyFetchedBundle(fetchedBundle(bob, opts));
  const init = await initiateSession(alice.identity, bundle, random);
  const first = await encrypt(init.state, utf8('hello'), random);
  const accepted = await acceptSessionFromPool(bob.identity, bob.pool, first.message);
  bob.pool = accepted.pool;
  return { alice, bob, a: first.state, b: accepted.state, random };
}
