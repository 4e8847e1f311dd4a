import type { Connection } from './connection.ts';

/** Hex key for a mailbox address in in-memory maps (never logged). */
export function mailboxKey(mailbox: Uint8Array): string {
  return Buffer.from(mailbox.buffer, mailbox.byteOffset, mailbox.byteLength).toString('hex');
}

/**
 * Which authenticated connections on THIS node own which mailbox: used to push new
 * envelopes, signaling blobs and `prekeys.low` at once. Several nodes would add a
 * pub/sub notification in front of it; the stores stay the source of truth.
 */
export class SessionRegistry {
  private readonly byMailbox = new Map<string, Set<Connection>>();
  /** Connections told about an account's device-list changes, by account (hex of IK). */
  private readonly byWatched = new Map<string, Set<Connection>>();
  readonly all = new Set<Connection>();

  add(conn: Connection): void {
    this.all.add(conn);
  }

  bind(conn: Connection, key: string): void {
    let set = this.byMailbox.get(key);
    if (!set) this.byMailbox.set(key, (set = new Set()));
    set.add(conn);
  }

  /** `conn` wants `devices.changed` for account `key` (hex of IK); returns whether it was new for this node. */
  watch(conn: Connection, key: string): boolean {
    conn.watching.add(key);
    let set = this.byWatched.get(key);
    const fresh = !set;
    if (!set) this.byWatched.set(key, (set = new Set()));
    set.add(conn);
    return fresh;
  }

  watchers(key: string): readonly Connection[] {
    const set = this.byWatched.get(key);
    return set ? [...set] : [];
  }

  remove(conn: Connection): void {
    this.all.delete(conn);
    for (const key of conn.watching) {
      const set = this.byWatched.get(key);
      set?.delete(conn);
      if (set?.size === 0) this.byWatched.delete(key);
    }
    if (!conn.mailboxKey) return;
    const set = this.byMailbox.get(conn.mailboxKey);
    set?.delete(conn);
    if (set?.size === 0) this.byMailbox.delete(conn.mailboxKey);
  }

  /** Accounts at least one connection here watches (its own account included). */
  watchedAccounts(): number {
    return this.byWatched.size;
  }

  /** Mailboxes with at least one connection bound here. */
  boundMailboxes(): number {
    return this.byMailbox.size;
  }

  owners(key: string): readonly Connection[] {
    const set = this.byMailbox.get(key);
    return set ? [...set] : [];
  }
}
