/**
 * The relay never holds or logs plaintext, keys or envelope bytes. Two complete cores
 * (real crypto, real sealing) chat through the real relay at trace level; a wire
 * recorder keeps what they really sent, and every file of the data dir plus every log
 * line is scanned for the message marker and for those bytes in the usual encodings.
 * Controls prove the scan finds what it looks for: the stored ciphertext IS in the data
 * dir while it waits, and a marker written in the clear is found.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { decodeFrame, mailboxAddress, type ClientFrame, type Envelope } from '../../src/core/wire/index.ts';
import type { RelaySocket, RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { device, introduce, onboard, until, type Device } from '../messenger/harness.ts';
import { startTestRelay } from './helpers/relay-harness.ts';
import { encodings, findNeedles, scanDir, type Needle } from './helpers/secret-scan.ts';

const MARKER = 'PETREL-PLAINTEXT-MARKER-7f3a9c';

/** Every frame the clients really put on the wire, decoded. */
class WireRecorder {
  readonly frames: ClientFrame[] = [];

  socketClass(): RelaySocketConstructor {
    const frames = this.frames;
    const Base = NodeWebSocket as unknown as RelaySocketConstructor;
    return class RecordingSocket extends Base implements RelaySocket {
      override send(data: Uint8Array): void {
        frames.push(decodeFrame(data, { from: 'client' }) as ClientFrame);
        super.send(data);
      }
    };
  }

  envelopes(): Envelope[] {
    return this.frames.flatMap((f) => (f.t === 'send' ? [f.env] : []));
  }

  identityKeys(): Uint8Array[] {
    return this.frames.flatMap((f) => (f.t === 'auth' ? [f.ik] : []));
  }
}

/** The messenger harness's device, with its relay socket recorded. */
function recordedDevice(relayUrl: string, wire: WireRecorder): Device {
  return device(relayUrl, undefined, { WebSocket: wire.socketClass() });
}

/** The marker as plaintext could leak: UTF-8, hex, base64. */
const markerNeedles = (): Needle[] => encodings('marker', Buffer.from(MARKER, 'utf8'));

/** Envelope bytes as a log line could carry them: whole body, an aligned prefix, a middle slice. */
function envelopeNeedles(envs: readonly Envelope[]): Needle[] {
  return envs.flatMap((e, i) => [
    ...encodings(`body ${i}`, e.body),
    ...encodings(`body ${i} prefix`, e.body.subarray(0, 48)),
    ...encodings(`body ${i} middle`, e.body.subarray(Math.floor(e.body.length / 2), Math.floor(e.body.length / 2) + 24)),
    ...encodings(`envelope id ${i}`, e.id),
  ]);
}

