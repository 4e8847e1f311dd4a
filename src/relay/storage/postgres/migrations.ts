/**
 * PostgreSQL schema, as numbered forward-only steps. Step N is applied once, in its own
 * transaction, and recorded in `petrel_schema_migrations`. Never edit a shipped step:
 * append a new one.
 *
 * Why a server-side function for the write path: the relay's group commit stores a batch
 * of deposits and acks in ONE transaction, and a client that sent one statement per
 * envelope would pay a network round trip each. `petrel_commit` takes the whole batch as
 * arrays and returns one row per outcome: one round trip, one commit, one WAL flush.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE envelopes (
     seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     mailbox      bytea  NOT NULL,
     id           bytea  NOT NULL,
     body         bytea  NOT NULL,
     deposited_at bigint NOT NULL,
     expires_at   bigint NOT NULL,
     UNIQUE (mailbox, id)
   );
   -- Sealed bodies do not compress: do not try.
   ALTER TABLE envelopes ALTER COLUMN body SET STORAGE EXTERNAL;
   CREATE INDEX envelopes_by_mailbox ON envelopes (mailbox, seq);
   CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);

   -- One row per mailbox ever deposited to. Its row lock serialises the writers of one
   -- mailbox across nodes, so seq order is commit order within a mailbox; last_seq lets a
   -- node tell whether a notified envelope directly follows the one it pushed last.
   CREATE TABLE mailbox_usage (
     mailbox  bytea  PRIMARY KEY,
     count    integer NOT NULL,
     bytes    bigint  NOT NULL,
     last_seq bigint  NOT NULL
   );

   -- Mailboxes a device has authenticated on: their envelopes keep the full retention,
   -- those of never-claimed mailboxes a shorter one.
   CREATE TABLE mailbox_claims (
     mailbox    bytea  PRIMARY KEY,
     claimed_at bigint NOT NULL
   );

   -- Bytes of bodies stored across all mailboxes (the global storage cap), in 16 shards:
   -- each transaction adds to the shard of its backend, so nodes committing at the same
   -- time do not queue on one counter row. The cap check reads the sum without locking,
   -- so concurrent batches may overshoot it by at most what they carry.
   CREATE TABLE storage_usage (
     shard integer PRIMARY KEY,
     bytes bigint  NOT NULL
   );
   INSERT INTO storage_usage (shard, bytes) SELECT g, 0 FROM generate_series(0, 15) AS g;

   CREATE TABLE prekey_identities (
     ik         bytea   PRIMARY KEY,
     spk_id     integer NOT NULL,
     spk_pub    bytea   NOT NULL,
     spk_sig    bytea   NOT NULL,
     pqspk_id   integer NOT NULL,
     pqspk_pub  bytea   NOT NULL,
     pqspk_sig  bytea   NOT NULL,
     updated_at bigint  NOT NULL
   );
   CREATE TABLE one_time_prekeys (
     ik  bytea   NOT NULL,
     id  bigint  NOT NULL,
     pub bytea   NOT NULL,
     PRIMARY KEY (ik, id)
   );
   CREATE TABLE pq_one_time_prekeys (
     ik  bytea   NOT NULL,
     id  bigint  NOT NULL,
     pub bytea   NOT NULL,
     sig bytea   NOT NULL,
     PRIMARY KEY (ik, id)
   );

   -- The group commit. The byte strings of the batch come as ONE bytea (sent in binary,
   -- so a 1 KiB body is neither hex-encoded by the client nor parsed by the server) with
   -- their lengths: d_blob holds mailbox, id, body of each deposit (d_lens: three lengths
   -- per deposit), a_blob mailbox, id of each acked id (a_lens: two per id; a_req: the ack
   -- request it belongs to). Outcome rows: kind 'd' (deposit i: outcome 0 stored, 1
   -- duplicate, 2 mailbox_full; seq; prev = the mailbox's previous seq) and kind 'a' (ack
   -- request i: one row per deleted envelope with its deposit time); outcome 3 is
   -- storage_full (max_total_bytes > 0 and the store would pass it); step 4 adds outcome
   -- 4, device_unlinked (the mailbox is closed).
   CREATE FUNCTION petrel_commit(
     d_blob bytea, d_lens integer[], a_blob bytea, a_lens integer[], a_req integer[],
     now_ms bigint, retention_ms bigint, unclaimed_retention_ms bigint,
     max_envelopes integer, max_bytes bigint, max_total_bytes bigint)
   RETURNS TABLE (r_kind text, r_idx integer, r_outcome integer, r_seq bigint, r_prev bigint, r_at bigint)
   LANGUAGE plpgsql AS $fn$
   DECLARE
     i integer;
     off integer := 1;
     u record;
     existing bigint;
     new_seq bigint;
     gone record;
     d_mailbox bytea[] := '{}';
     d_id bytea[] := '{}';
     d_body bytea[] := '{}';
     a_mailbox bytea[] := '{}';
     a_id bytea[] := '{}';
     total bigint := 0;
     delta bigint := 0;
     len integer;
   BEGIN
     IF max_total_bytes > 0 THEN
       SELECT coalesce(sum(su.bytes), 0) INTO total FROM storage_usage su;
     END IF;
     FOR i IN 1 .. coalesce(array_length(d_lens, 1), 0) / 3 LOOP
       d_mailbox[i] := substring(d_blob FROM off FOR d_lens[3 * i - 2]);
       off := off + d_lens[3 * i - 2];
       d_id[i] := substring(d_blob FROM off FOR d_lens[3 * i - 1]);
       off := off + d_lens[3 * i - 1];
       d_body[i] := substring(d_blob FROM off FOR d_lens[3 * i]);
       off := off + d_lens[3 * i];
     END LOOP;
     off := 1;
     FOR i IN 1 .. coalesce(array_length(a_lens, 1), 0) / 2 LOOP
       a_mailbox[i] := substring(a_blob FROM off FOR a_lens[2 * i - 1]);
       off := off + a_lens[2 * i - 1];
       a_id[i] := substring(a_blob FROM off FOR a_lens[2 * i]);
       off := off + a_lens[2 * i];
     END LOOP;

     -- Lock every mailbox the batch touches in one global order (concurrent batches on
     -- other nodes then cannot deadlock), creating the rows of new mailboxes first.
     INSERT INTO mailbox_usage (mailbox, count, bytes, last_seq)
       SELECT m, 0, 0, 0 FROM (SELECT DISTINCT m FROM unnest(d_mailbox) AS m) AS x ORDER BY m
       ON CONFLICT (mailbox) DO NOTHING;
     PERFORM 1 FROM mailbox_usage WHERE mailbox = ANY (d_mailbox || a_mailbox) ORDER BY mailbox FOR UPDATE;

     FOR i IN 1 .. coalesce(array_length(d_mailbox, 1), 0) LOOP
       SELECT e.seq INTO existing FROM envelopes e WHERE e.mailbox = d_mailbox[i] AND e.id = d_id[i];
       IF FOUND THEN
         r_kind := 'd'; r_idx := i; r_outcome := 1; r_seq := existing; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       SELECT mu.count, mu.bytes, mu.last_seq INTO u FROM mailbox_usage mu WHERE mu.mailbox = d_mailbox[i];
       len := octet_length(d_body[i]);
       IF u.count + 1 > max_envelopes OR u.bytes + len > max_bytes THEN
         r_kind := 'd'; r_idx := i; r_outcome := 2; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       IF max_total_bytes > 0 AND total + delta + len > max_total_bytes THEN
         r_kind := 'd'; r_idx := i; r_outcome := 3; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       INSERT INTO envelopes (mailbox, id, body, deposited_at, expires_at)
         VALUES (d_mailbox[i], d_id[i], d_body[i], now_ms, now_ms + CASE
           WHEN EXISTS (SELECT 1 FROM mailbox_claims c WHERE c.mailbox = d_mailbox[i]) THEN retention_ms
           ELSE unclaimed_retention_ms END)
         RETURNING envelopes.seq INTO new_seq;
       delta := delta + len;
       UPDATE mailbox_usage mu SET count = mu.count + 1, bytes = mu.bytes + octet_length(d_body[i]), last_seq = new_seq
         WHERE mu.mailbox = d_mailbox[i];
       r_kind := 'd'; r_idx := i; r_outcome := 0; r_seq := new_seq; r_prev := u.last_seq; r_at := NULL;
       RETURN NEXT;
     END LOOP;

     FOR gone IN
       DELETE FROM envelopes e
         USING (SELECT DISTINCT req, mailbox, id FROM unnest(a_req, a_mailbox, a_id) AS t(req, mailbox, id)) AS a
         WHERE e.mailbox = a.mailbox AND e.id = a.id
         RETURNING a.req AS req, e.mailbox AS mailbox, e.deposited_at AS at, octet_length(e.body) AS len
     LOOP
       UPDATE mailbox_usage mu SET count = mu.count - 1, bytes = mu.bytes - gone.len WHERE mu.mailbox = gone.mailbox;
       delta := delta - gone.len;
       r_kind := 'a'; r_idx := gone.req; r_outcome := 0; r_seq := NULL; r_prev := NULL; r_at := gone.at;
       RETURN NEXT;
     END LOOP;
     -- Last, so this shard row is locked only for the commit itself.
     IF delta <> 0 THEN
       UPDATE storage_usage SET bytes = bytes + delta WHERE shard = pg_backend_pid() % 16;
     END IF;
   END
   $fn$;

   -- Retention sweep. One node at a time sweeps (the others find the lock taken and skip);
   -- mailboxes are locked in the same order as petrel_commit locks them.
   CREATE FUNCTION petrel_expire(now_ms bigint) RETURNS bigint
   LANGUAGE plpgsql AS $fn$
   DECLARE
     n bigint;
     freed bigint;
   BEGIN
     IF NOT pg_try_advisory_xact_lock(7321500102) THEN
       RETURN 0;
     END IF;
     PERFORM 1 FROM mailbox_usage
       WHERE mailbox IN (SELECT DISTINCT e.mailbox FROM envelopes e WHERE e.expires_at <= now_ms)
       ORDER BY mailbox FOR UPDATE;
     WITH gone AS (
       DELETE FROM envelopes e WHERE e.expires_at <= now_ms RETURNING e.mailbox, octet_length(e.body) AS len
     ), per_mailbox AS (
       SELECT g.mailbox, count(*) AS c, sum(g.len) AS b FROM gone g GROUP BY g.mailbox
     ), updated AS (
       UPDATE mailbox_usage mu SET count = mu.count - p.c, bytes = mu.bytes - p.b
         FROM per_mailbox p WHERE mu.mailbox = p.mailbox RETURNING p.c, p.b
     )
     SELECT coalesce(sum(c), 0), coalesce(sum(b), 0) INTO n, freed FROM updated;
     IF freed <> 0 THEN
       UPDATE storage_usage SET bytes = bytes - freed WHERE shard = pg_backend_pid() % 16;
     END IF;
     RETURN n;
   END
   $fn$;

   -- The first authentication on a mailbox: record it and give what already waits there
   -- the full retention. The mailbox's usage row lock orders it with concurrent deposits.
   CREATE FUNCTION petrel_claim(m bytea, now_ms bigint, retention_ms bigint) RETURNS void
   LANGUAGE plpgsql AS $fn$
   BEGIN
     PERFORM 1 FROM mailbox_usage WHERE mailbox = m FOR UPDATE;
     INSERT INTO mailbox_claims (mailbox, claimed_at) VALUES (m, now_ms) ON CONFLICT (mailbox) DO NOTHING;
     IF FOUND THEN
       UPDATE envelopes SET expires_at = deposited_at + retention_ms WHERE mailbox = m;
     END IF;
   END
   $fn$;`,
  // Linked devices (docs/PROTOCOL.md §13): each account's signed device list, the keys of
  // the devices it names (device authentication), and the mailboxes of unlinked devices.
  `CREATE TABLE device_lists (
     account    bytea   PRIMARY KEY,
     version    bigint  NOT NULL,
     body       bytea   NOT NULL,
     sig        bytea   NOT NULL,
     updated_at bigint  NOT NULL
   );
   CREATE TABLE account_devices (
     account    bytea NOT NULL,
     device_id  bytea NOT NULL,
     device_key bytea NOT NULL,
     PRIMARY KEY (account, device_id)
   );
   CREATE TABLE closed_mailboxes (
     mailbox   bytea  PRIMARY KEY,
     closed_at bigint NOT NULL
   );`,
  // Attachment blobs (issue 19): metadata and bytes, so every node reaches every blob
  // (src/relay/blobs/postgres-blob-store.ts). Self-contained: touches no earlier table.
  `CREATE TABLE blobs (
     id         bytea   PRIMARY KEY,
     owner      bytea   NOT NULL,
     size       bigint  NOT NULL,
     received   bigint  NOT NULL,
     recipients integer NOT NULL,
     created_at bigint  NOT NULL,
     expires_at bigint  NOT NULL
   );
   CREATE INDEX blobs_by_owner ON blobs (owner);
   CREATE INDEX blobs_by_expiry ON blobs (expires_at);
   -- One row per uploaded chunk, keyed by where it starts; ciphertext does not compress.
   CREATE TABLE blob_chunks (
     blob_id      bytea  NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
     start_offset bigint NOT NULL,
     data         bytea  NOT NULL,
     PRIMARY KEY (blob_id, start_offset)
   );
   ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
   CREATE TABLE blob_acks (
     blob_id bytea NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
     account bytea NOT NULL,
     PRIMARY KEY (blob_id, account)
   );`,
  // The group commit refuses deposits to closed mailboxes (unlinked devices, §13.4) with
  // outcome 4, inside the transaction and after the mailbox's row lock, which an unlink
  // takes too: no deposit can land in a mailbox an unlink has just closed, and a deposit
  // costs no extra round trip for the check. Otherwise step 1's function unchanged.
  `CREATE OR REPLACE FUNCTION petrel_commit(
     d_blob bytea, d_lens integer[], a_blob bytea, a_lens integer[], a_req integer[],
     now_ms bigint, retention_ms bigint, unclaimed_retention_ms bigint,
     max_envelopes integer, max_bytes bigint, max_total_bytes bigint)
   RETURNS TABLE (r_kind text, r_idx integer, r_outcome integer, r_seq bigint, r_prev bigint, r_at bigint)
   LANGUAGE plpgsql AS $fn$
   DECLARE
     i integer;
     off integer := 1;
     u record;
     existing bigint;
     new_seq bigint;
     gone record;
     d_mailbox bytea[] := '{}';
     d_id bytea[] := '{}';
     d_body bytea[] := '{}';
     a_mailbox bytea[] := '{}';
     a_id bytea[] := '{}';
     total bigint := 0;
     delta bigint := 0;
     len integer;
   BEGIN
     IF max_total_bytes > 0 THEN
       SELECT coalesce(sum(su.bytes), 0) INTO total FROM storage_usage su;
     END IF;
     FOR i IN 1 .. coalesce(array_length(d_lens, 1), 0) / 3 LOOP
       d_mailbox[i] := substring(d_blob FROM off FOR d_lens[3 * i - 2]);
       off := off + d_lens[3 * i - 2];
       d_id[i] := substring(d_blob FROM off FOR d_lens[3 * i - 1]);
       off := off + d_lens[3 * i - 1];
       d_body[i] := substring(d_blob FROM off FOR d_lens[3 * i]);
       off := off + d_lens[3 * i];
     END LOOP;
     off := 1;
     FOR i IN 1 .. coalesce(array_length(a_lens, 1), 0) / 2 LOOP
       a_mailbox[i] := substring(a_blob FROM off FOR a_lens[2 * i - 1]);
       off := off + a_lens[2 * i - 1];
       a_id[i] := substring(a_blob FROM off FOR a_lens[2 * i]);
       off := off + a_lens[2 * i];
     END LOOP;

     -- Lock every mailbox the batch touches in one global order (concurrent batches on
     -- other nodes then cannot deadlock), creating the rows of new mailboxes first.
     INSERT INTO mailbox_usage (mailbox, count, bytes, last_seq)
       SELECT m, 0, 0, 0 FROM (SELECT DISTINCT m FROM unnest(d_mailbox) AS m) AS x ORDER BY m
       ON CONFLICT (mailbox) DO NOTHING;
     PERFORM 1 FROM mailbox_usage WHERE mailbox = ANY (d_mailbox || a_mailbox) ORDER BY mailbox FOR UPDATE;

     FOR i IN 1 .. coalesce(array_length(d_mailbox, 1), 0) LOOP
       -- After the mailbox lock: an unlink holds the same lock while it closes the mailbox.
       IF EXISTS (SELECT 1 FROM closed_mailboxes c WHERE c.mailbox = d_mailbox[i]) THEN
         r_kind := 'd'; r_idx := i; r_outcome := 4; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       SELECT e.seq INTO existing FROM envelopes e WHERE e.mailbox = d_mailbox[i] AND e.id = d_id[i];
       IF FOUND THEN
         r_kind := 'd'; r_idx := i; r_outcome := 1; r_seq := existing; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       SELECT mu.count, mu.bytes, mu.last_seq INTO u FROM mailbox_usage mu WHERE mu.mailbox = d_mailbox[i];
       len := octet_length(d_body[i]);
       IF u.count + 1 > max_envelopes OR u.bytes + len > max_bytes THEN
         r_kind := 'd'; r_idx := i; r_outcome := 2; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       IF max_total_bytes > 0 AND total + delta + len > max_total_bytes THEN
         r_kind := 'd'; r_idx := i; r_outcome := 3; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       INSERT INTO envelopes (mailbox, id, body, deposited_at, expires_at)
         VALUES (d_mailbox[i], d_id[i], d_body[i], now_ms, now_ms + CASE
           WHEN EXISTS (SELECT 1 FROM mailbox_claims c WHERE c.mailbox = d_mailbox[i]) THEN retention_ms
           ELSE unclaimed_retention_ms END)
         RETURNING envelopes.seq INTO new_seq;
       delta := delta + len;
       UPDATE mailbox_usage mu SET count = mu.count + 1, bytes = mu.bytes + octet_length(d_body[i]), last_seq = new_seq
         WHERE mu.mailbox = d_mailbox[i];
       r_kind := 'd'; r_idx := i; r_outcome := 0; r_seq := new_seq; r_prev := u.last_seq; r_at := NULL;
       RETURN NEXT;
     END LOOP;

     FOR gone IN
       DELETE FROM envelopes e
         USING (SELECT DISTINCT req, mailbox, id FROM unnest(a_req, a_mailbox, a_id) AS t(req, mailbox, id)) AS a
         WHERE e.mailbox = a.mailbox AND e.id = a.id
         RETURNING a.req AS req, e.mailbox AS mailbox, e.deposited_at AS at, octet_length(e.body) AS len
     LOOP
       UPDATE mailbox_usage mu SET count = mu.count - 1, bytes = mu.bytes - gone.len WHERE mu.mailbox = gone.mailbox;
       delta := delta - gone.len;
       r_kind := 'a'; r_idx := gone.req; r_outcome := 0; r_seq := NULL; r_prev := NULL; r_at := gone.at;
       RETURN NEXT;
     END LOOP;
     -- Last, so this shard row is locked only for the commit itself.
     IF delta <> 0 THEN
       UPDATE storage_usage SET bytes = bytes + delta WHERE shard = pg_backend_pid() % 16;
     END IF;
   END
   $fn$;`,  // Web Push (issue 20): one VAPID key pair for the cluster and one subscription per
  // mailbox (src/relay/push). Self-contained: touches no earlier table.
  `CREATE TABLE push_vapid (
     id          integer PRIMARY KEY CHECK (id = 1),
     public_key  text    NOT NULL,
     private_key text    NOT NULL,
     created_at  bigint  NOT NULL
   );
   CREATE TABLE push_subscriptions (
     mailbox    bytea  PRIMARY KEY,
     endpoint   text   NOT NULL,
     p256dh     bytea  NOT NULL,
     auth       bytea  NOT NULL,
     updated_at bigint NOT NULL
   );`,
  // Backup vault (issue 17): one encrypted backup per id derived from a recovery key, and
  // SHA-256 of its write token (src/relay/vault). Self-contained: touches no earlier table.
  `CREATE TABLE vaults (
     id         bytea  PRIMARY KEY,
     write_hash bytea  NOT NULL,
     blob       bytea  NOT NULL,
     updated_at bigint NOT NULL,
     expires_at bigint NOT NULL
   );
   CREATE INDEX vaults_by_expiry ON vaults (expires_at);`,
  // Attachment recipients (issue 19): the accounts an upload named as its recipients; only
  // they may acknowledge the blob (src/relay/blobs/postgres-blob-store.ts).
  `CREATE TABLE blob_recipients (
     blob_id bytea NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
     account bytea NOT NULL,
     PRIMARY KEY (blob_id, account)
   );`,
  // The group commit also checks the device list a deposit was fanned out under (`dl`,
  // §13.5): outcome 5 (r_seq = the stored version) when the account's stored list is newer,
  // inside the transaction, after a shared lock on the list row taken before the mailbox
  // locks (a publish takes the row first too). A new overload with two more parameters
  // (dl_ik, dl_v; dl_v -1 = no check): nodes still calling the 11-parameter one keep it.
  `CREATE OR REPLACE FUNCTION petrel_commit(
     d_blob bytea, d_lens integer[], a_blob bytea, a_lens integer[], a_req integer[],
     now_ms bigint, retention_ms bigint, unclaimed_retention_ms bigint,
     max_envelopes integer, max_bytes bigint, max_total_bytes bigint,
     dl_ik bytea[], dl_v bigint[])
   RETURNS TABLE (r_kind text, r_idx integer, r_outcome integer, r_seq bigint, r_prev bigint, r_at bigint)
   LANGUAGE plpgsql AS $fn$
   DECLARE
     i integer;
     off integer := 1;
     u record;
     existing bigint;
     new_seq bigint;
     gone record;
     d_mailbox bytea[] := '{}';
     d_id bytea[] := '{}';
     d_body bytea[] := '{}';
     a_mailbox bytea[] := '{}';
     a_id bytea[] := '{}';
     total bigint := 0;
     delta bigint := 0;
     len integer;
     listed bigint;
   BEGIN
     IF max_total_bytes > 0 THEN
       SELECT coalesce(sum(su.bytes), 0) INTO total FROM storage_usage su;
     END IF;
     FOR i IN 1 .. coalesce(array_length(d_lens, 1), 0) / 3 LOOP
       d_mailbox[i] := substring(d_blob FROM off FOR d_lens[3 * i - 2]);
       off := off + d_lens[3 * i - 2];
       d_id[i] := substring(d_blob FROM off FOR d_lens[3 * i - 1]);
       off := off + d_lens[3 * i - 1];
       d_body[i] := substring(d_blob FROM off FOR d_lens[3 * i]);
       off := off + d_lens[3 * i];
     END LOOP;
     off := 1;
     FOR i IN 1 .. coalesce(array_length(a_lens, 1), 0) / 2 LOOP
       a_mailbox[i] := substring(a_blob FROM off FOR a_lens[2 * i - 1]);
       off := off + a_lens[2 * i - 1];
       a_id[i] := substring(a_blob FROM off FOR a_lens[2 * i]);
       off := off + a_lens[2 * i];
     END LOOP;

     -- The device lists the deposits were fanned out under, locked (shared) before any
     -- mailbox, as a publish locks its list row before the mailboxes it closes: a publish
     -- either commits before this check (and the deposit is refused stale) or waits for it.
     PERFORM 1 FROM device_lists l WHERE l.account = ANY (dl_ik) ORDER BY l.account FOR SHARE;
     -- Lock every mailbox the batch touches in one global order (concurrent batches on
     -- other nodes then cannot deadlock), creating the rows of new mailboxes first.
     INSERT INTO mailbox_usage (mailbox, count, bytes, last_seq)
       SELECT m, 0, 0, 0 FROM (SELECT DISTINCT m FROM unnest(d_mailbox) AS m) AS x ORDER BY m
       ON CONFLICT (mailbox) DO NOTHING;
     PERFORM 1 FROM mailbox_usage WHERE mailbox = ANY (d_mailbox || a_mailbox) ORDER BY mailbox FOR UPDATE;

     FOR i IN 1 .. coalesce(array_length(d_mailbox, 1), 0) LOOP
       -- After the mailbox lock: an unlink holds the same lock while it closes the mailbox.
       IF EXISTS (SELECT 1 FROM closed_mailboxes c WHERE c.mailbox = d_mailbox[i]) THEN
         r_kind := 'd'; r_idx := i; r_outcome := 4; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       IF dl_v[i] >= 0 THEN
         SELECT l.version INTO listed FROM device_lists l WHERE l.account = dl_ik[i];
         IF FOUND AND listed > dl_v[i] THEN
           r_kind := 'd'; r_idx := i; r_outcome := 5; r_seq := listed; r_prev := NULL; r_at := NULL;
           RETURN NEXT;
           CONTINUE;
         END IF;
       END IF;
       SELECT e.seq INTO existing FROM envelopes e WHERE e.mailbox = d_mailbox[i] AND e.id = d_id[i];
       IF FOUND THEN
         r_kind := 'd'; r_idx := i; r_outcome := 1; r_seq := existing; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       SELECT mu.count, mu.bytes, mu.last_seq INTO u FROM mailbox_usage mu WHERE mu.mailbox = d_mailbox[i];
       len := octet_length(d_body[i]);
       IF u.count + 1 > max_envelopes OR u.bytes + len > max_bytes THEN
         r_kind := 'd'; r_idx := i; r_outcome := 2; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       IF max_total_bytes > 0 AND total + delta + len > max_total_bytes THEN
         r_kind := 'd'; r_idx := i; r_outcome := 3; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       INSERT INTO envelopes (mailbox, id, body, deposited_at, expires_at)
         VALUES (d_mailbox[i], d_id[i], d_body[i], now_ms, now_ms + CASE
           WHEN EXISTS (SELECT 1 FROM mailbox_claims c WHERE c.mailbox = d_mailbox[i]) THEN retention_ms
           ELSE unclaimed_retention_ms END)
         RETURNING envelopes.seq INTO new_seq;
       delta := delta + len;
       UPDATE mailbox_usage mu SET count = mu.count + 1, bytes = mu.bytes + octet_length(d_body[i]), last_seq = new_seq
         WHERE mu.mailbox = d_mailbox[i];
       r_kind := 'd'; r_idx := i; r_outcome := 0; r_seq := new_seq; r_prev := u.last_seq; r_at := NULL;
       RETURN NEXT;
     END LOOP;

     FOR gone IN
       DELETE FROM envelopes e
         USING (SELECT DISTINCT req, mailbox, id FROM unnest(a_req, a_mailbox, a_id) AS t(req, mailbox, id)) AS a
         WHERE e.mailbox = a.mailbox AND e.id = a.id
         RETURNING a.req AS req, e.mailbox AS mailbox, e.deposited_at AS at, octet_length(e.body) AS len
     LOOP
       UPDATE mailbox_usage mu SET count = mu.count - 1, bytes = mu.bytes - gone.len WHERE mu.mailbox = gone.mailbox;
       delta := delta - gone.len;
       r_kind := 'a'; r_idx := gone.req; r_outcome := 0; r_seq := NULL; r_prev := NULL; r_at := gone.at;
       RETURN NEXT;
     END LOOP;
     -- Last, so this shard row is locked only for the commit itself.
     IF delta <> 0 THEN
       UPDATE storage_usage SET bytes = bytes + delta WHERE shard = pg_backend_pid() % 16;
     END IF;
   END
   $fn$;`,
  // Group messages (issue 18): a body is stored once per group commit in `bodies`, however
  // many mailboxes it goes to; each envelope references it (`ref`) and keeps its size for
  // the mailbox's quota. `refs` counts the envelopes referencing a body: every path that
  // deletes envelopes (ack, retention, unlink) releases them through petrel_release, which
  // deletes the body with its last envelope, so the global storage measure counts each
  // body once. Existing envelopes get one body each (ref = seq). This step changes the
  // envelopes table and petrel_commit's parameters: every node must run this relay version.
  `CREATE TABLE bodies (
     ref  bigint  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
     body bytea   NOT NULL,
     refs integer NOT NULL
   );
   ALTER TABLE bodies ALTER COLUMN body SET STORAGE EXTERNAL;
   INSERT INTO bodies (ref, body, refs) SELECT seq, body, 1 FROM envelopes;
   SELECT setval(pg_get_serial_sequence('bodies', 'ref'), greatest((SELECT max(ref) FROM bodies), 1));
   ALTER TABLE envelopes ADD COLUMN ref bigint, ADD COLUMN size integer;
   UPDATE envelopes SET ref = seq, size = octet_length(body);
   ALTER TABLE envelopes ALTER COLUMN ref SET NOT NULL, ALTER COLUMN size SET NOT NULL, DROP COLUMN body;
   CREATE INDEX envelopes_by_ref ON envelopes (ref);
   DROP FUNCTION petrel_commit(bytea, integer[], bytea, integer[], integer[], bigint, bigint, bigint, integer, bigint, bigint);
   DROP FUNCTION petrel_commit(bytea, integer[], bytea, integer[], integer[], bigint, bigint, bigint, integer, bigint, bigint, bytea[], bigint[]);

   -- Releases one reference per element of gone (refs of deleted envelopes, repeated
   -- per envelope); returns the bytes of the bodies that lost their last reference and were
   -- deleted. Body rows are locked in ref order (concurrent releases cannot deadlock) and
   -- each count is lowered on the latest row version, so two transactions releasing the
   -- last two references of one body always leave it deleted.
   CREATE FUNCTION petrel_release(gone bigint[]) RETURNS bigint
   LANGUAGE plpgsql AS $fn$
   DECLARE
     r record;
     left_refs integer;
     len bigint;
     freed bigint := 0;
   BEGIN
     FOR r IN SELECT g AS ref, count(*)::integer AS n FROM unnest(gone) AS g GROUP BY g ORDER BY g LOOP
       UPDATE bodies b SET refs = b.refs - r.n WHERE b.ref = r.ref RETURNING b.refs INTO left_refs;
       IF FOUND AND left_refs <= 0 THEN
         DELETE FROM bodies b WHERE b.ref = r.ref RETURNING octet_length(b.body) INTO len;
         freed := freed + len;
       END IF;
     END LOOP;
     RETURN freed;
   END
   $fn$;

   -- The group commit (steps 1, 4 and 7) with bodies stored once: b_blob holds each distinct
   -- body of the batch once (b_lens: its length), d_blob the mailbox and id of each deposit
   -- (d_lens: two lengths per deposit) and d_body the body each deposit carries (1-based
   -- index into the bodies). A body is inserted with the first deposit that stores it;
   -- its reference count is set once, after the deposits. Outcomes as in step 7.
   CREATE FUNCTION petrel_commit(
     d_blob bytea, d_lens integer[], d_body integer[], b_blob bytea, b_lens integer[],
     a_blob bytea, a_lens integer[], a_req integer[],
     now_ms bigint, retention_ms bigint, unclaimed_retention_ms bigint,
     max_envelopes integer, max_bytes bigint, max_total_bytes bigint,
     dl_ik bytea[], dl_v bigint[])
   RETURNS TABLE (r_kind text, r_idx integer, r_outcome integer, r_seq bigint, r_prev bigint, r_at bigint)
   LANGUAGE plpgsql AS $fn$
   DECLARE
     i integer;
     k integer;
     off integer := 1;
     u record;
     existing bigint;
     new_seq bigint;
     new_ref bigint;
     gone record;
     d_mailbox bytea[] := '{}';
     d_id bytea[] := '{}';
     b_body bytea[] := '{}';
     b_ref bigint[] := '{}';
     b_refs integer[] := '{}';
     a_mailbox bytea[] := '{}';
     a_id bytea[] := '{}';
     released bigint[] := '{}';
     total bigint := 0;
     delta bigint := 0;
     len integer;
     listed bigint;
   BEGIN
     IF max_total_bytes > 0 THEN
       SELECT coalesce(sum(su.bytes), 0) INTO total FROM storage_usage su;
     END IF;
     FOR i IN 1 .. coalesce(array_length(b_lens, 1), 0) LOOP
       b_body[i] := substring(b_blob FROM off FOR b_lens[i]);
       off := off + b_lens[i];
       b_refs[i] := 0;
     END LOOP;
     off := 1;
     FOR i IN 1 .. coalesce(array_length(d_lens, 1), 0) / 2 LOOP
       d_mailbox[i] := substring(d_blob FROM off FOR d_lens[2 * i - 1]);
       off := off + d_lens[2 * i - 1];
       d_id[i] := substring(d_blob FROM off FOR d_lens[2 * i]);
       off := off + d_lens[2 * i];
     END LOOP;
     off := 1;
     FOR i IN 1 .. coalesce(array_length(a_lens, 1), 0) / 2 LOOP
       a_mailbox[i] := substring(a_blob FROM off FOR a_lens[2 * i - 1]);
       off := off + a_lens[2 * i - 1];
       a_id[i] := substring(a_blob FROM off FOR a_lens[2 * i]);
       off := off + a_lens[2 * i];
     END LOOP;

     -- Device lists (shared) before mailboxes, mailboxes in one global order: as in step 7.
     PERFORM 1 FROM device_lists l WHERE l.account = ANY (dl_ik) ORDER BY l.account FOR SHARE;
     INSERT INTO mailbox_usage (mailbox, count, bytes, last_seq)
       SELECT m, 0, 0, 0 FROM (SELECT DISTINCT m FROM unnest(d_mailbox) AS m) AS x ORDER BY m
       ON CONFLICT (mailbox) DO NOTHING;
     PERFORM 1 FROM mailbox_usage WHERE mailbox = ANY (d_mailbox || a_mailbox) ORDER BY mailbox FOR UPDATE;

     FOR i IN 1 .. coalesce(array_length(d_mailbox, 1), 0) LOOP
       IF EXISTS (SELECT 1 FROM closed_mailboxes c WHERE c.mailbox = d_mailbox[i]) THEN
         r_kind := 'd'; r_idx := i; r_outcome := 4; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       IF dl_v[i] >= 0 THEN
         SELECT l.version INTO listed FROM device_lists l WHERE l.account = dl_ik[i];
         IF FOUND AND listed > dl_v[i] THEN
           r_kind := 'd'; r_idx := i; r_outcome := 5; r_seq := listed; r_prev := NULL; r_at := NULL;
           RETURN NEXT;
           CONTINUE;
         END IF;
       END IF;
       SELECT e.seq INTO existing FROM envelopes e WHERE e.mailbox = d_mailbox[i] AND e.id = d_id[i];
       IF FOUND THEN
         r_kind := 'd'; r_idx := i; r_outcome := 1; r_seq := existing; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       k := d_body[i];
       SELECT mu.count, mu.bytes, mu.last_seq INTO u FROM mailbox_usage mu WHERE mu.mailbox = d_mailbox[i];
       len := b_lens[k];
       IF u.count + 1 > max_envelopes OR u.bytes + len > max_bytes THEN
         r_kind := 'd'; r_idx := i; r_outcome := 2; r_seq := NULL; r_prev := NULL; r_at := NULL;
         RETURN NEXT;
         CONTINUE;
       END IF;
       IF b_ref[k] IS NULL THEN
         IF max_total_bytes > 0 AND total + delta + len > max_total_bytes THEN
           r_kind := 'd'; r_idx := i; r_outcome := 3; r_seq := NULL; r_prev := NULL; r_at := NULL;
           RETURN NEXT;
           CONTINUE;
         END IF;
         INSERT INTO bodies (body, refs) VALUES (b_body[k], 0) RETURNING bodies.ref INTO new_ref;
         b_ref[k] := new_ref;
         delta := delta + len;
       END IF;
       INSERT INTO envelopes (mailbox, id, ref, size, deposited_at, expires_at)
         VALUES (d_mailbox[i], d_id[i], b_ref[k], len, now_ms, now_ms + CASE
           WHEN EXISTS (SELECT 1 FROM mailbox_claims c WHERE c.mailbox = d_mailbox[i]) THEN retention_ms
           ELSE unclaimed_retention_ms END)
         RETURNING envelopes.seq INTO new_seq;
       b_refs[k] := b_refs[k] + 1;
       UPDATE mailbox_usage mu SET count = mu.count + 1, bytes = mu.bytes + len, last_seq = new_seq
         WHERE mu.mailbox = d_mailbox[i];
       r_kind := 'd'; r_idx := i; r_outcome := 0; r_seq := new_seq; r_prev := u.last_seq; r_at := NULL;
       RETURN NEXT;
     END LOOP;
     -- Bodies inserted above are this transaction's own rows: no other one can see them yet.
     FOR k IN 1 .. coalesce(array_length(b_lens, 1), 0) LOOP
       IF b_ref[k] IS NOT NULL THEN
         UPDATE bodies SET refs = b_refs[k] WHERE ref = b_ref[k];
       END IF;
     END LOOP;

     FOR gone IN
       DELETE FROM envelopes e
         USING (SELECT DISTINCT req, mailbox, id FROM unnest(a_req, a_mailbox, a_id) AS t(req, mailbox, id)) AS a
         WHERE e.mailbox = a.mailbox AND e.id = a.id
         RETURNING a.req AS req, e.mailbox AS mailbox, e.deposited_at AS at, e.size AS len, e.ref AS ref
     LOOP
       UPDATE mailbox_usage mu SET count = mu.count - 1, bytes = mu.bytes - gone.len WHERE mu.mailbox = gone.mailbox;
       released := released || gone.ref;
       r_kind := 'a'; r_idx := gone.req; r_outcome := 0; r_seq := NULL; r_prev := NULL; r_at := gone.at;
       RETURN NEXT;
     END LOOP;
     delta := delta - petrel_release(released);
     -- Last, so this shard row is locked only for the commit itself.
     IF delta <> 0 THEN
       UPDATE storage_usage SET bytes = bytes + delta WHERE shard = pg_backend_pid() % 16;
     END IF;
   END
   $fn$;

   -- The retention sweep of step 1, releasing the bodies of what it deletes.
   CREATE OR REPLACE FUNCTION petrel_expire(now_ms bigint) RETURNS bigint
   LANGUAGE plpgsql AS $fn$
   DECLARE
     n bigint;
     refs bigint[];
     freed bigint;
   BEGIN
     IF NOT pg_try_advisory_xact_lock(7321500102) THEN
       RETURN 0;
     END IF;
     PERFORM 1 FROM mailbox_usage
       WHERE mailbox IN (SELECT DISTINCT e.mailbox FROM envelopes e WHERE e.expires_at <= now_ms)
       ORDER BY mailbox FOR UPDATE;
     WITH gone AS (
       DELETE FROM envelopes e WHERE e.expires_at <= now_ms RETURNING e.mailbox, e.size AS len, e.ref
     ), per_mailbox AS (
       SELECT g.mailbox, count(*) AS c, sum(g.len) AS b FROM gone g GROUP BY g.mailbox
     ), updated AS (
       UPDATE mailbox_usage mu SET count = mu.count - p.c, bytes = mu.bytes - p.b
         FROM per_mailbox p WHERE mu.mailbox = p.mailbox RETURNING p.c
     )
     SELECT (SELECT coalesce(sum(c), 0) FROM updated), (SELECT coalesce(array_agg(g.ref), '{}') FROM gone g) INTO n, refs;
     freed := petrel_release(refs);
     IF freed <> 0 THEN
       UPDATE storage_usage SET bytes = bytes - freed WHERE shard = pg_backend_pid() % 16;
     END IF;
     RETURN n;
   END
   $fn$;`,
];
