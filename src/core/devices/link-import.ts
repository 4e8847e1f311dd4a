/**
 * The new device's reading of a link transfer (docs/PROTOCOL.md §13.6), record by record
 * (`link-records.ts`), as a state machine that tells its caller what to store at each step
 * (so 10,000 messages are never held at once):
 *
 *   awaiting_account ─link.account─▶ receiving ─link.contacts / link.group / link.messages / link.groupMessages─▶ receiving
 *                                              ─link.end (totals match)─▶ complete
 *
 * The account record must come first; its device list must verify under the identity its
 * seed makes and name THIS device with this device's key (else the transfer was not made
 * for us). Messages must follow their contact. A group record must hold a `group.log`
 * frame, which the caller hands to the group parts as if our linking device had sent it;
 * a group's messages must follow its log, an incoming one naming its author and an
 * outgoing one none. `link.end` must count exactly the contacts
 * and messages received, so a transfer cut short never completes. Every refusal is a typed
 * LinkError and leaves the state as it was.
 */
import { bytesEqual, toHex } from '../bytes.ts';
import { identityFromSeed, type Identity } from '../crypto/identity.ts';
import { decodeGroupFrame } from '../wire/group-content.ts';
import {
  findDevice,
  isWireError,
  type DeviceListBody,
  type LinkContact,
  type LinkGroupMessage,
  type LinkMessage,
  type LinkRecord,
  type LinkSetting,
  type SignedDeviceList,
} from '../wire/index.ts';
import { verifyDeviceList } from './device-list.ts';
import { DeviceError } from './errors.ts';
import { LinkTransferFinishedError, LinkTransferInvalidError } from './link-errors.ts';

export type LinkImportStatus = 'awaiting_account' | 'receiving' | 'complete';

/** What one accepted record asks the caller to store. */
export type LinkImportStep =
  | { readonly kind: 'account'; readonly identity: Identity; readonly name: string; readonly list: DeviceListBody; readonly settings: readonly LinkSetting[] }
  | { readonly kind: 'contacts'; readonly contacts: readonly LinkContact[] }
  | { readonly kind: 'messages'; readonly contact: Uint8Array; readonly messages: readonly LinkMessage[] }
  /** A group's log frame, from our own account; `position`: its place among the transfer's group frames. */
  | { readonly kind: 'group'; readonly account: Uint8Array; readonly frame: Uint8Array; readonly position: number }
  /** A group's messages (after its log), oldest first; `position`: the record's place among the transfer's group histories. */
  | { readonly kind: 'groupMessages'; readonly group: Uint8Array; readonly messages: readonly LinkGroupMessage[]; readonly position: number }
  | { readonly kind: 'complete'; readonly contacts: number; readonly messages: number };

export class LinkImport {
  private status: LinkImportStatus = 'awaiting_account';
  private account: Uint8Array | undefined;
  private readonly contacts = new Set<string>();
  private messages = 0;
  private groupFrames = 0;
  private groupHistories = 0;
  /** Groups whose log arrived (hex ids): their messages may follow. */
  private readonly groups = new Set<string>();

  /** `device`: this device's id and device key, the ones its link request named. */
  constructor(private readonly device: { readonly id: Uint8Array; readonly key: Uint8Array }) {}

  get state(): { readonly status: LinkImportStatus; readonly contacts: number; readonly messages: number } {
    return { status: this.status, contacts: this.contacts.size, messages: this.messages };
  }

  accept(record: LinkRecord): LinkImportStep {
    if (this.status === 'complete') throw new LinkTransferFinishedError('the transfer is already complete');
    if (this.status === 'awaiting_account' && record.t !== 'link.account') throw new LinkTransferInvalidError(`${record.t} before the account`);
    switch (record.t) {
      case 'link.account':
        return this.takeAccount(record.seed, record.name, record.list, record.settings ?? []);
      case 'link.contacts': {
        const fresh = record.contacts.filter((c) => !this.contacts.has(toHex(c.ik)));
        if (fresh.length !== record.contacts.length || new Set(fresh.map((c) => toHex(c.ik))).size !== fresh.length) {
          throw new LinkTransferInvalidError('a contact is sent twice');
        }
        if (fresh.some((c) => bytesEqual(c.ik, this.account!))) throw new LinkTransferInvalidError('the account itself is not a contact');
        for (const c of fresh) this.contacts.add(toHex(c.ik));
        return { kind: 'contacts', contacts: fresh };
      }
      case 'link.group': {
        let frame;
        try {
          frame = decodeGroupFrame(record.frame, ['group.log']);
        } catch (err) {
          if (isWireError(err)) throw new LinkTransferInvalidError(`a group record that is not a group log: ${err.reason}`);
          throw err;
        }
        if (frame.t === 'group.log') this.groups.add(toHex(frame.group));
        return { kind: 'group', account: this.account!, frame: record.frame, position: this.groupFrames++ };
      }
      case 'link.groupMessages':
        if (!this.groups.has(toHex(record.g))) throw new LinkTransferInvalidError('messages of a group whose log was not sent before them');
        if (record.messages.some((m) => (m.dir === 'in') !== (m.from !== undefined))) {
          throw new LinkTransferInvalidError('a group message whose author does not match its direction');
        }
        this.messages += record.messages.length;
        return { kind: 'groupMessages', group: record.g, messages: record.messages, position: this.groupHistories++ };
      case 'link.messages':
        if (!this.contacts.has(toHex(record.ik))) throw new LinkTransferInvalidError('messages of a contact not sent before them');
        this.messages += record.messages.length;
        return { kind: 'messages', contact: record.ik, messages: record.messages };
      case 'link.end':
        if (record.contacts !== this.contacts.size || record.messages !== this.messages) {
          throw new LinkTransferInvalidError(`the transfer ends with ${record.contacts} contacts and ${record.messages} messages; ${this.contacts.size} and ${this.messages} arrived`);
        }
        this.status = 'complete';
        return { kind: 'complete', contacts: this.contacts.size, messages: this.messages };
    }
  }

  private takeAccount(seed: Uint8Array, name: string, signed: SignedDeviceList, settings: readonly LinkSetting[]): LinkImportStep {
    if (this.status !== 'awaiting_account') throw new LinkTransferInvalidError('the account is sent twice');
    const identity = identityFromSeed(seed);
    let list: DeviceListBody;
    try {
      list = verifyDeviceList(signed, identity.publicKey);
    } catch (err) {
      if (err instanceof DeviceError) throw new LinkTransferInvalidError(`the account's device list is refused: ${err.kind}`);
      throw err;
    }
    const me = findDevice(list, this.device.id);
    if (!me || !bytesEqual(me.key, this.device.key)) throw new LinkTransferInvalidError("the account's device list does not name this device");
    this.account = identity.publicKey;
    this.status = 'receiving';
    return { kind: 'account', identity, name, list, settings };
  }
}
