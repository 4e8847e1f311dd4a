/**
 * The running account's backups (docs/PROTOCOL.md §16): a backup file made on request, and
 * optionally one kept on the relay's vault (§16.4), replaced after changes at most daily.
 *
 * A backup without a passphrase is sealed under a fresh recovery key, returned once for the
 * user to keep; the key of the latest one is kept in this browser's store (next to the
 * identity seed it protects, so it exposes nothing more) because the relay copy is made and
 * replaced under it. Meta keys: `backup.key` (its 20 bytes), `backup.relay` (keep a copy on
 * the relay), `backup.madeAt` and `backup.uploadedAt` (ms). `uploadIfDue` is cheap when
 * nothing is due; the core calls it when it goes online and after each send.
 */
import type { BlobHttp } from '../attachments/blob-http.ts';
import type { Argon2idFn, BackupSecret } from '../backup/backup-key.ts';
import { generateRecoveryKey } from '../backup/recovery-key.ts';
import { deleteVaultBackup, putVaultBackup, VaultError } from '../backup/vault-client.ts';
import { signDeviceList } from '../devices/device-list.ts';
import type { Logger } from '../log.ts';
import { makeBackup, singleDeviceBackupList } from './backup-commands.ts';
import type { MessengerContext } from './context.ts';
import type { DeviceListBook } from './device-list-book.ts';
import type { BackupView } from './messenger-api.ts';
import { BACKUP_REMINDER_AFTER_MS, backupReminderDue } from './backup-reminder.ts';

/** The relay copy is replaced at most this often. */
export const RELAY_BACKUP_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** A reminder not yet due is looked at again at its time, or at least this often (a timer of days is not kept exactly by browsers). */
export const REMINDER_CHECK_MAX_MS = 60 * 60 * 1000;

const META_KEY = 'backup.key';
const META_RELAY = 'backup.relay';
const META_MADE_AT = 'backup.madeAt';
const META_UPLOADED_AT = 'backup.uploadedAt';

export interface BackupKeeperDeps {
  readonly ctx: MessengerContext;
  readonly book: DeviceListBook;
  readonly displayName: () => string;
  readonly http?: BlobHttp;
  readonly argon2id?: Argon2idFn;
  readonly changed: (patch: { backup: BackupView }) => void;
}

