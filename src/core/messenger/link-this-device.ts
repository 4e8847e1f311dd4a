/**
 * The new device's side of a device link (docs/PROTOCOL.md §13.6), run in a browser that
 * has no identity yet. It makes its device id and device key, reaches the relay
 * authenticated by that fresh key (any key may authenticate; it owns no mailbox anyone
 * writes to), joins the link's channel, sends its request under the link's MAC, then
 * opens the sealed chunks in order (link-transfer.ts) and imports each record
 * (link-import.ts), writing as it goes (import-writer.ts, shared with a backup restore): contacts with their verification state, each
 * conversation's messages with their status, and once the link is whole the account's
 * settings (account-settings.ts).
 *
 * The identity is written LAST, once `link.end` matched what arrived: a transfer cut short,
 * tampered with, refused or timed out leaves no identity, and the contacts and messages
 * written so far are discarded (as are any an earlier, interrupted link left behind).
 * The caller then boots the core on the returned account, which publishes this device's
 * prekeys. Every failure is a typed LinkError (or DeviceError) saying what to do.
 */
import { bytesEqual } from '../bytes.ts';
import type { Identity } from '../crypto/index.ts';
import { generateDeviceId } from '../devices/device-id.ts';
import { generateDeviceKey } from '../devices/device-key.ts';
import {
  AlreadySetUpError,
  LinkDeviceLimitError,
  LinkError,
  LinkExpiredError,
  LinkInterruptedError,
  LinkTamperedError,
  LinkTransferInvalidError,
  LinkUnavailableError,
  LinkUsedError,
  ForeignLinkError,
} from '../devices/link-errors.ts';
import { LinkImport } from '../devices/link-import.ts';
import { buildLinkRequest, parseLink, type ParsedLink } from '../devices/link-offer.ts';
import { isDeviceName } from '../devices/device-name.ts';
import { LinkReceiver } from '../devices/link-transfer.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import type { PetrelStore } from '../store/index.ts';
import { IngressGuard, wireFrameDecoder } from '../transport/index.ts';
import { decodeLinkChannelMessage, decodeLinkRecord, encodeLinkChannelMessage, type Frame, type LinkChannelMessage, type LinkRefusal, type LinkSetting, type SignedDeviceList } from '../wire/index.ts';
import { settingsOfLink, type AccountSettingsPort } from './account-settings.ts';
import { completeImport, discardGroupInbox, writeImportStep, type ImportedAccount } from './import-writer.ts';
import type { RelayClient, RelayClientFactory } from './relay-client.ts';

/** How long the new device waits for the relay, and then for each next message of the transfer. */
export const LINK_WAIT_MS = 60_000;

export interface LinkThisDeviceDeps {
  readonly store: PetrelStore;
  readonly createRelay: RelayClientFactory;
  readonly random: Random;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly waitMs?: number;
  /** Where the account's settings the link carries are written (account-settings.ts); absent: they are not kept. */
  readonly accountSettings?: AccountSettingsPort;
  /** This device's default name, asked for in the link request (device-name.ts). */
  readonly deviceName?: string;
}

export interface LinkProgress {
  readonly status: 'connecting' | 'receiving';
  readonly contacts: number;
  readonly messages: number;
}

/** What the caller boots the core on (import-writer.ts). */
export type LinkedAccount = ImportedAccount;

type Inbox = { readonly message: LinkChannelMessage } | { readonly closed: true };

