/**
 * Secrets never print. Every object that holds secret material — and every plain data object
 * a public accessor returns (`SessionState.data`, `PreKeyPool.data`, `dhPrivate()`) — is
 * printed through every route a value takes into a log: String(), JSON.stringify,
 * util.inspect (what console.log uses, also with showHidden and with customInspect off),
 * util.format, structuredClone (postMessage, an IndexedDB put by mistake), the core logger
 * into a RingLogSink exported as JSON (the diagnostics view), and pino (the relay's logger).
 * No output may contain any secret in any of the encodings a printer would use (hex, base64,
 * decimal lists, JSON index maps, Buffer dumps). A negative control proves the detector finds
 * raw key bytes, so a pass is not vacuous.
 */
import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { toBase64Url, toHex, utf8 } from '../../src/core/bytes.ts';
import { createLogger, RingLogSink } from '../../src/core/log.ts';
import { decrypt, encrypt } from '../../src/core/crypto/index.ts';
import { kdfChainKey } from '../../src/core/crypto/chain-key.ts';
import { establish } from './helpers.ts';

/**
 * Every way a printer could render these bytes, without whitespace: outputs are compared
 * with all whitespace removed (inspect pads and wraps array columns). The first 8 bytes are
 * enough to find a decimal or index-map dump; hex and base64 use the whole key.
 */
function encodings(secret: Uint8Array): string[] {
  const b = Array.from(secret.subarray(0, 8));
  return [
    toHex(secret),
    toHex(secret).toUpperCase(),
    Buffer.from(secret).toString('base64'),
    toBase64Url(secret),
    b.join(','),
    b.map((x, i) => `"${i}":${x}`).join(','),
    b.map((x, i) => `'${i}':${x}`).join(','),
  ];
}

const compact = (text: string) => text.replace(/\s+/g, '');

function printers(o: unknown): Record<string, string> {
  const ring = new RingLogSink();
  const log = createLogger(ring.sink, { level: 'debug' });
  // The field type only admits primitives; a careless caller casts. Both must stay clean.
  log.warn('state', { asString: String(o), raw: o as never });
  const pinoOut: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      pinoOut.push(chunk.toString());
      done();
    },
  });
  const relayLog = pino({ level: 'debug' }, sink);
  relayLog.info({ value: o }, 'value');
  relayLog.error({ err: new Error('x'), value: o }, 'with error');
  return {
    String: String(o),
    JSON: JSON.stringify(o) ?? '',
    inspect: inspect(o, { depth: Infinity }),
    'inspect showHidden': inspect(o, { depth: Infinity, showHidden: true }),
    'inspect customInspect off': inspect(o, { depth: Infinity, showHidden: true, customInspect: false }),
    format: format('%s %o %O %j', o, o, o, o),
    structuredClone: inspect(structuredClone(o), { depth: Infinity, showHidden: true }),
    'core logger (diagnostics export)': JSON.stringify(ring.recent()) + inspect(ring.recent(), { depth: Infinity }),
    pino: pinoOut.join(''),
  };
}

async function fixture() {
  const { alice, bob, a, b, random } = await establish(60);
  // Give Alice a receiving chain with a skipped message key: Bob sends two, she reads the second.
  const m1 = await encrypt(b, utf8('one'), random);
  const m2 = await encrypt(m1.state, utf8('two'), random);
  const aliceState = (await decrypt(a, m2.message)).state;
  const bobState = m2.state;
  const pool = bob.pool.data;
  const d = aliceState.data;
  expect(d.skipped.length).toBe(1);
  const chainStep = kdfChainKey(d.receivingChain!.chainKey);
  const secrets: Record<string, Uint8Array> = {
    'identity seed': alice.identity.exportSeed(),
    'identity X25519 private': alice.identity.dhPrivate().privateKey.expose(),
    'SPK private': pool.signedPreKey.keyPair.exportPrivate(),
    'OPK private': pool.oneTimePreKeys[0]!.keyPair.exportPrivate(),
    'PQSPK seed': pool.lastResortPqPreKey.keyPair.exportSeed(),
    'PQOPK seed': pool.pqOneTimePreKeys[0]!.keyPair.exportSeed(),
    'root key': d.rootKey.expose(),
    'sending chain key': d.sendingChain!.chainKey.expose(),
    'receiving chain key': d.receivingChain!.chainKey.expose(),
    'ratchet private key': d.sendingRatchet!.privateKey.expose(),
    'skipped message key': d.skipped[0]!.messageKey.expose(),
    'bob root key': bobState.data.rootKey.expose(),
    'derived message key': chainStep.messageKey.expose(),
    'derived chain key': chainStep.chainKey.expose(),
  };
  const objects: Record<string, unknown> = {
    identity: alice.identity,
    'identity.dhPrivate()': alice.identity.dhPrivate(),
    'prekey pool': bob.pool,
    'prekey pool .data': pool,
    'signed prekey': pool.signedPreKey,
    'X25519 key pair': pool.signedPreKey.keyPair,
    'X25519 key pair .dhPrivate()': pool.signedPreKey.keyPair.dhPrivate(),
    'one-time prekeys': pool.oneTimePreKeys,
    'ML-KEM key pair': pool.lastResortPqPreKey.keyPair,
    'session state': aliceState,
    'session state .data': d,
    'session state .data.skipped (message keys)': d.skipped,
    'session state .data.sendingRatchet': d.sendingRatchet,
    'bob session state .data': bobState.data,
    'KDF_CK output (message key)': chainStep,
    nested: { session: aliceState, data: d, pool, identity: alice.identity, list: [bobState, bob.pool] },
  };
  return { secrets, objects };
}

describe('secrets never print', () => {
  it('the detector finds raw key bytes through every printer (negative control)', () => {
    const raw = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 255);
    const out = printers({ key: raw, buffer: Buffer.from(raw) });
    for (const [printer, text] of Object.entries(out)) {
      if (printer === 'String') continue; // "[object Object]"
      expect(encodings(raw).some((e) => compact(text).includes(e)), printer).toBe(true);
    }
  });

  it('no secret shows through any printer for any secret-holding object or accessor result', async () => {
    const { secrets, objects } = await fixture();
    for (const [what, o] of Object.entries(objects)) {
      for (const [printer, text] of Object.entries(printers(o))) {
        for (const [name, secret] of Object.entries(secrets)) {
          for (const e of encodings(secret)) {
            if (compact(text).includes(e)) expect.fail(`${what} via ${printer} shows the ${name} (as ${e})`);
          }
        }
      }
    }
  });

  it('secret-holding objects print as labels; secrets inside data objects as SecretBytes labels', async () => {
    const { objects } = await fixture();
    expect(String(objects['identity'])).toBe('[Identity (redacted)]');
    expect(JSON.stringify({ s: objects['session state'] })).toBe('{"s":"[SessionState (redacted)]"}');
    expect(inspect(objects['prekey pool'])).toBe('[PreKeyPool (redacted)]');
    const data = JSON.parse(JSON.stringify(objects['session state .data'])) as Record<string, unknown>;
    expect(data['rootKey']).toBe('[SecretBytes (redacted)]');
    expect((data['sendingRatchet'] as Record<string, unknown>)['privateKey']).toBe('[SecretBytes (redacted)]');
    expect(inspect(objects['KDF_CK output (message key)'], { breakLength: Infinity })).toBe('{ messageKey: [SecretBytes (redacted)], chainKey: [SecretBytes (redacted)] }');
  });
});
