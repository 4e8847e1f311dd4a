import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { authPayload } from '../../src/core/wire/index.ts';
import { newIdentity, randomEnvelope, signedBundle } from './helpers/identity.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay.stop();
});

describe('relay auth: a connection proves it owns a mailbox by signing a fresh challenge', () => {
  it('binds the connection to SHA-256("Petrel_Mailbox" ‖ IK) and reports the queue', async () => {
    const alice = newIdentity();
    const c = await TestClient.connect(relay.url);
    const ready = await c.auth(alice);
    expect(ready.mailbox).toEqual(alice.mailbox);
    expect(ready.queued).toBe(0);
    c.close();
  });

  it('sends a fresh 32-byte nonce to every connection', async () => {
    const a = await TestClient.connect(relay.url);
    const b = await TestClient.connect(relay.url);
    const [na, nb] = await Promise.all([a.next('challenge'), b.next('challenge')]);
    expect(na.nonce).toHaveLength(32);
    expect(na.nonce).not.toEqual(nb.nonce);
    a.close();
    b.close();
  });

  it('gives no mailbox access without the signature: ack and prekey publish are refused', async () => {
    const alice = newIdentity();
    // Someone deposits for alice; an unauthenticated connection tries to ack it away.
    const sender = await TestClient.connect(relay.url);
    const env = randomEnvelope(alice.mailbox);
    sender.send({ t: 'send', rid: 1, env });
    expect((await sender.reply(1)).t).toBe('sent');

    const intruder = await TestClient.connect(relay.url);
    intruder.send({ t: 'ack', ids: [env.id] });
    expect(await intruder.next('error')).toMatchObject({ code: 'unauthenticated' });
    intruder.send({ t: 'prekeys.publish', rid: 2, bundle: signedBundle(alice, 1, 0) });
    expect(await intruder.reply(2)).toMatchObject({ t: 'error', code: 'unauthenticated' });
    expect(intruder.frames.some((f) => f.t === 'deliver')).toBe(false);

    const owner = await TestClient.authenticated(relay.url, alice);
    const delivered = await owner.next('deliver');
    expect(delivered.env.id).toEqual(env.id);
    for (const c of [sender, intruder, owner]) c.close();
  });

  it('refuses a signature over the wrong challenge and closes the connection', async () => {
    const alice = newIdentity();
    const c = await TestClient.connect(relay.url);
    await c.next('challenge');
    c.send({ t: 'auth', ik: alice.ik, sig: alice.signAuth(new Uint8Array(32)) });
    expect(await c.next('error')).toMatchObject({ code: 'auth_failed' });
    expect(await c.waitClosed()).toBe(1008);
  });

  it('refuses a replayed auth answer on another connection', async () => {
    const alice = newIdentity();
    const first = await TestClient.connect(relay.url);
    const challenge = await first.next('challenge');
    const answer = { t: 'auth' as const, ik: alice.ik, sig: alice.signAuth(challenge.nonce) };
    first.send(answer);
    await first.next('ready');

    const replay = await TestClient.connect(relay.url);
    await replay.next('challenge');
    replay.send(answer);
    expect(await replay.next('error')).toMatchObject({ code: 'auth_failed' });
    expect(await replay.waitClosed()).toBe(1008);
    first.close();
  });

  it('refuses a small-order identity key (it would "verify" R = identity, S = 0 for any challenge) and closes the connection', async () => {
    const identityPoint = new Uint8Array(32);
    identityPoint[0] = 1;
    for (const ik of [identityPoint, Uint8Array.from(Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex'))]) {
      const c = await TestClient.connect(relay.url);
      await c.next('challenge');
      const universal = new Uint8Array(64);
      universal[0] = 1;
      c.send({ t: 'auth', ik, sig: universal });
      expect(await c.next('error')).toMatchObject({ code: 'auth_failed' });
      expect(await c.waitClosed()).toBe(1008);
    }
    expect(await (await fetch(`${relay.http}/metrics`)).text()).toMatch(/petrel_authentications_total\{result="weak_identity_key"\} 2/);
  });

  it('refuses a signature by another key for the claimed identity', async () => {
    const alice = newIdentity();
    const mallory = newIdentity();
    const c = await TestClient.connect(relay.url);
    const { nonce } = await c.next('challenge');
    c.send({ t: 'auth', ik: alice.ik, sig: ed25519.sign(authPayload(nonce), mallory.seed) });
    expect(await c.next('error')).toMatchObject({ code: 'auth_failed' });
  });

  it('spends the challenge on the first attempt and refuses a second auth', async () => {
    const alice = newIdentity();
    const c = await TestClient.connect(relay.url);
    await c.auth(alice);
    c.send({ t: 'auth', ik: alice.ik, sig: new Uint8Array(64) });
    expect(await c.next('error')).toMatchObject({ code: 'auth_failed', msg: 'already authenticated' });
    c.close();
  });

  it('counts authentications by result', async () => {
    const text = await (await fetch(`${relay.http}/metrics`)).text();
    expect(text).toMatch(/petrel_authentications_total\{result="ok"\} \d+/);
    expect(text).toMatch(/petrel_authentications_total\{result="bad_signature"\} [1-9]/);
    expect(text).toMatch(/petrel_connections_closed_total\{reason="auth_failed"\} [1-9]/);
  });
});
