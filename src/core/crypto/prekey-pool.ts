/**
 * Our private prekeys: the current signed prekeys (SPK and last-resort PQSPK), the
 * previous ones (kept after rotation so late initial messages still open), and the
 * one-time pools (OPK, PQOPK). A pool is an immutable value: every operation returns a
 * new pool plus what to publish, and the caller commits the pool's bytes.
 */
import type { Random } from '../random.ts';
import { ByteReader, ByteWriter } from './binary.ts';
import { MalformedStateError, UnknownPreKeyError } from './errors.ts';
import type { Identity } from './identity.ts';
import {
  KEY_BYTES,
  MAX_LOCAL_ONE_TIME_PREKEYS,
  ML_KEM_768_PUBLIC_KEY_BYTES,
  ML_KEM_768_SEED_BYTES,
  ONE_TIME_PREKEY_REPLENISH_THRESHOLD,
  ONE_TIME_PREKEY_TARGET,
  SIGNATURE_BYTES,
  SIGNED_PREKEY_ROTATION_INTERVAL_MS,
} from './limits.ts';
import {
  MlKemKeyPair,
  X25519KeyPair,
  generateOneTimePreKey,
  generatePqPreKey,
  generateSignedPreKey,
  type OneTimePreKey,
  type PqPreKey,
  type PublicOneTimePreKey,
  type PublishedBundle,
  type SignedPreKey,
  type SignedPublicPreKey,
} from './prekeys.ts';
import { checkedBody, withIntegrity } from './state-integrity.ts';
import { Redacted } from './redacted.ts';

export interface PreKeyPoolData {
  readonly signedPreKey: SignedPreKey;
  readonly previousSignedPreKey?: SignedPreKey;
  readonly lastResortPqPreKey: PqPreKey;
  readonly previousLastResortPqPreKey?: PqPreKey;
  /** Oldest first. */
  readonly oneTimePreKeys: readonly OneTimePreKey[];
  /** Oldest first. */
  readonly pqOneTimePreKeys: readonly PqPreKey[];
  /** Next prekey id (one id space for all kinds, so an id names exactly one key). */
  readonly nextId: number;
}

export class PreKeyPool extends Redacted {
  protected readonly redactedLabel = 'PreKeyPool';
  readonly #data: PreKeyPoolData;

  constructor(data: PreKeyPoolData) {
    super();
    this.#data = data;
  }

  get data(): PreKeyPoolData {
    return this.#data;
  }
}

export interface PreKeysToPublish {
  readonly opks: readonly PublicOneTimePreKey[];
  readonly pqopks: readonly SignedPublicPreKey[];
}

const nextIdAfter = (id: number): number => (id >= 0xfffffffe ? 1 : id + 1);

function takeIds(start: number, n: number): { ids: number[]; next: number } {
  const ids: number[] = [];
  let id = start;
  for (let i = 0; i < n; i++) {
    ids.push(id);
    id = nextIdAfter(id);
  }
  return { ids, next: id };
}

const publicOpk = (k: OneTimePreKey): PublicOneTimePreKey => ({ id: k.id, pub: k.keyPair.publicKey });
const publicPq = (k: PqPreKey | SignedPreKey): SignedPublicPreKey => ({ id: k.id, pub: k.keyPair.publicKey, sig: k.signature });

/** A fresh pool: SPK, PQSPK and ONE_TIME_PREKEY_TARGET one-time keys of each kind. */
export function createPreKeyPool(identity: Identity, random: Random, oneTimeCount = ONE_TIME_PREKEY_TARGET): PreKeyPool {
  const { ids, next } = takeIds(1, 2 + 2 * oneTimeCount);
  const signedPreKey = generateSignedPreKey(identity, ids[0]!, random);
  const lastResortPqPreKey = generatePqPreKey(identity, ids[1]!, random, true);
  const oneTimePreKeys = ids.slice(2, 2 + oneTimeCount).map((id) => generateOneTimePreKey(id, random));
  const pqOneTimePreKeys = ids.slice(2 + oneTimeCount).map((id) => generatePqPreKey(identity, id, random, false));
  return new PreKeyPool({ signedPreKey, lastResortPqPreKey, oneTimePreKeys, pqOneTimePreKeys, nextId: next });
}

/** The full bundle to upload (`prekeys.publish`): current signed keys and every one-time key we hold. */
export function buildPublishedBundle(identity: Identity, pool: PreKeyPool): PublishedBundle {
  const d = pool.data;
  return {
    ik: identity.publicKey,
    spk: publicPq(d.signedPreKey),
    pqspk: publicPq(d.lastResortPqPreKey),
    opks: d.oneTimePreKeys.slice(-ONE_TIME_PREKEY_TARGET).map(publicOpk),
    pqopks: d.pqOneTimePreKeys.slice(-ONE_TIME_PREKEY_TARGET).map(publicPq),
  };
}

