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

/** Short, readable fingerprint of a contact id (the hex of its identity key). */
export function keyFingerprint(contactId: string): string {
  return `key ${contactId.slice(0, 8)}`;
}

/** The detail per contact id, only for contacts whose name another listed contact shares. */
export function nameDetails(entries: readonly NamedEntry[]): Map<string, string> {
  const groups = new Map<string, NamedEntry[]>();
  for (const e of entries) {
    const key = norm(e.name);
    const group = groups.get(key);
    if (group) group.push(e);
    else groups.set(key, [e]);
  }
  const details = new Map<string, string>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const base = group.map((e) => (e.ended ? 'ended' : e.claimant ? 'new' : ''));
    const uses = new Map<string, number>();
    for (const b of base) uses.set(b, (uses.get(b) ?? 0) + 1);
    group.forEach((e, i) => {
      const b = base[i]!;
      const detail = uses.get(b)! > 1 ? (b ? `${b}, ${keyFingerprint(e.id)}` : keyFingerprint(e.id)) : b;
      if (detail) details.set(e.id, detail);
    });
  }
  return details;
}
