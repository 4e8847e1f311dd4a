/**
 * Making a backup (docs/PROTOCOL.md §16): the records a device link carries
 * (link-export.ts: the account, contacts with their verification, every conversation's
 * messages, the totals), sealed under a recovery key or a passphrase (backup/backup-stream.ts).
 * Never sessions or ratchet state: a restored browser is a new device that starts its own.
 *
 * The caller (backup-keeper.ts) passes the store and the account (identity, display name,
 * and the account's signed device list, or `singleDeviceBackupList` for an account that
 * never published one). Restoring is restore-this-device.ts over backup/backup-restore.ts.
 */
import type { Identity } from '../crypto/index.ts';
import { signDeviceList } from '../devices/device-list.ts';
import type { PetrelStore } from '../store/index.ts';
import { encodeLinkRecord, type SignedDeviceList } from '../wire/index.ts';
import type { BackupSecret } from '../backup/backup-key.ts';
import { sealBackup, type BackupCryptoDeps } from '../backup/backup-stream.ts';
import { linkExportRecords } from './link-export.ts';

export interface BackupAccount {
  readonly identity: Identity;
  readonly name: string;
  readonly list: SignedDeviceList;
}

/** The backup file's bytes: every record of the account's link export, sealed under `secret`. */
export async function makeBackup(store: PetrelStore, account: BackupAccount, secret: BackupSecret, deps: BackupCryptoDeps): Promise<Uint8Array> {
  async function* encoded() {
    for await (const record of linkExportRecords(store, account)) yield encodeLinkRecord(record);
  }
  return sealBackup(encoded(), secret, deps);
}

/**
 * The list a single-device account's backup carries: version 0 and no devices (it is never
 * published; a restore signs version 1 naming the restored device, the account's first list).
 */
export function singleDeviceBackupList(identity: Identity, now: number): SignedDeviceList {
  return signDeviceList(identity, { version: 0, issuedAt: now, devices: [] });
}
