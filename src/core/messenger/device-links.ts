/**
 * The account's devices, seen from this one (docs/PROTOCOL.md §13.6): list them, link a new
 * one, unlink any (itself included), and notice when this device was unlinked.
 *
 * Linking, on this (existing) device: `createLink()` makes a one-time link, persists the
 * offer (meta `link.offer`) and holds its channel on the relay. When the new device's
 * request arrives it is accepted by link-offer.ts's rules (else a typed `link.refused`,
 * nothing changed); the 11th device is refused; the 'used' state is persisted BEFORE the
 * new device list naming the new device is signed and published (`devices.publish`); then
 * the whole account is streamed as sealed chunks (link-export.ts, link-transfer.ts).
 * The channel lives as long as this device's relay connection: after a reconnect or a
 * reload (`online()`), an offer still unused and unexpired is read back and its channel
 * held again; a used one never is.
 */
import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from '../bytes.ts';
import { signDeviceList, withDeviceAdded, withDeviceRemoved, withDeviceRenamed } from '../devices/device-list.ts';
import { checkedDeviceName, isDeviceName, shownDeviceName } from '../devices/device-name.ts';
import { DeviceError, TooManyDevicesError } from '../devices/errors.ts';
import { LinkError } from '../devices/link-errors.ts';
import { acceptLinkRequest, createLinkOffer, formatLink, type LinkOfferState } from '../devices/link-offer.ts';
import { LinkSender } from '../devices/link-transfer.ts';
import { ownDeviceEntry, type OwnDevice } from '../devices/own-device.ts';
import { SecretBytes } from '../crypto/redacted.ts';
import type { Logger } from '../log.ts';
import {
  MAX_DEVICES,
  decodeLinkChannelMessage,
  encodeLinkChannelMessage,
  encodeLinkRecord,
  findDevice,
  type DeviceEntry,
  type DeviceListBody,
  type LinkChannelMessage,
  type LinkRefusal,
  type SignedDeviceList,
} from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import type { DeviceListBook } from './device-list-book.ts';
import { linkExportRecords } from './link-export.ts';
import type { AccountSettings, AccountSettingsPort } from './account-settings.ts';
import type { DeviceLinkView, DeviceView } from './messenger-api.ts';
import type { LinkChannelRelay } from './relay-client.ts';

export const META_LINK_OFFER = 'link.offer';
/** This device's name as set on it (UTF-8); absent: the platform's default name. */
export const META_DEVICE_NAME = 'device.name';
/** A waiting link with more time than this left is shown again rather than replaced. */
const REUSE_MARGIN_MS = 60_000;

export interface DeviceLinksDeps {
  readonly ctx: MessengerContext;
  readonly own: OwnDevice;
  readonly book: DeviceListBook;
  readonly relay: LinkChannelRelay & { publishDeviceList(list: SignedDeviceList): Promise<number>; readonly state: { readonly kind: string } };
  readonly displayName: () => string;
  /** This device's default name (the platform's: its browser on its system); absent or not a name: unnamed. */
  readonly defaultName?: string;
  /** The account's settings, carried to the new device with its contacts and history (absent: none are carried). */
  readonly settings?: AccountSettingsPort;
  /** The devices or the link's progress changed (for the view). */
  readonly changed: (p: { devices?: readonly DeviceView[]; deviceLink?: DeviceLinkView; unlinked?: true }) => void;
  /** This device is no longer in the account's list: the core stops using the relay. */
  readonly unlinked: () => void;
  /** This device published a new list of its account (a link added a device to it). */
  readonly published?: () => void;
}

export class DeviceLinks {
  private offer: LinkOfferState | undefined;
  private link: string | undefined;
  private busy = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly log: Logger;
  private readonly cleanup: Array<() => void> = [];

