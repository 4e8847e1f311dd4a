/**
 * The contact list never shows two identical names. Among the listed contacts whose shown
 * names are the same (compared as a person reads them: key-change.ts `sameName`), each
 * gets a detail: "ended" for a conversation ended by a contact reset, "new" for the
 * contact that claimed the name with another key, and — where that still leaves two alike
 * — a short fingerprint of the identity key ("key 1a2b3c4d"). A unique name gets none.
 */
export interface NamedEntry {
  readonly id: string;
  /** The name shown; empty for a contact that has not told its name (all such are alike). */
  readonly name: string;
  readonly ended: boolean;
  /** It claimed the name of another contact with a different key. */
  readonly claimant: boolean;
}

const norm = (s: string) => s.normalize('NFKC').trim().toLocaleLowerCase();

/** Short, readable fingerprint of a contact id (the hex of its identity key): its first `hexChars`. */
export function keyFingerprint(contactId: string, hexChars = 8): string {
  return `key ${contactId.slice(0, hexChars)}`;
}

/** The name as the list shows it with `detail` (the app's words: "Bob (ended)"). */
export function labelOf(name: string, detail: string | undefined): string {
  return detail ? `${name} (${detail})` : name;
}

function groupBy(entries: readonly NamedEntry[], key: (e: NamedEntry) => string): NamedEntry[][] {
  const groups = new Map<string, NamedEntry[]>();
  for (const e of entries) {
    const k = key(e);
    const group = groups.get(k);
    if (group) group.push(e);
    else groups.set(k, [e]);
  }
  return [...groups.values()];
}

/** The detail per contact id, only for contacts whose name another listed contact shares. */
export function nameDetails(entries: readonly NamedEntry[]): Map<string, string> {
  const details = new Map<string, string>();
  const base = new Map<string, string>();
  for (const group of groupBy(entries, (e) => norm(e.name))) {
    if (group.length < 2) continue;
    for (const e of group) base.set(e.id, e.ended ? 'ended' : e.claimant ? 'new' : '');
    const uses = new Map<string, number>();
    for (const e of group) uses.set(base.get(e.id)!, (uses.get(base.get(e.id)!) ?? 0) + 1);
    for (const e of group) {
      const b = base.get(e.id)!;
      const detail = uses.get(b)! > 1 ? (b ? `${b}, ${keyFingerprint(e.id)}` : keyFingerprint(e.id)) : b;
      if (detail) details.set(e.id, detail);
    }
  }
  // Labels that still read alike (two ids with the same first hex digits, or someone who
  // named themselves "Bob (ended)") get longer fingerprints until every label differs.
  for (let hexChars = 8; hexChars <= 64; hexChars += 8) {
    const colliding = groupBy(entries, (e) => norm(labelOf(e.name, details.get(e.id)))).filter((g) => g.length > 1);
    if (!colliding.length) break;
    for (const e of colliding.flat()) {
      const b = base.get(e.id);
      details.set(e.id, b ? `${b}, ${keyFingerprint(e.id, hexChars + 8)}` : keyFingerprint(e.id, hexChars + 8));
    }
  }
  return details;
}
