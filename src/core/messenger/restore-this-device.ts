/**
 * Restoring an account from a backup into a browser that has no identity yet
 * (docs/PROTOCOL.md §16.3). The backup is opened and imported record by record
 * (backup/backup-restore.ts), each accepted step written as it comes through the same writer
 * a device link uses (import-writer.ts). The restored browser is a NEW device of the account:
 * its own device id and key, its own prekeys (published when the core boots).
 *
 * Once the whole backup authenticated and imported, the device list naming this device is
 * published (a restore signs the backup's list one version up; if the relay holds a list
 * at or above that version, the backup is older than the account's present, so this device
 * is added to the relay's list instead), then the identity is written LAST. Any failure
 * (wrong key, tampering, an unreachable relay) leaves no identity, and the contacts and
 * messages written so far are discarded. Every failure is typed: a BackupError (wrong_key,
 * tampered, …), a VaultError (relay-held backup), or a LinkError for the relay.
 */
import type { CryptoRuntime } from '../crypto/crypto-runtime.ts';
import type { Identity } from '../crypto/index.ts';
import type { Argon2idFn, BackupSecret } from '../backup/backup-key.ts';
import { restoreBackup, restoredDeviceList } from '../backup/backup-restore.ts';
import type { BlobHttp } from '../attachments/blob-http.ts';
import { parseBackupHeader } from '../backup/backup-header.ts';
import { BackupContentError, BackupError, BackupNotFoundError } from '../backup/errors.ts';
import { parseRecoveryKey } from '../backup/recovery-key.ts';
import { getVaultBackup, VaultError } from '../backup/vault-client.ts';
import { generateDeviceId, type DeviceId } from '../devices/device-id.ts';
import { generateDeviceKey, type DeviceKey } from '../devices/device-key.ts';
import { signDeviceList, verifyDeviceList, withDeviceAdded } from '../devices/device-list.ts';
import { AlreadySetUpError, LinkError } from '../devices/link-errors.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import type { PetrelStore } from '../store/index.ts';
import { IngressGuard, wireFrameDecoder } from '../transport/index.ts';
import type { Frame, SignedDeviceList } from '../wire/index.ts';
import { completeImport, discardGroupInbox, writeImportStep, type ImportedAccount } from './import-writer.ts';
import { LINK_WAIT_MS, online } from './link-this-device.ts';
import type { RelayClientFactory } from './relay-client.ts';

export interface RestoreThisDeviceDeps {
  readonly store: PetrelStore;
  readonly createRelay: RelayClientFactory;
  readonly random: Random;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly crypto: CryptoRuntime;
  readonly argon2id?: Argon2idFn;
  readonly waitMs?: number;
}

export async function restoreThisDevice(deps: RestoreThisDeviceDeps, backup: Uint8Array, secret: BackupSecret): Promise<ImportedAccount> {
  const { store, random, clock, metrics } = deps;
  const log = deps.logger.child('restore-this-device');
  if (await store.loadIdentity()) throw new AlreadySetUpError('this browser already has an account');
  // Whatever an earlier, interrupted link or restore wrote (no identity means no legitimate contacts, nor group frames).
  await store.discardImport((await store.listContacts()).map((c) => c.id));
  await discardGroupInbox(store);
  const device = { id: generateDeviceId(random), key: generateDeviceKey(random) };
  const written: string[] = [];
  let account: { identity: Identity; name: string } | undefined;
  let restored: { backupVersion: number; list: SignedDeviceList } | undefined;
  try {
    const totals = await restoreBackup(backup, secret, {
      runtime: deps.crypto,
      ...(deps.argon2id ? { argon2id: deps.argon2id } : {}),
      device: { id: device.id, key: device.key.publicKey },
      now: clock.now(),
      deviceList: (identity, backupList, dev, now) => {
        const list = restoredDeviceList(identity, backupList, dev, now);
        restored = { backupVersion: backupList.version, list };
        return list;
      },
      sink: async (step) => {
        if (step.kind === 'account') account = { identity: step.identity, name: step.name };
        await writeImportStep(store, step, written);
      },
    });
    if (!account || !restored) throw new BackupContentError('the backup carried no account');
    const list = await publishList(deps, account.identity, restored.list, device);
    const imported = await completeImport(deps, { ...account, list }, device);
    metrics.inc('backup.restored');
    log.info('restored from a backup', totals);
    return imported;
  } catch (err) {
    const kind = err instanceof BackupError || err instanceof LinkError ? err.kind : err instanceof Error ? err.name : 'unknown';
    metrics.inc('backup.restore_failed', { kind });
    log.warn('restoring a backup failed', { kind });
    if (written.length) await store.discardImport(written);
    await discardGroupInbox(store);
    throw err;
  }
}

/** What opens `backup`: its header says whether `text` is a passphrase or a recovery key (RecoveryKeyError on a typo). */
export function backupSecretFor(backup: Uint8Array, text: string): BackupSecret {
  const { header } = parseBackupHeader(backup);
  return header.kdf.kind === 'argon2id' ? { kind: 'passphrase', passphrase: text } : { kind: 'recovery_key', key: parseRecoveryKey(text) };
}

/** The backup the relay keeps under the recovery key `text`, and that key; BackupNotFoundError when it keeps none. */
export async function fetchRelayBackup(http: BlobHttp | undefined, text: string): Promise<{ readonly backup: Uint8Array; readonly secret: BackupSecret }> {
  const key = parseRecoveryKey(text);
  if (!http) throw new VaultError('network', 'this app has no connection to the relay for backups');
  const backup = await getVaultBackup(http, key);
  if (!backup) throw new BackupNotFoundError('the relay keeps no backup under this recovery key; check the key, or restore from a backup file');
  return { backup, secret: { kind: 'recovery_key', key } };
}

/**
 * Publishes the list naming this device, authenticated as the account: the restore's list,
 * or (the relay holds one at or above its version) the relay's list with this device added.
 */
async function publishList(deps: RestoreThisDeviceDeps, identity: Identity, restored: SignedDeviceList, device: { readonly id: DeviceId; readonly key: DeviceKey }): Promise<SignedDeviceList> {
  const guard = new IngressGuard<Frame>({ decode: wireFrameDecoder(), metrics: deps.metrics, logger: deps.logger });
  const relay = deps.createRelay({ identityKey: identity.publicKey, sign: async (p) => identity.sign(p), ingress: guard });
  try {
    await online(relay, deps.clock, deps.waitMs ?? LINK_WAIT_MS);
    const ours = verifyDeviceList(restored, identity.publicKey);
    const held = await relay.fetchDeviceList(identity.publicKey);
    let list = restored;
    if (held) {
      const current = verifyDeviceList(held, identity.publicKey);
      if (current.version >= ours.version) list = signDeviceList(identity, withDeviceAdded(current, { id: device.id, key: device.key.publicKey }, deps.clock.now()));
    }
    await relay.publishDeviceList(list);
    return list;
  } finally {
    relay.stop();
  }
}
