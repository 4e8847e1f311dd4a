/**
 * Restoring a backup (docs/PROTOCOL.md §16.3): the backup is opened record by record and
 * each record goes through the device link's own import state machine (devices/link-import.ts),
 * exactly as if the account's earlier self had linked this browser: the restored browser is
 * a new device of the account. Each accepted step is handed to `sink` (the caller's store
 * writer) and awaited before the next record is read, so a long history is never held at
 * once and the sink's writes happen in the backup's order.
 *
 * The backup's device list was signed before this device existed, so it cannot name it; the
 * restore verifies that list under the identity the backup's seed makes, then signs the list
 * this device will hold (by default: the backup's devices and this one, one version up) and
 * imports the account record with that list. Whoever publishes it must re-base it on the
 * relay's current list if that is newer (a backup is older than the account's present).
 *
 * Every fault is a BackupError: the stream's own (wrong key, truncated, tampered, …) or
 * BackupContentError for a record that is not a valid link record or that the import
 * refuses (its LinkError or DeviceError in `cause`). A restore that throws has handed the
 * sink only records that authenticated, in order, and never the `complete` step.
 */
import type { Identity } from '../crypto/identity.ts';
import { identityFromSeed } from '../crypto/identity.ts';
import { signDeviceList, verifyDeviceList, withDeviceAdded } from '../devices/device-list.ts';
import { DeviceError } from '../devices/errors.ts';
import { LinkError } from '../devices/link-errors.ts';
import { LinkImport, type LinkImportStep } from '../devices/link-import.ts';
import { decodeLinkRecord, WireError, type DeviceListBody, type LinkRecord, type SignedDeviceList } from '../wire/index.ts';
import { openBackup, type BackupCryptoDeps } from './backup-stream.ts';
import type { BackupSecret } from './backup-key.ts';
import { BackupContentError } from './errors.ts';

export interface RestoreOptions extends BackupCryptoDeps {
  /** This device: its new id and device key (own-device-store makes them). */
  readonly device: { readonly id: Uint8Array; readonly key: Uint8Array };
  /** Called with each accepted step, in order; the next record is read once it resolves. */
  readonly sink: (step: LinkImportStep) => Promise<void> | void;
  /** ms since the epoch, for the new list's `issuedAt`. */
  readonly now: number;
  /** The list this device will hold, from the backup's verified one; default `restoredDeviceList`. */
  readonly deviceList?: (identity: Identity, backupList: DeviceListBody, device: { readonly id: Uint8Array; readonly key: Uint8Array }, now: number) => SignedDeviceList;
}

/** The backup's devices and this one, one version up. */
export function restoredDeviceList(identity: Identity, backupList: DeviceListBody, device: { readonly id: Uint8Array; readonly key: Uint8Array }, now: number): SignedDeviceList {
  return signDeviceList(identity, withDeviceAdded(backupList, device, now));
}

export async function restoreBackup(backup: Uint8Array, secret: BackupSecret, options: RestoreOptions): Promise<{ readonly contacts: number; readonly messages: number }> {
  const importer = new LinkImport(options.device);
  const makeList = options.deviceList ?? restoredDeviceList;
  for await (const plaintext of openBackup(backup, secret, options)) {
    const step = content(() => {
      let record: LinkRecord = decodeLinkRecord(plaintext);
      if (record.t === 'link.account' && importer.state.status === 'awaiting_account') {
        const identity = identityFromSeed(record.seed);
        const backupList = verifyDeviceList(record.list, identity.publicKey);
        record = { ...record, list: makeList(identity, backupList, options.device, options.now) };
      }
      return importer.accept(record);
    });
    await options.sink(step);
  }
  const state = importer.state;
  if (state.status !== 'complete') throw new BackupContentError('the backup ends before its totals record');
  return { contacts: state.contacts, messages: state.messages };
}

/** Runs `f`, turning a refused record (wire, device-list or link-import refusal) into BackupContentError. */
function content<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof WireError || err instanceof LinkError || err instanceof DeviceError) {
      throw new BackupContentError(`a backup record is refused: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