export async function linkThisDevice(deps: LinkThisDeviceDeps, text: string, progress: (p: LinkProgress) => void): Promise<LinkedAccount> {
  const { store, random, clock, metrics } = deps;
  const log = deps.logger.child('link-this-device');
  if (await store.loadIdentity()) throw new AlreadySetUpError('this browser already has an account');
  const link = parseLink(text.trim(), clock.now());
  // Whatever an earlier, interrupted link wrote (no identity means no legitimate contacts, nor group frames).
  await store.discardImport((await store.listContacts()).map((c) => c.id));
  await discardGroupInbox(store);
  const device = { id: generateDeviceId(random), key: generateDeviceKey(random) };
  const guard = new IngressGuard<Frame>({ decode: wireFrameDecoder(), metrics, logger: deps.logger });
  const relay = deps.createRelay({ identityKey: device.key.publicKey, sign: async (p) => device.key.sign(p), ingress: guard });
  const written: string[] = [];
  try {
    progress({ status: 'connecting', contacts: 0, messages: 0 });
    const inbox = new Mailbox<Inbox>();
    relay.onLinkData((ch, data) => {
      if (!bytesEqual(ch, link.keys.channel)) return;
      try {
        inbox.put({ message: decodeLinkChannelMessage(data) });
      } catch {
        metrics.inc('devices.link_refused', { kind: 'malformed' });
      }
    });
    relay.onLinkClosed((ch) => bytesEqual(ch, link.keys.channel) && inbox.put({ closed: true }));
    await online(relay, clock, deps.waitMs ?? LINK_WAIT_MS);
    await join(relay, link);
    // The name the existing device signs into the list for this one (none when the platform's is not a name).
    const name = deps.deviceName?.trim();
    const request = buildLinkRequest(link, { id: device.id, key: device.key.publicKey, ...(isDeviceName(name) ? { name } : {}) });
    relay.sendLinkData(link.keys.channel, encodeLinkChannelMessage({ t: 'link.request', dev: request.device, mac: request.mac }));

    const importer = new LinkImport({ id: device.id, key: device.key.publicKey });
    let receiver: LinkReceiver | undefined;
    let account: { identity: Identity; name: string; list: SignedDeviceList } | undefined;
    let settings: readonly LinkSetting[] = [];
    for (;;) {
      const next = await inbox.take(clock, deps.waitMs ?? LINK_WAIT_MS);
      if (!next || 'closed' in next) throw new LinkInterruptedError('the other device stopped sending before the transfer was complete; nothing was kept');
      const m = next.message;
      if (m.t === 'link.refused') throw refusalError(m.why);
      if (m.t === 'link.start') {
        if (receiver) throw new LinkTamperedError('the transfer started twice');
        receiver = LinkReceiver.open(link.secret, link.keys.channel, device.id, device.key, { channel: link.keys.channel, ephemeral: m.eph });
        progress({ status: 'receiving', contacts: 0, messages: 0 });
        continue;
      }
      if (m.t !== 'link.chunk') continue;
      if (!receiver) throw new LinkTamperedError('a transfer chunk before the transfer key');
      const plaintext = await receiver.open({ seq: m.seq, last: m.last, box: m.box });
      let record;
      try {
        record = decodeLinkRecord(plaintext);
      } catch {
        throw new LinkTransferInvalidError('a transfer record does not decode');
      }
      const step = importer.accept(record);
      if (step.kind === 'account' && record.t === 'link.account') {
        account = { identity: step.identity, name: step.name, list: record.list };
        settings = step.settings;
      }
      await writeImportStep(store, step, written);
      const state = importer.state;
      progress({ status: 'receiving', contacts: state.contacts, messages: state.messages });
      if (step.kind === 'complete') break;
      if (m.last) throw new LinkTransferInvalidError('the transfer ended without its totals');
    }
    if (!account) throw new LinkTransferInvalidError('the transfer carried no account');
    // Everything arrived: this device's certificate, the account's list, and last the identity.
    const imported = await completeImport(deps, account, device);
    // The account's settings, once the link is whole (a transfer that fails changes none).
    // The account is here either way: settings that cannot be written are said and counted.
    if (settings.length && deps.accountSettings) {
      try {
        await deps.accountSettings.write(settingsOfLink(settings));
        metrics.inc('devices.link_settings_taken');
      } catch (err) {
        metrics.inc('devices.link_settings_failed');
        log.warn('the settings the link carried were not kept', { error: err instanceof Error ? err.name : 'unknown' });
      }
    }
    metrics.inc('devices.link_completed');
    log.info('this device is linked', { contacts: importer.state.contacts, messages: importer.state.messages });
    return imported;
  } catch (err) {
    metrics.inc('devices.link_import_failed', { kind: err instanceof LinkError ? err.kind : 'other' });
    log.warn('linking this device failed', { kind: err instanceof LinkError ? err.kind : err instanceof Error ? err.name : 'unknown' });
    if (written.length) await store.discardImport(written);
    await discardGroupInbox(store);
    throw err;
  } finally {
    relay.stop();
  }
}

function refusalError(why: LinkRefusal): Error {
  switch (why) {
    case 'link_expired':
      return new LinkExpiredError('this link has expired; make a new one on your other device');
    case 'link_used':
      return new LinkUsedError('this link was already used; make a new one on your other device');
    case 'link_tampered':
      return new LinkTamperedError('your other device could not verify this link; copy it again, whole');
    case 'foreign_link':
      return new ForeignLinkError('this link is not the one your other device is showing');
    case 'too_many_devices':
      return new LinkDeviceLimitError('this account already has 10 devices; unlink one on your other device first');
    case 'failed':
      return new LinkInterruptedError('your other device stopped linking; make a new link and try again');
  }
}

/** Starts `relay` and waits until it is online; LinkInterruptedError after `waitMs`. */
export async function online(relay: RelayClient, clock: Clock, waitMs: number): Promise<void> {
  relay.start();
  if (relay.state.kind === 'online') return;
  await new Promise<void>((resolve, reject) => {
    const cancel = clock.setTimeout(() => {
      off();
      reject(new LinkInterruptedError('the relay could not be reached; check the connection and try again'));
    }, waitMs);
    const off = relay.onConnectionState((s) => {
      if (s.kind !== 'online') return;
      cancel();
      off();
      resolve();
    });
  });
}

async function join(relay: RelayClient, link: ParsedLink): Promise<void> {
  try {
    await relay.joinLinkChannel(link.keys.channel);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'not_found') throw new LinkUnavailableError('no device is showing this link any more; make a new one on your other device');
    if (code === 'link_busy') throw new LinkUsedError('another device is already using this link');
    throw new LinkInterruptedError('the relay did not let this device join the link; try again');
  }
}

/** A queue of what arrives on the channel, taken one at a time with a deadline. */
class Mailbox<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T) => void) | undefined;

  put(item: T): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(item);
    } else this.items.push(item);
  }

  take(clock: Clock, waitMs: number): Promise<T | undefined> {
    const first = this.items.shift();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve) => {
      const cancel = clock.setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, waitMs);
      this.waiter = (item) => {
        cancel();
        resolve(item);
      };
    });
  }
}
