/**
 * Runs in Chromium on a persistent profile (bundled by bench/backup.bench.ts): making a
 * backup from IndexedDB and restoring it into a fresh IndexedDB database, as the app does
 * (makeBackup over the store; restoreBackup feeding the import writer), ms each.
 *
 * The restore measured is the backup's share: open, authenticate and decode every record,
 * and write contacts and messages through `writeImportStep` (the writer a restore uses).
 * It leaves out the relay round trip that publishes the device list and the fresh prekey
 * pool `completeImport` makes (network and key generation, not the 10,000 messages).
 */
import { toHex } from '../../src/core/bytes.ts';
import { CryptoRuntime } from '../../src/core/crypto/crypto-runtime.ts';
import { identityFromSeed } from '../../src/core/crypto/identity.ts';
import { restoreBackup } from '../../src/core/backup/backup-restore.ts';
import { signDeviceList } from '../../src/core/devices/device-list.ts';
import { makeBackup } from '../../src/core/messenger/backup-commands.ts';
import { writeImportStep } from '../../src/core/messenger/import-writer.ts';
import { secureRandom } from '../../src/core/random.ts';
import type { PetrelStore } from '../../src/core/store/index.ts';
import { openIdbStore } from '../../src/platform/idb/open-idb-store.ts';

const account = identityFromSeed(new Uint8Array(32).fill(1));
const runtime = new CryptoRuntime(secureRandom);
const secret = { kind: 'recovery_key', key: new Uint8Array(20).fill(5) } as const;
let backup: Uint8Array | undefined;

async function open(name: string): Promise<PetrelStore> {
  return (await openIdbStore({ name, now: () => Date.now() })).store;
}

/** `messages` messages over `contacts` conversations (texts of 20–200 characters, half sent) into database `name`. */
export async function seed(name: string, messages: number, contacts: number): Promise<number> {
  const store = await open(name);
  const people = Array.from({ length: contacts }, (_, i) => identityFromSeed(new Uint8Array(32).fill(i + 2)));
  for (const [i, p] of people.entries()) {
    await store.putContact({ id: toHex(p.publicKey), displayName: `Contact ${i}`, identityKey: p.publicKey, verification: i % 2 ? 'verified' : 'unverified', addedAt: i });
    const rows = [];
    for (let n = i; n < messages; n += contacts) {
      rows.push({ id: n.toString(16).padStart(32, '0'), direction: n % 2 ? ('out' as const) : ('in' as const), body: `message ${n} `.padEnd(20 + ((n * 37) % 180), 'x'), sentAt: 1_000 + n, status: n % 2 ? ('read' as const) : ('delivered' as const) });
    }
    for (let k = 0; k < rows.length; k += 500) await store.importHistory(toHex(p.publicKey), rows.slice(k, k + 500));
  }
  store.close();
  return messages;
}

/** Makes the backup of database `name` (kept in the page for `restore`); ms and bytes. */
export async function make(name: string): Promise<{ ms: number; bytes: number }> {
  const store = await open(name);
  const list = signDeviceList(account, { version: 1, issuedAt: 1, devices: [{ id: new Uint8Array(16).fill(1), key: identityFromSeed(new Uint8Array(32).fill(90)).publicKey }] });
  const t0 = performance.now();
  backup = await makeBackup(store, { identity: account, name: 'Ada', list }, secret, { runtime });
  const ms = performance.now() - t0;
  store.close();
  return { ms, bytes: backup.length };
}

/** Restores the last backup made into the empty database `name`; ms and messages written. */
export async function restore(name: string): Promise<{ ms: number; messages: number }> {
  if (!backup) throw new Error('make a backup first');
  const store = await open(name);
  const written: string[] = [];
  const device = { id: new Uint8Array(16).fill(2), key: identityFromSeed(new Uint8Array(32).fill(91)).publicKey };
  const t0 = performance.now();
  const totals = await restoreBackup(backup, secret, { runtime, device, now: Date.now(), sink: (step) => writeImportStep(store, step, written) });
  const ms = performance.now() - t0;
  let stored = 0;
  for (const id of written) stored += (await store.pageMessages(id, { limit: 200 })).messages.length > 0 ? 1 : 0;
  store.close();
  if (stored !== written.length) throw new Error(`restored ${stored} of ${written.length} conversations`);
  return { ms, messages: totals.messages };
}
