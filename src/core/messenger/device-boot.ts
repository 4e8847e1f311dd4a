/**
 * This core's place among its account's devices, decided when it starts (docs/PROTOCOL.md
 * §13.5): its device record (made once), the device lists it believes, and whether our
 * account's verified list names this device. Named: the core authenticates as this device
 * (`auth.device`), reads its device mailbox, publishes its prekeys there and seals its
 * device id into every box. Not named (no list, or not yet in it): it is the
 * single-device account exactly as before devices (auth by IK, account mailbox).
 *
 * A list that names this device only after the start takes effect at the next start.
 */
import type { Clock } from '../clock.ts';
import type { Identity } from '../crypto/index.ts';
import type { OwnDevice } from '../devices/own-device.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import type { PetrelStore } from '../store/index.ts';
import { bytesEqual } from '../bytes.ts';
import { findDevice, mailboxAddress } from '../wire/index.ts';
import type { ContactDirectory } from './contact-directory.ts';
import { DeviceListBook } from './device-list-book.ts';
import { writeDeviceChangeLine, type DeviceChange } from './device-change-lines.ts';
import { DeviceSync, type DeviceListRelay } from './device-sync.ts';
import { deviceRouting, type DeviceRouting } from './device-routing.ts';
import { loadOrCreateOwnDevice } from './own-device-store.ts';
import { META_PUBLISHED_THROUGH } from './prekey-publisher.ts';
import type { RelayDeviceAuth } from './relay-client.ts';

/** Meta key: the mailbox address our prekeys were last published under (account or device). */
export const META_PREKEYS_ADDRESS = 'prekeys.address';

/**
 * Our prekeys live under the address we authenticate as: when it changed (this device
 * became listed), the publisher's "published" mark is cleared so it uploads the bundle
 * again, under the device address. An account from before this mark keeps its mark.
 */
async function republishIfMoved(store: PetrelStore, mailbox: Uint8Array, listed: boolean): Promise<void> {
  const at = await store.getMeta(META_PREKEYS_ADDRESS);
  if (at instanceof Uint8Array && bytesEqual(at, mailbox)) return;
  // No mark yet: whatever was published went under the account address (before devices).
  const moved = at instanceof Uint8Array || listed;
  if (moved) await store.setMeta(META_PUBLISHED_THROUGH, 'moved');
  await store.setMeta(META_PREKEYS_ADDRESS, mailbox.slice());
}

export interface DeviceBoot {
  readonly device: OwnDevice;
  readonly book: DeviceListBook;
  /** Does our account's verified list name this device? */
  readonly listed: boolean;
  /** The mailbox this core reads: its device mailbox when listed, else the account mailbox. */
  readonly mailbox: Uint8Array;
  /** `auth.device` for the relay connection when listed. */
  readonly relayAuth?: RelayDeviceAuth;
  /** The routing the pipelines use; `fetchList` asks the device sync for an account's list again (DeviceSync.fetchList). */
  routing(fetchList: (account: Uint8Array) => Promise<boolean>): DeviceRouting;
  /**
   * The sync of our and our contacts' lists. `restart` is called when our own list names
   * this device for the first time: the core starts again as that device.
   */
  sync(deps: { relay: DeviceListRelay; contacts: ContactDirectory; clock: Clock; lineAdded?: () => void }, restart: () => void): DeviceSync;
}

export async function bootDevices(deps: { store: PetrelStore; random: Random; metrics: Metrics; log: Logger }, identity: Identity): Promise<DeviceBoot> {
  const log = deps.log.child('messenger');
  const device = await loadOrCreateOwnDevice({ ...deps, log }, identity);
  const book = new DeviceListBook(deps.store, deps.metrics, deps.log);
  const own = await book.get(identity.publicKey);
  const listed = !!own && !!findDevice(own, device.id);
  if (listed) deps.log.child('devices').info('this device is listed: authenticating as the device');
  const mailbox = listed ? device.mailbox : mailboxAddress(identity.publicKey);
  await republishIfMoved(deps.store, mailbox, listed);
  return {
    device,
    book,
    listed,
    mailbox,
    ...(listed ? { relayAuth: { cert: device.cert, sign: async (payload: Uint8Array) => device.key.sign(payload) } } : {}),
    routing: (fetchList) => deviceRouting(book, { account: identity.publicKey, device, listed }, fetchList),
    sync: ({ relay, contacts, clock, lineAdded }, restart) => {
      // A line in the contact's chat ("Ada added a device"), never a warning (device-change-lines.ts).
      const line = (contactId: string, change: DeviceChange, count: number, names: readonly string[] = []) =>
        writeDeviceChangeLine({ store: deps.store, contacts, clock, random: deps.random, metrics: deps.metrics }, contactId, change, count, names)
          .then(() => lineAdded?.())
          .catch((err: unknown) => log.warn('device change line not written', { error: err instanceof Error ? err.name : 'unknown' }));
      return new DeviceSync(
        { account: identity.publicKey, contacts, book, relay, clock, metrics: deps.metrics, log: deps.log },
        {
          deviceAdded: (contactId, count, names) => {
            log.info('contact added a device', { contact: contactId.slice(0, 8), count });
            void line(contactId, 'added', count, names);
          },
          // A rename adds no line, but the chat's device names change with it.
          contactListChanged: () => lineAdded?.(),
          deviceRemoved: (contactId, count) => {
            log.info('contact removed a device', { contact: contactId.slice(0, 8), count });
            void line(contactId, 'removed', count);
          },
          ownListChanged: (list) => {
            if (listed || !findDevice(list, device.id)) return;
            log.info('our device list now names this device: starting again as the device');
            restart();
          },
        },
      );
    },
  };
}
