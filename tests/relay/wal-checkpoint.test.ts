/**
 * Issue 21 §6, against a relay in its own process: acknowledged ciphertext leaves the
 * relay's files while it runs. secure_delete zeroes deleted rows in the database file,
 * but their old pages stay in the -wal file until a checkpoint; the relay checkpoints and
 * truncates the WAL every PETREL_WAL_CHECKPOINT_SEC.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newIdentity } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay } from './helpers/relay-process.ts';
import { TestClient } from './helpers/test-client.ts';
import { waitFor } from './helpers/wait-for.ts';

const dataDir = tempDataDir();
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Whether any file in the data dir holds `marker`. */
function onDisk(marker: Buffer): boolean {
  return readdirSync(dataDir, { withFileTypes: true }).some((f) => f.isFile() && readFileSync(join(dataDir, f.name)).includes(marker));
}

describe('deleted envelopes leave the disk', () => {
  it('an acknowledged envelope body is in no file of the data dir after the next checkpoint', { timeout: 30_000 }, async () => {
    const relay = await spawnRelay(dataDir, { PETREL_LOG_LEVEL: 'info', PETREL_WAL_CHECKPOINT_SEC: '2' });
    try {
      const bob = newIdentity();
      const marker = Buffer.from(`petrel-secret-ciphertext-${Date.now()}-`.repeat(8));
      const env = { to: bob.mailbox, id: new Uint8Array(16).fill(7), body: new Uint8Array(marker) };
      const s = await TestClient.connect(relay.url);
      s.send({ t: 'send', rid: 1, env });
      expect(await s.reply(1)).toMatchObject({ t: 'sent' });
      // Durable before `sent`: the body is in the files now (this is what the scan must find).
      expect(onDisk(marker)).toBe(true);
      const b = await TestClient.authenticated(relay.url, bob);
      await b.next('deliver');
      b.send({ t: 'ack', ids: [env.id] });
      await waitFor(() => onDisk(marker), (present) => !present, 'the acknowledged body gone from every file', 15_000, 200);
      s.close();
      b.close();
    } finally {
      relay.child.kill('SIGTERM');
      await relay.exited;
    }
  });
});
