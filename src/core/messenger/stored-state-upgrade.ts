/**
 * Rewrites the state rows written before stored state carried an integrity tag (session
 * sets of format 1 or 2, a prekey pool of format 1) in the current format, once, when the
 * core starts and before anything else reads them. Each row is its own commit (a session's
 * with its expected version, so a concurrent writer would win and be left alone). A row
 * that does not parse is left as it is: using it fails later with its typed error, and
 * nothing is built on it.
 */
import { isCurrentPreKeyPoolFormat, serializePreKeyPool, type PreKeyPool } from '../crypto/index.ts';
import type { Logger } from '../log.ts';
import type { PetrelStore } from '../store/index.ts';
import type { ContactDirectory } from './contact-directory.ts';
import { decodeSessionSet, encodeSessionSet, isLegacySessionSet } from './session-set.ts';

export async function upgradeStoredState(
  store: PetrelStore,
  contactIds: readonly string[],
  pool: { readonly bytes: Uint8Array; readonly value: PreKeyPool } | undefined,
  log: Logger,
): Promise<number> {
  let upgraded = 0;
  if (pool && !isCurrentPreKeyPoolFormat(pool.bytes)) {
    await store.savePreKeyPool(serializePreKeyPool(pool.value));
    upgraded++;
  }
  for (const contactId of contactIds) {
    const row = await store.getSession(contactId);
    if (!row || !isLegacySessionSet(row.state)) continue;
    let state: Uint8Array;
    try {
      state = encodeSessionSet(decodeSessionSet(row.state));
    } catch {
      continue;
    }
    await store.commitSession({ contactId, expectedVersion: row.version, state });
    upgraded++;
  }
  if (upgraded) log.info('stored state upgraded to the integrity-checked formats', { rows: upgraded });
  return upgraded;
}

/**
 * The display name that marked a contact without a name before `ContactRecord.unnamed`
 * existed (the receive pipeline stored it as the name). Only read here, to upgrade rows.
 */
export const LEGACY_UNNAMED_DISPLAY_NAME = 'Unknown contact';

/**
 * Rewrites contacts stored with the old placeholder name and no `unnamed` field as
 * unnamed (empty name), so their first profile still names them; once, at start, before
 * anything reads them. Returns how many were rewritten.
 */
export async function upgradeUnnamedContacts(store: PetrelStore, contacts: ContactDirectory, log: Logger): Promise<number> {
  let upgraded = 0;
  for (const c of contacts.all()) {
    if (c.unnamed !== undefined || c.displayName !== LEGACY_UNNAMED_DISPLAY_NAME) continue;
    const contact = { ...c, displayName: '', unnamed: true };
    await store.putContact(contact);
    contacts.remember(contact);
    upgraded++;
  }
  if (upgraded) log.info('unnamed contacts upgraded', { rows: upgraded });
  return upgraded;
}