export class BackupKeeper {
  private readonly log: Logger;
  private uploading: Promise<void> | undefined;
  private cancelReminderCheck: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly deps: BackupKeeperDeps) {
    this.log = deps.ctx.log.child('backup');
  }

  /** The backup file; under a new recovery key (returned once, `recoveryKey`) unless a passphrase is given. */
  async create(options: { readonly passphrase?: string } = {}): Promise<{ readonly bytes: Uint8Array; readonly recoveryKey?: string }> {
    const { store, random, clock, metrics } = this.deps.ctx;
    if (options.passphrase !== undefined) {
      const bytes = await this.seal({ kind: 'passphrase', passphrase: options.passphrase });
      await store.setMeta(META_MADE_AT, clock.now());
      metrics.inc('backup.made', { kdf: 'argon2id' });
      await this.show();
      return { bytes };
    }
    const key = generateRecoveryKey(random);
    const bytes = await this.seal({ kind: 'recovery_key', key: key.bytes });
    const previous = await this.key();
    await store.setMeta(META_KEY, key.bytes);
    await store.setMeta(META_MADE_AT, clock.now());
    metrics.inc('backup.made', { kdf: 'recovery_key' });
    if (await this.relayOn()) {
      // The relay copy moves to the new key (the old key no longer opens anything there).
      await this.upload(key.bytes, bytes);
      if (previous) await deleteVaultBackup(this.http(), previous).catch(() => undefined);
    }
    await this.show();
    return { bytes, recoveryKey: key.text };
  }

  /**
   * Keep (or stop keeping) a backup on the relay. Turning it on uploads one now, under the
   * latest recovery key, or a new one returned once (`recoveryKey`) if there is none yet.
   * Turning it off deletes the relay's copy. VaultError when the relay refuses.
   */
  async setRelay(on: boolean): Promise<{ readonly recoveryKey?: string }> {
    const { store } = this.deps.ctx;
    let key = await this.key();
    let fresh: string | undefined;
    if (on) {
      if (!key) {
        const made = generateRecoveryKey(this.deps.ctx.random);
        key = made.bytes;
        fresh = made.text;
        await store.setMeta(META_KEY, key);
      }
      await this.upload(key, await this.seal({ kind: 'recovery_key', key }));
      await store.setMeta(META_RELAY, true);
    } else {
      if (key) await deleteVaultBackup(this.http(), key);
      await store.setMeta(META_RELAY, false);
    }
    await this.show();
    return fresh ? { recoveryKey: fresh } : {};
  }

  /** Replaces the relay copy if it is kept and the last upload is a day old; never throws (logged, counted). */
  uploadIfDue(): Promise<void> {
    if (this.uploading) return this.uploading;
    this.uploading = this.uploadDue()
      .catch((err: unknown) => {
        this.deps.ctx.metrics.inc('backup.relay_upload_failed', { kind: err instanceof VaultError ? (err.code ?? err.kind) : 'other' });
        this.log.warn('relay backup upload failed', { error: err instanceof Error ? err.name : 'unknown' });
      })
      .finally(() => {
        this.uploading = undefined;
      });
    return this.uploading;
  }

  /** No more reminder checks (the core stops). */
  stop(): void {
    this.stopped = true;
    this.cancelReminderCheck?.();
    this.cancelReminderCheck = undefined;
  }

  /** Puts the backup state in the view, with the reminder when one is due (backup-reminder.ts), and looks again when it may become due. */
  async show(): Promise<void> {
    const { store, clock, identity } = this.deps.ctx;
    const madeAt = await store.getMeta(META_MADE_AT);
    const uploadedAt = await store.getMeta(META_UPLOADED_AT);
    const relay = await this.relayOn();
    const since = (await store.loadIdentity())?.createdAt ?? clock.now();
    const devices = (await this.deps.book.get(identity.publicKey))?.devices.length ?? 0;
    const remind = backupReminderDue({ now: clock.now(), since, relay, devices, ...(typeof madeAt === 'number' ? { lastBackupAt: madeAt } : {}) });
    // Not due yet but could become due while the app stays open (nothing else would show it): look again then.
    this.cancelReminderCheck?.();
    this.cancelReminderCheck = undefined;
    if (!remind && !this.stopped && typeof madeAt !== 'number' && !relay && devices < 2) {
      const wait = Math.min(REMINDER_CHECK_MAX_MS, Math.max(0, since + BACKUP_REMINDER_AFTER_MS - clock.now()));
      this.cancelReminderCheck = clock.setTimeout(() => void this.show().catch(() => undefined), wait);
    }
    this.deps.changed({
      backup: {
        relay,
        ...(typeof madeAt === 'number' ? { lastBackupAt: madeAt } : {}),
        ...(typeof uploadedAt === 'number' ? { lastUploadedAt: uploadedAt } : {}),
        ...(remind ? { remind: true as const } : {}),
      },
    });
  }

  private async uploadDue(): Promise<void> {
    const { store, clock } = this.deps.ctx;
    if (!this.deps.http || !(await this.relayOn())) return;
    const key = await this.key();
    const uploadedAt = await store.getMeta(META_UPLOADED_AT);
    if (!key || (typeof uploadedAt === 'number' && clock.now() - uploadedAt < RELAY_BACKUP_INTERVAL_MS)) return;
    await this.upload(key, await this.seal({ kind: 'recovery_key', key }));
    await this.show();
  }

  private async upload(key: Uint8Array, bytes: Uint8Array): Promise<void> {
    const { store, clock, metrics } = this.deps.ctx;
    const outcome = await putVaultBackup(this.http(), key, bytes);
    await store.setMeta(META_UPLOADED_AT, clock.now());
    metrics.inc('backup.relay_uploaded', { outcome });
    this.log.info('backup kept on the relay', { outcome, bytes: bytes.length });
  }

  private async seal(secret: BackupSecret): Promise<Uint8Array> {
    const { ctx, book, displayName } = this.deps;
    const body = await book.get(ctx.identity.publicKey);
    const list = body ? signDeviceList(ctx.identity, body) : singleDeviceBackupList(ctx.identity, ctx.clock.now());
    return makeBackup(ctx.store, { identity: ctx.identity, name: displayName(), list }, secret, { runtime: ctx.crypto, ...(this.deps.argon2id ? { argon2id: this.deps.argon2id } : {}) });
  }

  private async key(): Promise<Uint8Array | undefined> {
    const key = await this.deps.ctx.store.getMeta(META_KEY);
    return key instanceof Uint8Array ? key : undefined;
  }

  private async relayOn(): Promise<boolean> {
    return (await this.deps.ctx.store.getMeta(META_RELAY)) === true;
  }

  private http(): BlobHttp {
    if (!this.deps.http) throw new VaultError('network', 'this app has no connection to the relay for backups');
    return this.deps.http;
  }
}
