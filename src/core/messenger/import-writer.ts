/**
 * Writing an account import into this browser's store (docs/PROTOCOL.md §13.6, §16.3): the
 * one writer for both ways a browser takes an existing account, a device link
 * (link-this-device.ts) and a backup restore (restore-this-device.ts).
 *
 * `writeImportStep` stores each accepted step as it arrives (contacts with their
 * verification, each conversation's messages with their status, a group's log into the
 * group inbox, a group's messages beside it until the group exists) and records which contacts
 * it wrote, so a failed import can discard them (`store.discardImport(written)`).
 * `completeImport` runs once the import is complete and writes, in this order, this device's
 * certificate, the account's device list, and LAST the identity: a browser with no identity
 * has no account, whatever else a cut-short import left behind.
 */
import { toHex } from '../bytes.ts';
import { createPreKeyPool, limits as cryptoLimits, serializePreKeyPool, type Identity } from '../crypto/index.ts';
import type { DeviceId } from '../devices/device-id.ts';
import type { DeviceKey } from '../devices/device-key.ts';
import type { LinkImportStep } from '../devices/link-import.ts';
import { encodeOwnDevice, ownDeviceFor } from '../devices/own-device.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import { groupHistoryKey } from '../store/group-history-import.ts';
import { groupInboxKey } from '../store/group-inbox.ts';
import type { PetrelStore } from '../store/index.ts';
import { encodeLinkRecord, type SignedDeviceList } from '../wire/index.ts';
import { DeviceListBook } from './device-list-book.ts';
import { META_OWN_DEVICE } from './own-device-store.ts';

/** What the caller boots the core on once an import is complete. */
export interface ImportedAccount {
  readonly identity: Identity;
  readonly displayName: string;
  readonly poolBytes: Uint8Array;
}

/** Stores one accepted step; the ids of contacts written are appended to `written`. */
export async function writeImportStep(store: PetrelStore, step: LinkImportStep, written: string[]): Promise<void> {
  if (step.kind === 'contacts') {
    for (const c of step.contacts) {
      const id = toHex(c.ik);
      written.push(id);
      await store.putContact({ id, displayName: c.name, identityKey: c.ik, verification: c.verified ? 'verified' : 'unverified', addedAt: c.addedAt });
    }
  } else if (step.kind === 'group') {
    // Into the group inbox as a frame from our own account: the group parts take it when the
    // core starts, as they take a log our other device sends (receive time 0: before any other).
    await store.setMeta(groupInboxKey(0, step.position, toHex(step.account)), step.frame);
  } else if (step.kind === 'groupMessages') {
    // Kept as the record until the core starts and the group parts have taken the group's
    // log (the group does not exist before): then applied (group-history-import.ts).
    await store.setMeta(groupHistoryKey(step.position), encodeLinkRecord({ t: 'link.groupMessages', g: step.group, messages: step.messages }));
  } else if (step.kind === 'messages') {
    await store.importHistory(
      toHex(step.contact),
      step.messages.map((m) => ({ id: toHex(m.id), direction: m.dir, body: m.text, sentAt: m.sentAt, status: m.status })),
    );
  }
}

/** The group frames and group histories an import wrote (a store with no identity has no others). */
export async function discardGroupInbox(store: PetrelStore): Promise<void> {
  for (const row of await store.groupInbox()) await store.deleteMeta(row.key);
  for (const row of await store.groups.pendingHistory()) await store.deleteMeta(row.key);
}

export interface CompleteImportDeps {
  readonly store: PetrelStore;
  readonly random: Random;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** This device's certificate, the account's list, a fresh prekey pool, and last the identity. */
export async function completeImport(
  deps: CompleteImportDeps,
  account: { readonly identity: Identity; readonly name: string; readonly list: SignedDeviceList },
  device: { readonly id: DeviceId; readonly key: DeviceKey },
): Promise<ImportedAccount> {
  const { store, random, clock } = deps;
  const own = ownDeviceFor(account.identity, device.id, device.key);
  await store.setMeta(META_OWN_DEVICE, encodeOwnDevice(own));
  await new DeviceListBook(store, deps.metrics, deps.logger).accept(account.identity.publicKey, account.list);
  const pool = createPreKeyPool(account.identity, random, cryptoLimits.INITIAL_ONE_TIME_PREKEYS);
  const poolBytes = serializePreKeyPool(pool);
  await store.saveIdentity({ id: 'self', seed: account.identity.exportSeed(), displayName: account.name, createdAt: clock.now(), preKeyPool: poolBytes, nextPreKeyId: pool.data.nextId });
  return { identity: account.identity, displayName: account.name, poolBytes };
}
