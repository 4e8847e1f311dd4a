/**
 * The first screen without waiting for the core (issue 22: LCP waited for the Worker to
 * boot to learn whether an identity exists). The tab remembers, in Web Storage, what the
 * core last said: no identity (onboarding), or this identity with its contact list. The
 * next page load shows that at once — onboarding, or the conversation list as it was —
 * and the core's first state replaces it as soon as it comes, whatever it says.
 *
 * With no hint (a first visit, storage cleared, a version before this one) the tab asks
 * the browser which databases the origin has: none means nobody was ever set up here, so
 * onboarding is right; otherwise it waits for the core as before.
 *
 * Stale hints: an identity or data deleted (site data cleared with Web Storage kept, a
 * storage failure) shows the remembered screen until the core answers (well under a
 * second after the first paint), then the core's. Nothing done on the remembered
 * screen is lost or wrong: commands wait for the core (UI↔core protocol), creating an
 * identity that exists is a no-op, a send to a contact that is gone is refused back to
 * its draft (keypress journal).
 */
import type { ContactView, Me, MessengerState } from '../core/messenger/messenger-api.ts';
import { DEFAULT_DATABASE_NAME } from './idb/schema.ts';
import type { SyncStorage } from './keypress/sync-storage.ts';

/** Contacts remembered at most (the list's first screenful and then some). */
export const HINT_MAX_CONTACTS = 50;
/** Fewest ms between two writes of the hint while the state keeps changing. */
export const HINT_WRITE_GAP_MS = 1_000;

interface Hint {
  readonly v: 1;
  /** Absent: no identity (onboarding). */
  readonly me?: Me;
  readonly contacts?: readonly ContactView[];
}

const key = (profile: string) => `petrel:${profile}:first-screen`;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMe = (v: unknown): v is Me => isRecord(v) && typeof v.displayName === 'string' && typeof v.id === 'string' && typeof v.inviteUrl === 'string';
const isContact = (v: unknown): v is ContactView =>
  isRecord(v) && typeof v.id === 'string' && typeof v.displayName === 'string' && typeof v.unread === 'number' && typeof v.verified === 'boolean' && typeof v.keyChanged === 'boolean' && typeof v.direct === 'boolean';

/** The state to show before the core answers, from the hint; undefined without a usable one. */
export function readFirstScreenHint(storage: SyncStorage, profile: string): MessengerState | undefined {
  let hint: unknown;
  try {
    hint = JSON.parse(storage.getItem(key(profile)) ?? 'null');
  } catch {
    return undefined;
  }
  if (!isRecord(hint) || hint.v !== 1) return undefined;
  const base = { connection: { kind: 'connecting' }, storage: { state: 'ok' }, queueDepth: 0 } as const;
  if (hint.me === undefined) return { ...base, phase: 'onboarding', contacts: [] };
  if (!isMe(hint.me) || !Array.isArray(hint.contacts) || !hint.contacts.every(isContact)) return undefined;
  // Presence (a live direct channel) is the core's to say: never remembered.
  return { ...base, phase: 'ready', me: hint.me, contacts: hint.contacts.map((c) => ({ ...c, direct: false })) };
}

/** What the hint says of `state`; undefined for states that say nothing lasting (loading, failed, follower). */
function hintOf(state: MessengerState): Hint | undefined {
  if (state.phase === 'onboarding') return { v: 1 };
  if ((state.phase === 'ready' || state.phase === 'follower') && state.me) return { v: 1, me: state.me, contacts: state.contacts.slice(0, HINT_MAX_CONTACTS) };
  return undefined;
}

/** What, changed, is written at once: the screen (phase), who, and which contacts are listed. */
function shapeOf(state: MessengerState): string {
  return `${state.phase} ${state.me?.id ?? ''} ${state.contacts
    .slice(0, HINT_MAX_CONTACTS)
    .map((c) => c.id)
    .join(',')}`;
}

/**
 * Keeps the hint up to date with `source`'s state: at once when the screen it describes
 * changes (the phase, the identity, which contacts are listed), otherwise (unread counts,
 * last messages) at most once per HINT_WRITE_GAP_MS, the last state always written.
 * Returns the unsubscribe.
 */
export function keepFirstScreenHint(
  source: { getState(): MessengerState; subscribe(listener: () => void): () => void },
  storage: SyncStorage,
  profile: string,
  timers: { setTimeout(f: () => void, ms: number): unknown } = globalThis,
): () => void {
  let written = storage.getItem(key(profile));
  let lastShape: string | undefined;
  let scheduled = false;
  const write = () => {
    scheduled = false;
    const hint = hintOf(source.getState());
    if (!hint) return;
    const text = JSON.stringify(hint);
    if (text === written) return;
    try {
      storage.setItem(key(profile), text);
      written = text;
    } catch {
      // Storage full or refused: the next load just waits for the core.
    }
  };
  return source.subscribe(() => {
    const shape = shapeOf(source.getState());
    if (shape !== lastShape) {
      lastShape = shape;
      write();
      return;
    }
    if (scheduled) return;
    scheduled = true;
    timers.setTimeout(write, HINT_WRITE_GAP_MS);
  });
}

/** The onboarding state shown before the core answers when the origin has no database at all. */
export const NOBODY_HERE: MessengerState = { phase: 'onboarding', connection: { kind: 'connecting' }, storage: { state: 'ok' }, contacts: [], queueDepth: 0 };

/**
 * True when the browser says this origin has no Petrel database (so no identity); false
 * when it has one or cannot say (then the core decides, as before).
 */
export async function noDatabaseYet(factory: Pick<IDBFactory, 'databases'> | undefined, name: string = DEFAULT_DATABASE_NAME): Promise<boolean> {
  if (typeof factory?.databases !== 'function') return false;
  try {
    const dbs = await factory.databases();
    return !dbs.some((d) => d.name === name);
  } catch {
    return false;
  }
}
