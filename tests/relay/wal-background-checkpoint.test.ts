/**
 * The relay's WAL is checkpointed by a worker thread (src/relay/storage/wal-checkpointer.ts),
 * not by the connection that commits deposits: a committed envelope reaches the database
 * file shortly after `sent` although the relay's own connection would checkpoint only past
 * FALLBACK_AUTOCHECKPOINT_PAGES and its periodic TRUNCATE is an hour away here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../src/relay/storage/sqlite-database.ts';
import { newIdentity } from './helpers/identity.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';
import { waitFor } from './helpers/wait-for.ts';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({ PETREL_WAL_CHECKPOINT_SEC: '3600' });
});
afterAll(async () => {
  await relay.stop();
});

const inDatabaseFile = (marker: Buffer) => readFileSync(join(relay.dataDir, DATABASE_FILE)).includes(marker);

describe('relay: WAL checkpoints off the event loop', () => {
  it('copies a committed group message into the database file in the background, its WAL durable first', { timeout: 20_000 }, async () => {
    const marker = Buffer.from(`petrel-checkpoint-marker-${Date.now()}-`.repeat(6));
    const walBefore = readFileSync(join(relay.dataDir, `${DATABASE_FILE}-wal`));
    expect(walBefore.includes(marker)).toBe(false);
    const sender = await TestClient.connect(relay.url);
    const id = new Uint8Array(16).fill(9);
    const to = [newIdentity().mailbox, newIdentity().mailbox, newIdentity().mailbox];
    sender.send({ t: 'send.multi', rid: 1, id, to, body: new Uint8Array(marker) });
    expect(await sender.reply(1)).toEqual({ t: 'sent.multi', rid: 1, id, full: [], unlinked: [] });
    // Durable when answered: in the WAL, whether or not a checkpoint ran yet.
    expect(readFileSync(join(relay.dataDir, `${DATABASE_FILE}-wal`)).includes(marker) || inDatabaseFile(marker)).toBe(true);
    await waitFor(() => inDatabaseFile(marker), (there) => there, 'the body copied into the database file', 10_000, 50);
    sender.close();
  });
});