function keyNeedles(iks: readonly Uint8Array[]): Needle[] {
  return iks.flatMap((ik, i) => [...encodings(`identity key ${i}`, ik), ...encodings(`mailbox ${i}`, mailboxAddress(ik))]);
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the secret scanner (negative controls: it finds what it looks for)', () => {
  it('finds the marker written in the clear, as hex and as base64, in a file of a scanned dir', () => {
    const dir = mkdtempSync(join(tmpdir(), 'petrel-scan-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const noise = () => randomBytes(4096);
    writeFileSync(join(dir, 'clear.bin'), Buffer.concat([noise(), Buffer.from(`text: ${MARKER}!`), noise()]));
    writeFileSync(join(dir, 'hex.log'), `{"body":"${Buffer.from(MARKER).toString('hex')}"}\n`);
    writeFileSync(join(dir, 'b64.log'), `{"body":"${Buffer.from(MARKER).toString('base64')}"}\n`);
    writeFileSync(join(dir, 'clean.bin'), noise());
    const found = scanDir(dir, markerNeedles());
    expect(found).toContain(`${join(dir, 'clear.bin')}: marker (raw)`);
    expect(found).toContain(`${join(dir, 'hex.log')}: marker (hex)`);
    expect(found).toContain(`${join(dir, 'b64.log')}: marker (base64)`);
    expect(found.filter((f) => f.startsWith(join(dir, 'clean.bin')))).toEqual([]);
  });

  it('finds an envelope body or an identity key logged as hex or base64', () => {
    const env = { to: new Uint8Array(32).fill(1), id: new Uint8Array(randomBytes(16)), body: new Uint8Array(randomBytes(300)) };
    const ik = new Uint8Array(randomBytes(32));
    const needles = [...envelopeNeedles([env]), ...keyNeedles([ik])];
    const line = (o: object) => Buffer.from(`${JSON.stringify({ level: 20, msg: 'deposit', ...o })}\n`);
    expect(findNeedles(line({ body: Buffer.from(env.body).toString('hex') }), needles)).toContain('body 0 (hex)');
    expect(findNeedles(line({ head: Buffer.from(env.body.subarray(0, 60)).toString('base64') }), needles)).toContain('body 0 prefix (base64)');
    expect(findNeedles(line({ ik: Buffer.from(ik).toString('base64url') }), needles)).toContain('identity key 0 (base64url)');
    expect(findNeedles(line({ id: 'nothing secret here' }), needles)).toEqual([]);
  });
});

describe('relay privacy with real clients: no plaintext, keys or envelope bytes in its data or logs', () => {
  it('two real cores chat through a trace-level relay; the data dir and the logs hold none of it', { timeout: 30_000 }, async () => {
    const relay = await startTestRelay({ PETREL_LOG_LEVEL: 'trace' });
    cleanups.push(() => rmSync(relay.dataDir, { recursive: true, force: true }));
    let relayRunning = true;
    cleanups.push(() => (relayRunning ? relay.stop({ keepData: true }) : undefined));
    const wire = new WireRecorder();
    const alice = recordedDevice(relay.url, wire);
    let bob = recordedDevice(relay.url, wire);
    cleanups.push(() => alice.stop());
    cleanups.push(() => bob.stop());
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB, bSeesA } = await introduce(alice, bob);

    // Bob is away: the sealed message must wait in the relay's database.
    await bob.stop();
    await alice.messenger.openChat(aSeesB);
    await alice.messenger.send(aSeesB, `${MARKER} while you were away`);
    await until(alice, (s) => s.chat?.messages.at(-1)?.status === 'sent');

    const waiting = wire.envelopes();
    expect(waiting.length).toBeGreaterThan(0);
    const whileQueued = scanDir(relay.dataDir, [...markerNeedles(), ...waiting.flatMap((e, i) => encodings(`body ${i}`, e.body))]);
    // Control: the scan reads the files the envelopes are kept in (the real ciphertext is there)...
    expect(whileQueued.some((f) => f.includes('(raw)') && f.includes('body'))).toBe(true);
    // ...and the plaintext is not, in any encoding.
    expect(whileQueued.filter((f) => f.includes('marker'))).toEqual([]);

    bob = await bob.reload();
    await until(bob, (s) => s.connection.kind === 'online');
    await until(bob, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 1);
    await bob.messenger.openChat(bSeesA);
    await bob.messenger.send(bSeesA, `${MARKER} got it`);
    await bob.messenger.markRead(bSeesA);
    await until(alice, (s) => s.chat?.messages.length === 2 && s.chat.messages[0]?.status === 'read');
    await alice.stop();
    await bob.stop();
    relayRunning = false;
    await relay.stop({ keepData: true });

    const envs = wire.envelopes();
    const iks = wire.identityKeys();
    expect(envs.length).toBeGreaterThanOrEqual(3); // two messages and at least a receipt
    expect(new Set(iks.map((k) => Buffer.from(k).toString('hex'))).size).toBe(2);

    expect(scanDir(relay.dataDir, markerNeedles())).toEqual([]);
    const logs = Buffer.from(relay.logs(), 'utf8');
    expect(logs.toString('utf8')).toMatch(/"msg":"authenticated"/); // trace level really logged the sessions
    expect(findNeedles(logs, [...markerNeedles(), ...envelopeNeedles(envs), ...keyNeedles(iks)])).toEqual([]);
  });
});
