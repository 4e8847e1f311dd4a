/**
 * The keypress journal: a message is written here synchronously the moment Enter or
 * Send is pressed, before the core has committed anything, and removed once the core
 * has it (or refused it). Whatever is left when Petrel next runs a core is sent again
 * with the entry's id as the message id, which the core treats as an idempotency key
 * (`send(…, { id })`): a message pressed just before a reload, a closed tab or a
 * crashed core is neither lost nor shown twice.
 *
 * One Web Storage key per entry (`petrel:<profile>:journal:<id>`), so tabs writing at
 * the same moment never overwrite each other's entries.
 */
import type { SyncStorage } from './sync-storage.ts';
import { keysWithPrefix } from './sync-storage.ts';

export interface JournalEntry {
  /** 32 lowercase hex chars: becomes the message id. */
  readonly id: string;
  readonly contactId: string;
  readonly text: string;
  /** The message it replies to (hex id), so a reply resent from the journal keeps its quote. */
  readonly replyTo?: string;
  /** When it was pressed (ms since epoch); entries are resent oldest first. */
  readonly at: number;
  /** Breaks ties between entries pressed in the same millisecond in one tab. */
  readonly seq: number;
}

export interface SendJournalDeps {
  readonly storage: SyncStorage;
  readonly profile: string;
  /** 16 random bytes as 32 lowercase hex chars. */
  readonly newId: () => string;
  readonly now: () => number;
}

const ID = /^[0-9a-f]{32}$/u;

function parseEntry(id: string, raw: string | null): JournalEntry | undefined {
  if (raw === null || !ID.test(id)) return undefined;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (typeof v.contactId !== 'string' || typeof v.text !== 'string' || typeof v.at !== 'number' || typeof v.seq !== 'number') return undefined;
    if (v.replyTo !== undefined && (typeof v.replyTo !== 'string' || !ID.test(v.replyTo))) return undefined;
    return { id, contactId: v.contactId, text: v.text, ...(typeof v.replyTo === 'string' ? { replyTo: v.replyTo } : {}), at: v.at, seq: v.seq };
  } catch {
    return undefined;
  }
}

export class SendJournal {
  private seq = 0;
  private readonly prefix: string;

  constructor(private readonly deps: SendJournalDeps) {
    this.prefix = `petrel:${deps.profile}:journal:`;
  }

  /**
   * Writes the entry (synchronously). Returns undefined when storage refuses it (full,
   * disabled): the message is then only as safe as the core's commit.
   */
  record(contactId: string, text: string, replyTo?: string): JournalEntry | undefined {
    const reply = replyTo !== undefined ? { replyTo } : {};
    const entry: JournalEntry = { id: this.deps.newId(), contactId, text, ...reply, at: this.deps.now(), seq: this.seq++ };
    try {
      this.deps.storage.setItem(this.prefix + entry.id, JSON.stringify({ contactId, text, ...reply, at: entry.at, seq: entry.seq }));
      return entry;
    } catch {
      return undefined;
    }
  }

  remove(id: string): void {
    try {
      this.deps.storage.removeItem(this.prefix + id);
    } catch {
      // Storage gone: nothing left to remove from.
    }
  }

  /** Is the entry still here (not yet saved by the core or refused, in any tab)? */
  has(id: string): boolean {
    try {
      return this.deps.storage.getItem(this.prefix + id) !== null;
    } catch {
      return false;
    }
  }

  /** Every entry, oldest first; unreadable ones are dropped (and removed). */
  entries(): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (const key of keysWithPrefix(this.deps.storage, this.prefix)) {
      const entry = parseEntry(key.slice(this.prefix.length), this.deps.storage.getItem(key));
      if (entry) out.push(entry);
      else this.deps.storage.removeItem(key);
    }
    return out.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}