export interface OneTimePreKeyCounts {
  readonly opks: number;
  readonly pqopks: number;
}

/**
 * How many one-time keys of each kind a top-up adds: none for a kind while at least
 * ONE_TIME_PREKEY_REPLENISH_THRESHOLD remain (as the relay reports in `prekeys.low`),
 * otherwise enough to reach ONE_TIME_PREKEY_TARGET again.
 */
export function oneTimePreKeysNeeded(remaining: OneTimePreKeyCounts): OneTimePreKeyCounts {
  const need = (left: number) => (left < ONE_TIME_PREKEY_REPLENISH_THRESHOLD ? ONE_TIME_PREKEY_TARGET - Math.max(0, left) : 0);
  return { opks: need(remaining.opks), pqopks: need(remaining.pqopks) };
}

/**
 * Adds exactly `count` fresh one-time keys of each kind (new ids; PQ keys signed).
 * Returns the new pool and the public keys to publish. Local pools keep at most
 * MAX_LOCAL_ONE_TIME_PREKEYS per kind.
 */
export function addOneTimePreKeys(pool: PreKeyPool, identity: Identity, random: Random, count: OneTimePreKeyCounts): { pool: PreKeyPool; publish: PreKeysToPublish } {
  if (count.opks === 0 && count.pqopks === 0) return { pool, publish: { opks: [], pqopks: [] } };
  const d = pool.data;
  const { ids, next } = takeIds(d.nextId, count.opks + count.pqopks);
  const opks = ids.slice(0, count.opks).map((id) => generateOneTimePreKey(id, random));
  const pqopks = ids.slice(count.opks).map((id) => generatePqPreKey(identity, id, random, false));
  const newPool = new PreKeyPool({
    ...d,
    oneTimePreKeys: [...d.oneTimePreKeys, ...opks].slice(-MAX_LOCAL_ONE_TIME_PREKEYS),
    pqOneTimePreKeys: [...d.pqOneTimePreKeys, ...pqopks].slice(-MAX_LOCAL_ONE_TIME_PREKEYS),
    nextId: next,
  });
  return { pool: newPool, publish: { opks: opks.map(publicOpk), pqopks: pqopks.map(publicPq) } };
}

/**
 * Tops up one-time keys in one go (`oneTimePreKeysNeeded`, then `addOneTimePreKeys`);
 * `remaining` defaults to the local counts. Returns the new pool and the keys to publish
 * (empty lists when nothing was needed).
 */
export function replenishPreKeys(
  pool: PreKeyPool,
  identity: Identity,
  random: Random,
  remaining: OneTimePreKeyCounts = { opks: pool.data.oneTimePreKeys.length, pqopks: pool.data.pqOneTimePreKeys.length },
): { pool: PreKeyPool; publish: PreKeysToPublish } {
  return addOneTimePreKeys(pool, identity, random, oneTimePreKeysNeeded(remaining));
}

/**
 * The signed keys alone, as a `prekeys.publish` upload: current SPK and last-resort PQSPK,
 * no one-time keys. What to (re)send after `rotateSignedPreKeys`.
 */
export function buildSignedPreKeyBundle(identity: Identity, pool: PreKeyPool): PublishedBundle {
  const d = pool.data;
  return { ik: identity.publicKey, spk: publicPq(d.signedPreKey), pqspk: publicPq(d.lastResortPqPreKey), opks: [], pqopks: [] };
}

/**
 * Signed prekey rotation (PQXDH §3.2 "Bob will upload a new signed prekey … at some
 * interval"): a new SPK and last-resort PQSPK; the current ones become "previous" (still
 * accepted for initial messages built from the old bundle) and the older previous ones are
 * deleted. So an initial message opens until the second rotation after its bundle was
 * fetched: rotate when `signedPreKeyRotationDue` says so, not more often, and after the
 * mailbox backlog has been read.
 *
 * `publish` is exactly what to upload with `prekeys.publish`: the new signed keys and NO
 * one-time keys. The relay adds uploaded one-time keys to its pools, and the local pool
 * still holds keys the relay has already handed out, so uploading `buildPublishedBundle`
 * here would let the relay hand them out a second time. Commit the returned pool first,
 * then upload; if the upload fails, retry `buildSignedPreKeyBundle(identity, pool)` before
 * rotating again (the relay's SPK is the local "previous" meanwhile, still accepted).
 */