  constructor(private readonly deps: DeviceLinksDeps) {
    this.log = deps.ctx.log.child('device-links');
    this.cleanup.push(deps.relay.onLinkData((ch, data) => void this.onData(ch, data)));
    this.cleanup.push(
      deps.relay.onLinkClosed((ch) => {
        if (this.offer && bytesEqual(ch, this.offer.channel) && this.offer.status === 'offered') this.show({ status: 'failed', kind: 'link_unavailable', error: 'The link closed before a device used it. Make a new one.' });
      }),
    );
  }

  stop(): void {
    for (const c of this.cleanup.splice(0)) c();
  }

  /** This account's devices (just this one while the account never published a list), each with its name. */
  async list(): Promise<DeviceView[]> {
    const list = await this.deps.book.get(this.deps.ctx.identity.publicKey);
    const devices = list ? list.devices : [await this.ownEntry()];
    const views = devices.map((d, i) => ({ id: toHex(d.id), thisDevice: bytesEqual(d.id, this.deps.own.id), name: shownDeviceName(d.name, i) }));
    this.deps.changed({ devices: views });
    return views;
  }

  /**
   * Names this device (device-name.ts; InvalidDeviceNameError, nothing changed, for one that
   * is not a name). Kept here (meta `device.name`) for lists this device signs later, and,
   * when the account's list names this device, published at once as the list's next version.
   */
  async rename(name: string): Promise<void> {
    const { ctx, relay, book, own } = this.deps;
    const checked = checkedDeviceName(name);
    const account = ctx.identity.publicKey;
    const current = await book.get(account);
    if (current && findDevice(current, own.id)) {
      if (findDevice(current, own.id)!.name !== checked) {
        const signed = signDeviceList(ctx.identity, withDeviceRenamed(current, own.id, checked, ctx.clock.now()));
        await relay.publishDeviceList(signed);
        await book.accept(account, signed);
      }
    }
    await ctx.store.setMeta(META_DEVICE_NAME, utf8(checked));
    ctx.metrics.inc('devices.renamed');
    await this.list();
  }

  /** This device's entry as a list this device signs names it: its saved name, else its default one. */
  private async ownEntry(): Promise<DeviceEntry> {
    const saved = await this.deps.ctx.store.getMeta(META_DEVICE_NAME);
    const name = saved instanceof Uint8Array ? new TextDecoder().decode(saved) : this.deps.defaultName?.trim();
    return { ...ownDeviceEntry(this.deps.own), ...(isDeviceName(name) ? { name } : {}) };
  }

  /**
   * After account `ik`'s list may have changed (the sync judged it): our own list refreshes
   * the device view, and one that no longer names this device makes it unlinked.
   */
  async listChanged(ik: Uint8Array): Promise<void> {
    if (!bytesEqual(ik, this.deps.ctx.identity.publicKey)) return;
    await this.list();
    const list = await this.deps.book.get(ik);
    if (list !== undefined && !findDevice(list, this.deps.own.id)) this.becameUnlinked();
  }

  /** This device is no longer in its account's list (read from the list, or said by the relay). */
  becameUnlinked(): void {
    this.log.warn('this device was unlinked from the account');
    this.deps.ctx.metrics.inc('devices.self_unlinked');
    this.deps.changed({ unlinked: true });
    this.deps.unlinked();
  }

  /** The relay connection is up: hold the channel of an offer still waiting (read back after a reload). */
  async online(): Promise<void> {
    const { ctx, relay } = this.deps;
    this.offer ??= await this.restore();
    const offer = this.offer;
    if (offer?.status !== 'offered' || ctx.clock.now() >= offer.expiresAt || this.busy) return;
    try {
      await relay.openLinkChannel(offer.channel);
      this.link = formatLink(offer);
      this.show({ status: 'waiting', link: this.link, expiresAt: offer.expiresAt });
    } catch (err) {
      this.log.warn('the link channel could not be held again', { error: err instanceof Error ? err.name : 'unknown' });
    }
  }

