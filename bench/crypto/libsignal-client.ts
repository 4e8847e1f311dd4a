/**
 * @signalapp/libsignal-client (native Rust) with in-memory stores that keep every record
 * serialised (SessionRecord.serialize() on save, deserialize() on load), the pattern of
 * libsignal's own Node tests. Benchmark-only: nothing in src/ imports it.
 */
import * as S from '@signalapp/libsignal-client';
import type { Pair, SentMessage, Side, Subject } from './subject.ts';

type Bytes = Uint8Array<ArrayBuffer>;

class SessionStore extends S.SessionStore {
  private readonly records = new Map<string, Bytes>();
  async saveSession(name: S.ProtocolAddress, record: S.SessionRecord): Promise<void> {
    this.records.set(name.toString(), record.serialize());
  }
  async getSession(name: S.ProtocolAddress): Promise<S.SessionRecord | null> {
    const b = this.records.get(name.toString());
    return b ? S.SessionRecord.deserialize(b) : null;
  }
  async getExistingSessions(addresses: S.ProtocolAddress[]): Promise<S.SessionRecord[]> {
    return addresses.map((a) => {
      const b = this.records.get(a.toString());
      if (!b) throw new Error('no session');
      return S.SessionRecord.deserialize(b);
    });
  }
}

class IdentityStore extends S.IdentityKeyStore {
  private readonly known = new Map<string, Bytes>();
  constructor(
    private readonly pair: S.IdentityKeyPair,
    private readonly registrationId: number,
  ) {
    super();
  }
  async getIdentityKey(): Promise<S.PrivateKey> {
    return this.pair.privateKey;
  }
  async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }
  async saveIdentity(name: S.ProtocolAddress, key: S.PublicKey): Promise<S.IdentityChange> {
    const prev = this.known.get(name.toString());
    this.known.set(name.toString(), key.serialize());
    return prev && Buffer.compare(prev, key.serialize()) !== 0 ? S.IdentityChange.ReplacedExisting : S.IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(name: S.ProtocolAddress, key: S.PublicKey): Promise<boolean> {
    const prev = this.known.get(name.toString());
    return !prev || Buffer.compare(prev, key.serialize()) === 0;
  }
  async getIdentity(name: S.ProtocolAddress): Promise<S.PublicKey | null> {
    const b = this.known.get(name.toString());
    return b ? S.PublicKey.deserialize(b) : null;
  }
}

class PreKeyStore extends S.PreKeyStore {
  private readonly records = new Map<number, Bytes>();
  async savePreKey(id: number, record: S.PreKeyRecord): Promise<void> {
    this.records.set(id, record.serialize());
  }
  async getPreKey(id: number): Promise<S.PreKeyRecord> {
    return S.PreKeyRecord.deserialize(this.records.get(id)!);
  }
  async removePreKey(id: number): Promise<void> {
    this.records.delete(id);
  }
}

class SignedPreKeyStore extends S.SignedPreKeyStore {
  private readonly records = new Map<number, Bytes>();
  async saveSignedPreKey(id: number, record: S.SignedPreKeyRecord): Promise<void> {
    this.records.set(id, record.serialize());
  }
  async getSignedPreKey(id: number): Promise<S.SignedPreKeyRecord> {
    return S.SignedPreKeyRecord.deserialize(this.records.get(id)!);
  }
}

class KyberPreKeyStore extends S.KyberPreKeyStore {
  private readonly records = new Map<number, Bytes>();
  readonly used = new Set<number>();
  async saveKyberPreKey(id: number, record: S.KyberPreKeyRecord): Promise<void> {
    this.records.set(id, record.serialize());
  }
  async getKyberPreKey(id: number): Promise<S.KyberPreKeyRecord> {
    return S.KyberPreKeyRecord.deserialize(this.records.get(id)!);
  }
  async markKyberPreKeyUsed(id: number): Promise<void> {
    this.used.add(id);
    this.records.delete(id);
  }
}

interface Party {
  address: S.ProtocolAddress;
  identity: S.IdentityKeyPair;
  registrationId: number;
  sessions: SessionStore;
  identities: IdentityStore;
  preKeys: PreKeyStore;
  signedPreKeys: SignedPreKeyStore;
  kyberPreKeys: KyberPreKeyStore;
}

function party(name: string, registrationId: number): Party {
  const identity = S.IdentityKeyPair.generate();
  return {
    address: S.ProtocolAddress.new(name, 1),
    identity,
    registrationId,
    sessions: new SessionStore(),
    identities: new IdentityStore(identity, registrationId),
    preKeys: new PreKeyStore(),
    signedPreKeys: new SignedPreKeyStore(),
    kyberPreKeys: new KyberPreKeyStore(),
  };
}

class LibsignalPair implements Pair {
  private readonly p: Record<Side, Party> = { alice: party('alice', 1), bob: party('bob', 2) };
  private bundle!: S.PreKeyBundle;

  async prepare(): Promise<void> {
    const bob = this.p.bob;
    const preKey = S.PrivateKey.generate();
    const signedPreKey = S.PrivateKey.generate();
    const spkSig = bob.identity.privateKey.sign(signedPreKey.getPublicKey().serialize());
    const kem = S.KEMKeyPair.generate();
    const kemSig = bob.identity.privateKey.sign(kem.getPublicKey().serialize());
    await bob.preKeys.savePreKey(11, S.PreKeyRecord.new(11, preKey.getPublicKey(), preKey));
    await bob.signedPreKeys.saveSignedPreKey(22, S.SignedPreKeyRecord.new(22, Date.now(), signedPreKey.getPublicKey(), signedPreKey, spkSig));
    await bob.kyberPreKeys.saveKyberPreKey(33, S.KyberPreKeyRecord.new(33, Date.now(), kem, kemSig));
    this.bundle = S.PreKeyBundle.new(bob.registrationId, 1, 11, preKey.getPublicKey(), 22, signedPreKey.getPublicKey(), spkSig, bob.identity.publicKey, 33, kem.getPublicKey(), kemSig);
  }

  async setup(): Promise<void> {
    const a = this.p.alice;
    await S.processPreKeyBundle(this.bundle, this.p.bob.address, a.address, a.sessions, a.identities);
    const first = await this.send('alice', new Uint8Array(16));
    await this.receive('bob', first);
  }

  async send(from: Side, plaintext: Uint8Array): Promise<SentMessage> {
    const me = this.p[from];
    const peer = this.p[from === 'alice' ? 'bob' : 'alice'];
    const ct = await S.signalEncrypt(plaintext as Bytes, peer.address, me.address, me.sessions, me.identities);
    return { kind: ct.type() === S.CiphertextMessageType.PreKey ? 'prekey' : 'normal', bytes: ct.serialize() };
  }

  async receive(to: Side, message: SentMessage): Promise<Uint8Array> {
    const me = this.p[to];
    const peer = this.p[to === 'alice' ? 'bob' : 'alice'];
    if (message.kind === 'prekey') {
      return S.signalDecryptPreKey(
        S.PreKeySignalMessage.deserialize(message.bytes as Bytes),
        peer.address,
        me.address,
        me.sessions,
        me.identities,
        me.preKeys,
        me.signedPreKeys,
        me.kyberPreKeys,
      );
    }
    return S.signalDecrypt(S.SignalMessage.deserialize(message.bytes as Bytes), peer.address, me.address, me.sessions, me.identities);
  }
}

export const libsignalClient: Subject = {
  name: 'libsignal-client',
  async createPair() {
    const pair = new LibsignalPair();
    await pair.prepare();
    return pair;
  },
};
