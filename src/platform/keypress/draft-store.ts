/**
 * Drafts per conversation, kept in Web Storage (`petrel:<profile>:draft:<contactId>`)
 * so an unsent text survives a reload or a closed tab. Written synchronously on every
 * change; listeners hear changes made by this object (e.g. a journal entry the core
 * refused, given back as a draft) and, through `storageChanged`, by other tabs.
 *
 * Another tab's change carries the value it replaced (`previous`): a tab adopts it only
 * over that value, so a change that reaches it late (storage events lag behind a busy
 * page) never overwrites what was typed here since (Enter then sent nothing, or the other
 * tab's text).
 */
import { keysWithPrefix, type SyncStorage } from './sync-storage.ts';

/**
 * A draft changed; `previous` is the value another tab's change replaced (undefined: a
 * change made here, which applies whatever this page shows).
 */
export type DraftListener = (contactId: string, text: string, previous?: string) => void;

export class DraftStore {
  private readonly prefix: string;
  private readonly listeners = new Set<DraftListener>();

  constructor(
    private readonly storage: SyncStorage,
    profile: string,
  ) {
    this.prefix = `petrel:${profile}:draft:`;
  }

  all(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const key of keysWithPrefix(this.storage, this.prefix)) {
      const text = this.storage.getItem(key);
      if (text) out[key.slice(this.prefix.length)] = text;
    }
    return out;
  }

  get(contactId: string): string {
    return this.storage.getItem(this.prefix + contactId) ?? '';
  }

  /** Saves (or, for '', removes) the draft; storage that refuses keeps the draft in memory only. */
  set(contactId: string, text: string): void {
    try {
      if (text === '') this.storage.removeItem(this.prefix + contactId);
      else this.storage.setItem(this.prefix + contactId, text);
    } catch {
      // Full or disabled storage: the UI still holds the draft for this page's life.
    }
  }

  /** Gives text back to a conversation's draft (after what is there), telling listeners. */
  restore(contactId: string, text: string): void {
    const current = this.get(contactId);
    const next = current ? `${current}\n${text}` : text;
    this.set(contactId, next);
    this.emit(contactId, next);
  }

  /** A `storage` event from another tab: tells listeners when it is one of our drafts (and what it replaced). */
  storageChanged(key: string | null, oldValue: string | null, value: string | null): void {
    if (key === null || !key.startsWith(this.prefix)) return;
    this.emit(key.slice(this.prefix.length), value ?? '', oldValue ?? '');
  }

  subscribe(listener: DraftListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(contactId: string, text: string, previous?: string): void {
    for (const l of this.listeners) l(contactId, text, previous);
  }
}
