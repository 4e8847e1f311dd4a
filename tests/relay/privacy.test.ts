import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newIdentity, signedBundle } from './helpers/identity.ts';
import { startTestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';

const MARKER = 'PETREL-PLAINTEXT-MARKER-7f3a9c';

/** Stands in for the sealed box: AES-256-GCM under a key only the test knows. */
function seal(plaintext: string): Uint8Array {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  return new Uint8Array(Buffer.concat([iv, c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('relay privacy: no plaintext, keys or envelope ids in its data or logs', () => {
  it('the data dir and the debug log contain neither the marker nor identifiers in hex', async () => {
    const relay = await startTestRelay({ PETREL_LOG_LEVEL: 'trace' });
    const bob = newIdentity();
    const alice = newIdentity();
    const ids: Uint8Array[] = [];
    try {
      const a = await TestClient.authenticated(relay.url, alice);
      a.send({ t: 'prekeys.publish', rid: 1, bundle: signedBundle(alice, 2, 1) });
      await a.reply(1);
      const b = await TestClient.authenticated(relay.url, bob);
      for (let i = 0; i < 20; i++) {
        const env = { to: bob.mailbox, id: new Uint8Array(randomBytes(16)), body: seal(`${MARKER} message ${i}`) };
        ids.push(env.id);
        a.send({ t: 'send', rid: 10 + i, env });
        await a.reply(10 + i);
      }
      a.send({ t: 'signal', to: bob.mailbox, blob: seal(`${MARKER} offer`) });
      await b.next('signal');
      for (let i = 0; i < 20; i++) await b.next('deliver');
      // Ack half so deletion paths log too.
      b.send({ t: 'ack', ids: ids.slice(0, 10) });
      b.send({ t: 'ping', rid: 99 });
      await b.reply(99);
      a.close();
      b.close();
    } finally {
      await relay.stop({ keepData: true });
    }

    const needles = [
      ['marker', Buffer.from(MARKER, 'utf8')],
      ...ids.map((id, i) => [`envelope id ${i} (hex)`, Buffer.from(Buffer.from(id).toString('hex'))] as const),
      ['bob mailbox (hex)', Buffer.from(Buffer.from(bob.mailbox).toString('hex'))],
      ['alice identity key (hex)', Buffer.from(Buffer.from(alice.ik).toString('hex'))],
      ['alice identity key (base64)', Buffer.from(Buffer.from(alice.ik).toString('base64'))],
    ] as const;
    const files = filesUnder(relay.dataDir);
    expect(files.some((f) => f.endsWith('relay.sqlite3'))).toBe(true);
    for (const f of files) {
      const content = readFileSync(f);
      for (const [what, needle] of needles) expect(content.includes(needle), `${what} in ${f}`).toBe(false);
    }
    const logs = Buffer.from(relay.logs(), 'utf8');
    expect(logs.length).toBeGreaterThan(0);
    for (const [what, needle] of needles) expect(logs.includes(needle), `${what} in logs`).toBe(false);
    rmSync(relay.dataDir, { recursive: true, force: true });
  });
});