  /**
   * A one-time link (valid 10 minutes) whose channel this device now holds. While one is
   * still waiting with more than a minute left, that one is shown again (one channel).
   */
  async createLink(): Promise<string> {
    const { ctx, relay } = this.deps;
    if (this.busy) throw new LinkBusyError('a device is being linked right now; wait for it to finish');
    const current = await this.currentList();
    if (current.devices.length >= MAX_DEVICES) throw new TooManyDevicesError(`this account already has ${MAX_DEVICES} devices; unlink one first`);
    const waiting = this.offer;
    if (waiting?.status === 'offered' && this.link && waiting.expiresAt - ctx.clock.now() > REUSE_MARGIN_MS) {
      this.show({ status: 'waiting', link: this.link, expiresAt: waiting.expiresAt });
      return this.link;
    }
    const offer = createLinkOffer(ctx.random, ctx.clock.now());
    await this.persist(offer);
    this.offer = offer;
    // Offline (or the core starting again as its device): the persisted offer's channel is held once the connection is up (online()).
    if (relay.state.kind === 'online') await relay.openLinkChannel(offer.channel);
    this.link = formatLink(offer);
    ctx.metrics.inc('devices.link_offered');
    this.show({ status: 'waiting', link: this.link, expiresAt: offer.expiresAt });
    return this.link;
  }

  /** Publishes a list without device `id` (hex); this device's own id unlinks this device. */
  async unlink(id: string): Promise<void> {
    const { ctx, relay, book } = this.deps;
    const account = ctx.identity.publicKey;
    const current = await book.get(account);
    const target = fromHex(id);
    if (!current || !findDevice(current, target)) throw new UnknownDeviceError('this account has no such device');
    const signed = signDeviceList(ctx.identity, withDeviceRemoved(current, target, ctx.clock.now()));
    await relay.publishDeviceList(signed);
    await book.accept(account, signed);
    ctx.metrics.inc('devices.unlinked');
    this.log.info('device unlinked', { self: bytesEqual(target, this.deps.own.id) });
    await this.list();
    if (bytesEqual(target, this.deps.own.id)) this.becameUnlinked();
  }

  /** The list to extend: the held one, or (never published) this device alone at version 0. */
  private async currentList(): Promise<DeviceListBody> {
    const account = this.deps.ctx.identity.publicKey;
    return (await this.deps.book.get(account)) ?? { account, version: 0, issuedAt: 0, devices: [await this.ownEntry()] };
  }

