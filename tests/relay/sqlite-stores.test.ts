import { rmSync } from 'node:fs';
import { FileBlobStore } from '../../src/relay/blobs/file-blob-store.ts';
import { SqliteMailboxStore } from '../../src/relay/mailbox/sqlite-mailbox-store.ts';
import { SqlitePreKeyStore } from '../../src/relay/prekeys/sqlite-prekey-store.ts';
import { openDatabase } from '../../src/relay/storage/sqlite-database.ts';
import { describeBlobStoreContract } from './contracts/blob-store.contract.ts';
import { describeMailboxStoreContract } from './contracts/mailbox-store.contract.ts';
import { describePreKeyStoreContract } from './contracts/prekey-store.contract.ts';
import { describeDeviceStoreContract } from './contracts/device-store.contract.ts';
import { SqliteDeviceStore } from '../../src/relay/devices/sqlite-device-store.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { describePushStoreContract } from './contracts/push-store.contract.ts';
import { SqlitePushStore } from '../../src/relay/push/sqlite-push-store.ts';

function sqlite() {
  const dir = tempDataDir();
  const db = openDatabase(dir, 'FULL');
  return {
    db,
    dispose: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeMailboxStoreContract('SQLite', async (limits) => {
  const { db, dispose } = sqlite();
  return { store: new SqliteMailboxStore(db, limits), dispose };
});

describePreKeyStoreContract('SQLite', async () => {
  const { db, dispose } = sqlite();
  return { store: new SqlitePreKeyStore(db), dispose };
});

describeDeviceStoreContract('SQLite', async () => {
  const { db, dispose } = sqlite();
  const limits = { maxEnvelopes: 1000, maxBytes: 10_000_000, retentionMs: 1e9 };
  return { devices: new SqliteDeviceStore(db), mailboxes: new SqliteMailboxStore(db, limits), prekeys: new SqlitePreKeyStore(db), dispose };
});

describeBlobStoreContract('files + SQLite', async (limits) => {
  const dir = tempDataDir();
  const db = openDatabase(dir, 'FULL');
  return {
    store: new FileBlobStore(db, dir, limits),
    dispose: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describePushStoreContract('SQLite', async () => {
  // Two opens of one data dir: what a restarted relay finds.
  const dir = tempDataDir();
  const a = openDatabase(dir, 'FULL');
  const b = openDatabase(dir, 'FULL');
  return {
    stores: [new SqlitePushStore(a), new SqlitePushStore(b)],
    dispose: async () => {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
