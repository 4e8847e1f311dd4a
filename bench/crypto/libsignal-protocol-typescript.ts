/**
 * @privacyresearch/libsignal-protocol-typescript (pure TypeScript, X3DH without PQ) with
 * its README's in-memory store pattern; session records (JSON strings in this library)
 * are kept as UTF-8 bytes, encoded on every store and decoded on every load.
 */
import {
  KeyHelper,
  SessionBuilder,
  SessionCipher,
  SignalProtocolAddress,
  type Direction,
  type KeyPairType,
  type StorageType,
} from '@privacyresearch/libsignal-protocol-typescript';
import type { Pair, SentMessage, Side, Subject } from './subject.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

class Store implements StorageType {
  private readonly sessions = new Map<string, Uint8Array>();
  private readonly preKeys = new Map<string, KeyPairType>();
  private readonly signedPreKeys = new Map<string, KeyPairType>();
  private readonly identities = new Map<string, ArrayBuffer>();
  constructor(
    private readonly identity: KeyPairType,
    private readonly registrationId: number,
  ) {}
  async getIdentityKeyPair() {
    return this.identity;
  }
  async getLocalRegistrationId() {
    return this.registrationId;
  }
  async isTrustedIdentity(identifier: string, identityKey: ArrayBuffer, _direction: Direction) {
    const known = this.identities.get(identifier);
    return !known || Buffer.compare(Buffer.from(known), Buffer.from(identityKey)) === 0;
  }
  async saveIdentity(encodedAddress: string, publicKey: ArrayBuffer) {
    const id = SignalProtocolAddress.fromString(encodedAddress).getName();
    const known = this.identities.get(id);
    this.identities.set(id, publicKey);
    return !!known && Buffer.compare(Buffer.from(known), Buffer.from(publicKey)) !== 0;
  }
  async loadPreKey(keyId: string | number) {
    return this.preKeys.get(String(keyId));
  }
  async storePreKey(keyId: number | string, keyPair: KeyPairType) {
    this.preKeys.set(String(keyId), keyPair);
  }
  async removePreKey(keyId: number | string) {
    this.preKeys.delete(String(keyId));
  }
  async storeSession(encodedAddress: string, record: string) {
    this.sessions.set(encodedAddress, enc.encode(record));
  }
  async loadSession(encodedAddress: string) {
    const b = this.sessions.get(encodedAddress);
    return b ? dec.decode(b) : undefined;
  }
  async loadSignedPreKey(keyId: number | string) {
    return this.signedPreKeys.get(String(keyId));
  }
  async storeSignedPreKey(keyId: number | string, keyPair: KeyPairType) {
    this.signedPreKeys.set(String(keyId), keyPair);
  }
  async removeSignedPreKey(keyId: number | string) {
    this.signedPreKeys.delete(String(keyId));
  }
}

const toBinaryString = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const fromBinaryString = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

class TsPair implements Pair {
  private stores!: Record<Side, Store>;
  private readonly address: Record<Side, SignalProtocolAddress> = { alice: new SignalProtocolAddress('alice', 1), bob: new SignalProtocolAddress('bob', 1) };
  private bundle!: Parameters<SessionBuilder['processPreKey']>[0];

  async prepare(): Promise<void> {
    const aliceId = await KeyHelper.generateIdentityKeyPair();
    const bobId = await KeyHelper.generateIdentityKeyPair();
    this.stores = { alice: new Store(aliceId, 1), bob: new Store(bobId, 2) };
    const preKey = await KeyHelper.generatePreKey(11);
    const signedPreKey = await KeyHelper.generateSignedPreKey(bobId, 22);
    await this.stores.bob.storePreKey(11, preKey.keyPair);
    await this.stores.bob.storeSignedPreKey(22, signedPreKey.keyPair);
    this.bundle = {
      identityKey: bobId.pubKey,
      registrationId: 2,
      preKey: { keyId: 11, publicKey: preKey.keyPair.pubKey },
      signedPreKey: { keyId: 22, publicKey: signedPreKey.keyPair.pubKey, signature: signedPreKey.signature },
    };
  }

  async setup(): Promise<void> {
    await new SessionBuilder(this.stores.alice, this.address.bob).processPreKey(this.bundle);
    const first = await this.send('alice', new Uint8Array(16));
    await this.receive('bob', first);
  }

  async send(from: Side, plaintext: Uint8Array): Promise<SentMessage> {
    const to: Side = from === 'alice' ? 'bob' : 'alice';
    const ct = await new SessionCipher(this.stores[from], this.address[to]).encrypt(plaintext.slice().buffer);
    return { kind: ct.type === 3 ? 'prekey' : 'normal', bytes: fromBinaryString(ct.body!) };
  }

  async receive(to: Side, message: SentMessage): Promise<Uint8Array> {
    const from: Side = to === 'alice' ? 'bob' : 'alice';
    const cipher = new SessionCipher(this.stores[to], this.address[from]);
    const body = toBinaryString(message.bytes);
    const pt = message.kind === 'prekey' ? await cipher.decryptPreKeyWhisperMessage(body, 'binary') : await cipher.decryptWhisperMessage(body, 'binary');
    return new Uint8Array(pt);
  }
}

export const libsignalProtocolTypescript: Subject = {
  name: 'libsignal-protocol-typescript',
  async createPair() {
    const pair = new TsPair();
    await pair.prepare();
    return pair;
  },
};
