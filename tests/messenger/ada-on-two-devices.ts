/**
 * Ada on two devices for messenger tests (issue 16): both listed and each authenticated as
 * its device, Bo on one, each the other's contact; on the real relay.
 */
import { concatBytes, toHex } from '../../src/core/bytes.ts';
import { createPreKeyPool, serializePreKeyPool } from '../../src/core/crypto/index.ts';
import { encodeOwnDevice, ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { META_DEVICE_LIST_PREFIX } from '../../src/core/messenger/device-list-book.ts';
import { META_OWN_DEVICE } from '../../src/core/messenger/own-device-store.ts';
import { secureRandom } from '../../src/core/random.ts';
import { createMemoryStore, type PetrelStore } from '../../src/core/store/index.ts';
import { device, introduce, onboard, until, type DeviceOptions, type testWorld } from './harness.ts';
import { extraDevice, publishDeviceList, storedAccount } from './linked-device.ts';

/** Ada on two devices (both listed, each authenticated as its device), Bo on one, each the other's contact. */
export async function adaOnTwoDevices(
  { relay, track }: Pick<ReturnType<typeof testWorld>, 'relay' | 'track'>,
  boStore?: PetrelStore,
  /** What each device adds (a direct path, say). */
  options: (who: 'ada1' | 'ada2' | 'bo') => DeviceOptions = () => ({}),
) {
  const r = await relay();
  const ada1 = track(device(r.url, undefined, options('ada1')));
  const bo = track(device(r.url, boStore, options('bo')));
  await onboard(ada1, 'Ada');
  await onboard(bo, 'Bo');
  const { aSeesB, bSeesA } = await introduce(ada1, bo);
  const { identity, device: one } = await storedAccount(ada1.store);

  // Ada's second device: the same identity (what linking hands over), its own device record and prekeys.
  const store2 = createMemoryStore({ now: () => Date.now() });
  const pool = createPreKeyPool(identity, secureRandom, 4);
  await store2.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: 'Ada', createdAt: Date.now(), preKeyPool: serializePreKeyPool(pool), nextPreKeyId: pool.data.nextId });
  const two = extraDevice(identity);
  await store2.setMeta(META_OWN_DEVICE, encodeOwnDevice(two));
  await store2.putContact((await ada1.store.getContact(aSeesB))!);

  const signed = await publishDeviceList(r.url, identity, 1, [ownDeviceEntry(one), ownDeviceEntry(two)]);
  const listKey = META_DEVICE_LIST_PREFIX + toHex(identity.publicKey);
  await store2.setMeta(listKey, concatBytes(signed.body, signed.sig));
  // Bo hears of Ada's list; Ada's first device of its own, which names it: its core starts again as that device.
  await until(bo, () => bo.metrics.counter('devices.list_accepted') >= 1);
  await until(ada1, () => ada1.logs.recent().some((l) => l.msg === 'this device is listed: authenticating as the device'));
  const ada2 = track(device(r.url, store2, options('ada2')));
  await ada2.messenger.start();
  await until(ada1, (s) => s.connection.kind === 'online');
  await until(ada2, (s) => s.connection.kind === 'online');
  return { r, ada1, ada2, bo, aSeesB, bSeesA, identity, one, two };
}