export function rotateSignedPreKeys(pool: PreKeyPool, identity: Identity, random: Random): { pool: PreKeyPool; publish: PublishedBundle } {
  const d = pool.data;
  const { ids, next } = takeIds(d.nextId, 2);
  const newPool = new PreKeyPool({
    ...d,
    signedPreKey: generateSignedPreKey(identity, ids[0]!, random),
    previousSignedPreKey: d.signedPreKey,
    lastResortPqPreKey: generatePqPreKey(identity, ids[1]!, random, true),
    previousLastResortPqPreKey: d.lastResortPqPreKey,
    nextId: next,
  });
  return { pool: newPool, publish: buildSignedPreKeyBundle(identity, newPool) };
}

/**
 * Is a signed prekey rotation due? `lastRotatedAt` is when the current SPK was made (pool
 * creation or the last rotation; undefined if unknown), in the clock's milliseconds. Due
 * after SIGNED_PREKEY_ROTATION_INTERVAL_MS, when unknown, and when the recorded time lies
 * more than an interval in the future (a clock that was wrong when it was recorded).
 */
export function signedPreKeyRotationDue(lastRotatedAt: number | undefined, now: number): boolean {
  if (lastRotatedAt === undefined || !Number.isFinite(lastRotatedAt)) return true;
  const age = now - lastRotatedAt;
  return age >= SIGNED_PREKEY_ROTATION_INTERVAL_MS || age < -SIGNED_PREKEY_ROTATION_INTERVAL_MS;
}

/** The private keys an initial message names (see `parseMessage`), or UnknownPreKeyError. */
export interface PreKeysForMessage {
  readonly signedPreKey: SignedPreKey;
  readonly pqPreKey: PqPreKey;
  readonly oneTimePreKey?: OneTimePreKey;
}

export function findPreKeys(pool: PreKeyPool, ids: { signedPreKeyId: number; pqPreKeyId: number; oneTimePreKeyId?: number }): PreKeysForMessage {
  const d = pool.data;
  const spk = [d.signedPreKey, d.previousSignedPreKey].find((k) => k?.id === ids.signedPreKeyId);
  if (!spk) throw new UnknownPreKeyError('spk', ids.signedPreKeyId);
  const pq = [d.lastResortPqPreKey, d.previousLastResortPqPreKey, ...d.pqOneTimePreKeys].find((k) => k?.id === ids.pqPreKeyId);
  if (!pq) throw new UnknownPreKeyError('pq', ids.pqPreKeyId);
  let opk: OneTimePreKey | undefined;
  if (ids.oneTimePreKeyId !== undefined) {
    opk = d.oneTimePreKeys.find((k) => k.id === ids.oneTimePreKeyId);
    if (!opk) throw new UnknownPreKeyError('opk', ids.oneTimePreKeyId);
  }
  return opk ? { signedPreKey: spk, pqPreKey: pq, oneTimePreKey: opk } : { signedPreKey: spk, pqPreKey: pq };
}

/** The pool without the given one-time keys (PQXDH §3.4: "Bob deletes any one-time prekey private key that was used"). */
export function removeOneTimePreKeys(pool: PreKeyPool, used: { oneTimePreKeyId?: number; pqOneTimePreKeyId?: number }): PreKeyPool {
  const d = pool.data;
  return new PreKeyPool({
    ...d,
    oneTimePreKeys: used.oneTimePreKeyId === undefined ? d.oneTimePreKeys : d.oneTimePreKeys.filter((k) => k.id !== used.oneTimePreKeyId),
    pqOneTimePreKeys: used.pqOneTimePreKeyId === undefined ? d.pqOneTimePreKeys : d.pqOneTimePreKeys.filter((k) => k.id !== used.pqOneTimePreKeyId),
  });
}

// ---- Serialisation ---------------------------------------------------------------------

/**
 * Version 2 = version 1's layout (version byte 2) ‖ a 16-byte integrity tag
 * (state-integrity.ts, label "Petrel_PreKeyPool_v2"); version 1 (no tag) is still read, and
 * the pool is rewritten as version 2 when the core starts.
 */
const POOL_FORMAT_VERSION = 2;
const POOL_FORMAT_V1 = 1;
const POOL_INTEGRITY_LABEL = 'Petrel_PreKeyPool_v2';

/** Is `bytes` a pool in the current (integrity-checked) format, rather than one to rewrite? */
export function isCurrentPreKeyPoolFormat(bytes: Uint8Array): boolean {
  return bytes[0] === POOL_FORMAT_VERSION;
}