  private async onData(ch: Uint8Array, data: Uint8Array): Promise<void> {
    const offer = this.offer;
    if (!offer || !bytesEqual(ch, offer.channel)) return;
    let message: LinkChannelMessage;
    try {
      message = decodeLinkChannelMessage(data);
    } catch {
      this.deps.ctx.metrics.inc('devices.link_refused', { kind: 'malformed' });
      return;
    }
    if (message.t !== 'link.request' || this.busy) return;
    this.busy = true;
    try {
      await this.serve(offer, message);
    } finally {
      this.busy = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves once no link is being served (at once when none is): what may stop the relay connection waits for it. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async serve(offer: LinkOfferState, request: Extract<LinkChannelMessage, { t: 'link.request' }>): Promise<void> {
    const { ctx, relay, book } = this.deps;
    const account = ctx.identity.publicKey;
    let used: Extract<LinkOfferState, { status: 'used' }>;
    let signed: SignedDeviceList;
    try {
      used = acceptLinkRequest(offer, { channel: offer.channel, device: request.dev, mac: request.mac }, ctx.clock.now());
      signed = signDeviceList(ctx.identity, withDeviceAdded(await this.currentList(), used.device, ctx.clock.now()));
    } catch (err) {
      const why: LinkRefusal = err instanceof TooManyDevicesError ? 'too_many_devices' : err instanceof LinkError && isRefusal(err.kind) ? err.kind : 'failed';
      ctx.metrics.inc('devices.link_refused', { kind: why });
      this.log.warn('link request refused', { why });
      this.send(offer.channel, { t: 'link.refused', why });
      if (why === 'too_many_devices') this.show({ status: 'failed', kind: why, error: `This account already has ${MAX_DEVICES} devices. Unlink one first.` });
      return;
    }
    if (offer.status !== 'offered') return;
    // Used before anything is signed or sent: a reload from here on never accepts this link again.
    await this.persist(used);
    this.offer = used;
    try {
      await relay.publishDeviceList(signed);
      await book.accept(account, signed);
      this.deps.published?.();
      await this.list();
      const sender = LinkSender.open(offer.secret, offer.channel, used.device, ctx.random);
      this.send(offer.channel, { t: 'link.start', eph: sender.start.ephemeral });
      let messages = 0;
      const settings = await readSettings(this.deps.settings);
      for await (const record of linkExportRecords(ctx.store, { identity: ctx.identity, name: this.deps.displayName(), list: signed, settings })) {
        const chunk = await sender.seal(encodeLinkRecord(record), record.t === 'link.end');
        this.send(offer.channel, { t: 'link.chunk', seq: chunk.seq, last: chunk.last, box: chunk.box });
        if (record.t === 'link.messages') {
          messages += record.messages.length;
          this.show({ status: 'sending', messages });
        }
      }
      ctx.metrics.inc('devices.linked');
      this.log.info('device linked', { messages });
      this.show({ status: 'done', messages });
    } catch (err) {
      ctx.metrics.inc('devices.link_failed');
      this.log.error('linking failed', { error: err instanceof Error ? err.name : 'unknown' });
      this.send(offer.channel, { t: 'link.refused', why: 'failed' });
      this.show({ status: 'failed', kind: err instanceof DeviceError ? err.kind : 'failed', error: 'Linking stopped before the other device had everything. Make a new link and try again.' });
    }
  }

  private send(ch: Uint8Array, message: LinkChannelMessage): void {
    try {
      this.deps.relay.sendLinkData(ch, encodeLinkChannelMessage(message));
    } catch (err) {
      this.log.warn('link data not sent', { error: err instanceof Error ? err.name : 'unknown' });
      throw err;
    }
  }

  private show(view: DeviceLinkView): void {
    this.deps.changed({ deviceLink: view });
  }

  private async restore(): Promise<LinkOfferState | undefined> {
    const stored = await this.deps.ctx.store.getMeta(META_LINK_OFFER);
    if (!(stored instanceof Uint8Array) || (stored.length !== 9 + 16 + 32 && stored.length !== 9 + 16 + 48)) return undefined;
    const expiresAt = Number(new DataView(stored.buffer, stored.byteOffset).getBigUint64(1));
    const channel = stored.slice(9, 25);
    const tail = stored.slice(25);
    if (stored[0] === 1 && tail.length === 32) return { status: 'offered', secret: new SecretBytes(tail), channel, expiresAt };
    if (stored[0] === 2 && tail.length === 48) return { status: 'used', channel, expiresAt, device: { id: tail.slice(0, 16), key: tail.slice(16) } };
    return undefined;
  }

  private async persist(state: LinkOfferState): Promise<void> {
    const head = new Uint8Array(9);
    head[0] = state.status === 'offered' ? 1 : 2;
    new DataView(head.buffer).setBigUint64(1, BigInt(state.expiresAt));
    const tail = state.status === 'offered' ? state.secret.expose() : concatBytes(state.device.id, state.device.key);
    await this.deps.ctx.store.setMeta(META_LINK_OFFER, concatBytes(head, state.channel, tail));
  }
}

function isRefusal(kind: string): kind is LinkRefusal {
  return kind === 'link_expired' || kind === 'link_used' || kind === 'link_tampered' || kind === 'foreign_link';
}

/** Another link is being served (one at a time). */
export class LinkBusyError extends Error {
  readonly kind = 'link_busy';
  override readonly name = 'LinkBusyError';
}

/** Unlinking a device the account's list does not name. */
export class UnknownDeviceError extends Error {
  readonly kind = 'unknown_device';
  override readonly name = 'UnknownDeviceError';
}

/** The settings to carry; none when the port is missing or cannot be read (the link goes on without them). */
async function readSettings(port: AccountSettingsPort | undefined): Promise<AccountSettings> {
  try {
    return (await port?.read()) ?? {};
  } catch {
    return {};
  }
}
