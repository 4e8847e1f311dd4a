import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RelayConfig } from '../config.ts';

export type SqliteDatabase = Database.Database;

export const DATABASE_FILE = 'relay.sqlite3';

/** The database was written by a newer relay: this one must not touch it. */
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`database schema version ${found} is newer than this relay (${known}); run the newer relay or restore a matching backup`);
  }
}

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
 * Never edit a shipped step: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE envelopes (
     seq          INTEGER PRIMARY KEY AUTOINCREMENT,
     mailbox      BLOB    NOT NULL,
     id           BLOB    NOT NULL,
     body         BLOB    NOT NULL,
     deposited_at INTEGER NOT NULL,
     expires_at   INTEGER NOT NULL,
     UNIQUE (mailbox, id)
   );
   CREATE INDEX envelopes_by_mailbox ON envelopes (mailbox, seq);
   CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);
   CREATE TABLE mailbox_usage (
     mailbox BLOB PRIMARY KEY,
     count   INTEGER NOT NULL,
     bytes   INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TRIGGER envelopes_usage_insert AFTER INSERT ON envelopes BEGIN
     INSERT INTO mailbox_usage (mailbox, count, bytes) VALUES (NEW.mailbox, 1, length(NEW.body))
       ON CONFLICT (mailbox) DO UPDATE SET count = count + 1, bytes = bytes + length(NEW.body);
   END;
   CREATE TRIGGER envelopes_usage_delete AFTER DELETE ON envelopes BEGIN
     UPDATE mailbox_usage SET count = count - 1, bytes = bytes - length(OLD.body) WHERE mailbox = OLD.mailbox;
     DELETE FROM mailbox_usage WHERE mailbox = OLD.mailbox AND count <= 0;
   END;
   CREATE TABLE prekey_identities (
     ik         BLOB PRIMARY KEY,
     spk_id     INTEGER NOT NULL,
     spk_pub    BLOB    NOT NULL,
     spk_sig    BLOB    NOT NULL,
     pqspk_id   INTEGER NOT NULL,
     pqspk_pub  BLOB    NOT NULL,
     pqspk_sig  BLOB    NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE one_time_prekeys (
     ik  BLOB    NOT NULL,
     id  INTEGER NOT NULL,
     pub BLOB    NOT NULL,
     PRIMARY KEY (ik, id)
   ) WITHOUT ROWID;
   CREATE TABLE pq_one_time_prekeys (
     ik  BLOB    NOT NULL,
     id  INTEGER NOT NULL,
     pub BLOB    NOT NULL,
     sig BLOB    NOT NULL,
     PRIMARY KEY (ik, id)
   ) WITHOUT ROWID;`,
  // 2: mailboxes a device has authenticated on (full retention; others keep envelopes for a
  // shorter time), and the bytes stored across all mailboxes (the global storage cap).
  `CREATE TABLE mailbox_claims (
     mailbox    BLOB PRIMARY KEY,
     claimed_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE storage_usage (
     id    INTEGER PRIMARY KEY CHECK (id = 1),
     bytes INTEGER NOT NULL
   );
   INSERT INTO storage_usage (id, bytes) SELECT 1, COALESCE(SUM(length(body)), 0) FROM envelopes;
   CREATE TRIGGER envelopes_storage_insert AFTER INSERT ON envelopes BEGIN
     UPDATE storage_usage SET bytes = bytes + length(NEW.body) WHERE id = 1;
   END;
   CREATE TRIGGER envelopes_storage_delete AFTER DELETE ON envelopes BEGIN
     UPDATE storage_usage SET bytes = bytes - length(OLD.body) WHERE id = 1;
   END;`,
  // Linked devices (docs/PROTOCOL.md §13): each account's signed device list, the keys of
  // the devices it names (device authentication), and the mailboxes of unlinked devices.
  `CREATE TABLE device_lists (
     account    BLOB    PRIMARY KEY,
     version    INTEGER NOT NULL,
     body       BLOB    NOT NULL,
     sig        BLOB    NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE account_devices (
     account    BLOB NOT NULL,
     device_id  BLOB NOT NULL,
     device_key BLOB NOT NULL,
     PRIMARY KEY (account, device_id)
   ) WITHOUT ROWID;
   CREATE TABLE closed_mailboxes (
     mailbox   BLOB    PRIMARY KEY,
     closed_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // Attachment blobs (issue 19): metadata here, bytes in files under <dataDir>/blobs
  // (src/relay/blobs/file-blob-store.ts). Self-contained: touches no earlier table.
  `CREATE TABLE blobs (
     id         BLOB    PRIMARY KEY,
     owner      BLOB    NOT NULL,
     size       INTEGER NOT NULL,
     received   INTEGER NOT NULL,
     recipients INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX blobs_by_owner ON blobs (owner);
   CREATE INDEX blobs_by_expiry ON blobs (expires_at);
   CREATE TABLE blob_acks (
     blob_id BLOB NOT NULL,
     account BLOB NOT NULL,
     PRIMARY KEY (blob_id, account)
   ) WITHOUT ROWID;`,
  // Web Push (issue 20): the relay's VAPID key pair, made once, and one subscription per
  // mailbox (src/relay/push). Self-contained: touches no earlier table.
  `CREATE TABLE push_vapid (
     id          INTEGER PRIMARY KEY CHECK (id = 1),
     public_key  TEXT    NOT NULL,
     private_key TEXT    NOT NULL,
     created_at  INTEGER NOT NULL
   );
   CREATE TABLE push_subscriptions (
     mailbox    BLOB    PRIMARY KEY,
     endpoint   TEXT    NOT NULL,
     p256dh     BLOB    NOT NULL,
     auth       BLOB    NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // Backup vault (issue 17): one encrypted backup per id derived from a recovery key, and
  // SHA-256 of its write token (src/relay/vault). Self-contained: touches no earlier table.
  `CREATE TABLE vaults (
     id         BLOB    PRIMARY KEY,
     write_hash BLOB    NOT NULL,
     blob       BLOB    NOT NULL,
     updated_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX vaults_by_expiry ON vaults (expires_at);`,
  // Attachment recipients (issue 19): the accounts an upload named as its recipients; only
  // they may acknowledge the blob (src/relay/blobs/file-blob-store.ts). A blob without rows
  // here (from before, or an upload that named none) takes any account's acknowledgement.
  `CREATE TABLE blob_recipients (
     blob_id BLOB NOT NULL,
     account BLOB NOT NULL,
     PRIMARY KEY (blob_id, account)
   ) WITHOUT ROWID;`,
  // Group messages (issue 18): a body is stored once per deposit in `bodies` and each
  // recipient mailbox gets a small `envelopes` row referencing it (`refs` counts them; the
  // last delete, by ack, expiry or unlink, deletes the body). Uniqueness is keyed (id,
  // mailbox) rather than (mailbox, id): the rows of one multi-recipient deposit share an id,
  // so their index entries land on one or two pages instead of one page per recipient (the
  // commit's cost is its dirty pages). Per-mailbox usage still counts the body's bytes per
  // envelope (`size`); the global storage measure counts each stored body once. Existing
  // rows keep their seq and get one body each.
  `ALTER TABLE envelopes RENAME TO envelopes_v1;
   DROP TRIGGER envelopes_usage_insert;
   DROP TRIGGER envelopes_usage_delete;
   DROP TRIGGER envelopes_storage_insert;
   DROP TRIGGER envelopes_storage_delete;
   CREATE TABLE bodies (
     ref  INTEGER PRIMARY KEY,
     body BLOB    NOT NULL,
     refs INTEGER NOT NULL
   );
   INSERT INTO bodies (ref, body, refs) SELECT seq, body, 1 FROM envelopes_v1;
   CREATE TABLE envelopes (
     seq          INTEGER PRIMARY KEY AUTOINCREMENT,
     mailbox      BLOB    NOT NULL,
     id           BLOB    NOT NULL,
     ref          INTEGER NOT NULL,
     size         INTEGER NOT NULL,
     deposited_at INTEGER NOT NULL,
     expires_at   INTEGER NOT NULL,
     UNIQUE (id, mailbox)
   );
   INSERT INTO envelopes (seq, mailbox, id, ref, size, deposited_at, expires_at)
     SELECT seq, mailbox, id, seq, length(body), deposited_at, expires_at FROM envelopes_v1;
   DELETE FROM sqlite_sequence WHERE name = 'envelopes';
   INSERT INTO sqlite_sequence (name, seq) SELECT 'envelopes', seq FROM sqlite_sequence WHERE name = 'envelopes_v1';
   DROP TABLE envelopes_v1;
   CREATE INDEX envelopes_by_mailbox ON envelopes (mailbox, seq);
   CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);
   CREATE TRIGGER envelopes_usage_insert AFTER INSERT ON envelopes BEGIN
     INSERT INTO mailbox_usage (mailbox, count, bytes) VALUES (NEW.mailbox, 1, NEW.size)
       ON CONFLICT (mailbox) DO UPDATE SET count = count + 1, bytes = bytes + NEW.size;
   END;
   CREATE TRIGGER envelopes_usage_delete AFTER DELETE ON envelopes BEGIN
     UPDATE mailbox_usage SET count = count - 1, bytes = bytes - OLD.size WHERE mailbox = OLD.mailbox;
     DELETE FROM mailbox_usage WHERE mailbox = OLD.mailbox AND count <= 0;
     UPDATE bodies SET refs = refs - 1 WHERE ref = OLD.ref;
     DELETE FROM bodies WHERE ref = OLD.ref AND refs <= 0;
   END;
   CREATE TRIGGER bodies_storage_insert AFTER INSERT ON bodies BEGIN
     UPDATE storage_usage SET bytes = bytes + length(NEW.body) WHERE id = 1;
   END;
   CREATE TRIGGER bodies_storage_delete AFTER DELETE ON bodies BEGIN
     UPDATE storage_usage SET bytes = bytes - length(OLD.body) WHERE id = 1;
   END;`,
];

/**
 * Opens (creating if needed) the relay database in `dataDir`: WAL journal, the configured
 * `synchronous` level, a busy timeout, and every pending migration in one transaction.
 *
 * Durability: in WAL mode a commit is appended to the -wal file. With synchronous=FULL
 * SQLite fsyncs the WAL on every commit, so an envelope acknowledged with `sent` survives
 * a power cut; with NORMAL it survives a process crash (the write reached the OS) but
 * not necessarily a power cut. FULL is the default; deposits are group-committed so the
 * fsync cost is shared by every envelope that arrived in the same event-loop turn.
 */
export function openDatabase(dataDir: string, synchronous: RelayConfig['dbSynchronous']): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dataDir, DATABASE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    db.pragma('busy_timeout = 5000');
    db.pragma('secure_delete = ON');
    const applied = db.pragma('user_version', { simple: true }) as number;
    if (applied > MIGRATIONS.length) throw new SchemaTooNewError(applied, MIGRATIONS.length);
    db.transaction(() => {
      for (let i = applied; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    })();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