function writeSpk(w: ByteWriter, k: SignedPreKey): void {
  w.u32(k.id).bytes(k.keyPair.exportPrivate()).bytes(k.keyPair.publicKey).bytes(k.signature);
}
function readSpk(r: ByteReader): SignedPreKey {
  const id = r.u32();
  const priv = r.bytes(KEY_BYTES);
  const pub = r.bytes(KEY_BYTES);
  return { id, keyPair: X25519KeyPair.fromPrivate(priv, pub), signature: r.bytes(SIGNATURE_BYTES).slice() };
}
function writePq(w: ByteWriter, k: PqPreKey): void {
  w.u32(k.id).u8(k.lastResort ? 1 : 0).bytes(k.keyPair.exportSeed()).bytes(k.keyPair.publicKey).bytes(k.signature);
}
function readPq(r: ByteReader): PqPreKey {
  const id = r.u32();
  const lastResort = r.u8();
  if (lastResort > 1) throw new MalformedStateError('bad flag');
  const seed = r.bytes(ML_KEM_768_SEED_BYTES);
  const pub = r.bytes(ML_KEM_768_PUBLIC_KEY_BYTES);
  return { id, lastResort: lastResort === 1, keyPair: MlKemKeyPair.fromSeed(seed, pub), signature: r.bytes(SIGNATURE_BYTES).slice() };
}

export function serializePreKeyPool(pool: PreKeyPool): Uint8Array {
  const d = pool.data;
  const w = new ByteWriter(4096 + d.pqOneTimePreKeys.length * 1320 + d.oneTimePreKeys.length * 68);
  const flags = (d.previousSignedPreKey ? 1 : 0) | (d.previousLastResortPqPreKey ? 2 : 0);
  w.u8(POOL_FORMAT_VERSION).u8(flags).u32(d.nextId);
  writeSpk(w, d.signedPreKey);
  if (d.previousSignedPreKey) writeSpk(w, d.previousSignedPreKey);
  writePq(w, d.lastResortPqPreKey);
  if (d.previousLastResortPqPreKey) writePq(w, d.previousLastResortPqPreKey);
  w.u16(d.oneTimePreKeys.length);
  for (const k of d.oneTimePreKeys) w.u32(k.id).bytes(k.keyPair.exportPrivate()).bytes(k.keyPair.publicKey);
  w.u16(d.pqOneTimePreKeys.length);
  for (const k of d.pqOneTimePreKeys) writePq(w, k);
  return withIntegrity(POOL_INTEGRITY_LABEL, w.finish());
}

export function deserializePreKeyPool(bytes: Uint8Array): PreKeyPool {
  if (!(bytes instanceof Uint8Array)) throw new MalformedStateError('prekey pool must be bytes');
  if (bytes.length < 1 || (bytes[0] !== POOL_FORMAT_VERSION && bytes[0] !== POOL_FORMAT_V1)) throw new MalformedStateError('unknown prekey pool format');
  const r = new ByteReader(bytes[0] === POOL_FORMAT_VERSION ? checkedBody(POOL_INTEGRITY_LABEL, bytes).slice() : bytes.slice());
  r.u8();
  const flags = r.u8();
  if (flags > 3) throw new MalformedStateError('bad flags');
  const nextId = r.u32();
  const signedPreKey = readSpk(r);
  const previousSignedPreKey = flags & 1 ? readSpk(r) : undefined;
  const lastResortPqPreKey = readPq(r);
  const previousLastResortPqPreKey = flags & 2 ? readPq(r) : undefined;
  const nOpk = r.u16();
  if (nOpk > MAX_LOCAL_ONE_TIME_PREKEYS) throw new MalformedStateError('too many one-time prekeys');
  const oneTimePreKeys: OneTimePreKey[] = [];
  for (let i = 0; i < nOpk; i++) {
    const id = r.u32();
    const priv = r.bytes(KEY_BYTES);
    oneTimePreKeys.push({ id, keyPair: X25519KeyPair.fromPrivate(priv, r.bytes(KEY_BYTES)) });
  }
  const nPq = r.u16();
  if (nPq > MAX_LOCAL_ONE_TIME_PREKEYS) throw new MalformedStateError('too many PQ one-time prekeys');
  const pqOneTimePreKeys: PqPreKey[] = [];
  for (let i = 0; i < nPq; i++) pqOneTimePreKeys.push(readPq(r));
  r.end();
  return new PreKeyPool({
    signedPreKey,
    ...(previousSignedPreKey ? { previousSignedPreKey } : {}),
    lastResortPqPreKey,
    ...(previousLastResortPqPreKey ? { previousLastResortPqPreKey } : {}),
    oneTimePreKeys,
    pqOneTimePreKeys,
    nextId,
  });
}
