/**
 * "Ada added a device" / "Ada removed a device" (docs/PROTOCOL.md §13.5): when a contact's
 * verified device list gains or loses devices (never its first list, and never a key
 * change: the identity is the one we know), a line about it goes into that conversation
 * (store `addSystemLine`), so the change is seen where it matters without a warning.
 */
import { toHex } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import type { PetrelStore } from '../store/index.ts';
import type { ContactDirectory } from './contact-directory.ts';

export type DeviceChange = 'added' | 'removed';

/**
 * The line's words: the contact's name (or "This contact" while unnamed), what changed, how
 * many, and the added devices' names as their signed list gives them ("Ada added a device:
 * Chromium on Linux"), when it names them.
 */
export function deviceChangeText(name: string, change: DeviceChange, count: number, deviceNames: readonly string[] = []): string {
  const who = name.trim() || 'This contact';
  const what = count === 1 ? 'a device' : `${count} devices`;
  return `${who} ${change} ${what}${deviceNames.length ? `: ${deviceNames.join(', ')}` : ''}`;
}

export async function writeDeviceChangeLine(
  deps: { readonly store: Pick<PetrelStore, 'addSystemLine'>; readonly contacts: ContactDirectory; readonly clock: Clock; readonly random: Random; readonly metrics: Metrics },
  contactId: string,
  change: DeviceChange,
  count: number,
  deviceNames: readonly string[] = [],
): Promise<void> {
  const contact = deps.contacts.byId(contactId);
  if (!contact || count < 1) return;
  await deps.store.addSystemLine({ id: toHex(deps.random.bytes(16)), contactId, text: deviceChangeText(contact.displayName, change, count, deviceNames), at: deps.clock.now() });
  deps.metrics.inc('devices.change_line', { change });
}
