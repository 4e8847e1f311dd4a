/**
 * The composition root in the browser: tab leadership, the UI↔core protocol between
 * tabs, logs for diagnostics, the keypress journal and the drafts kept in Web Storage.
 * The core itself (IndexedDB, relay, WebRTC, crypto) runs in a Worker the hosting tab
 * starts (`core-worker/`); its code never loads on a UI thread.
 */
import { toHex } from '../core/bytes.ts';
import { createLogger, RingLogSink } from '../core/log.ts';
import type { MessengerApi, MessengerState } from '../core/messenger/messenger-api.ts';
import { keepFirstScreenHint, NOBODY_HERE, noDatabaseYet, readFirstScreenHint } from './first-screen-hint.ts';
import { DraftStore } from './keypress/draft-store.ts';
import { JournaledMessenger } from './keypress/journaled-messenger.ts';
import { SendJournal } from './keypress/send-journal.ts';
import { browserSyncStorage } from './keypress/sync-storage.ts';
import { broadcastChannel, createTabLeadership } from './tab-leadership.ts';
import { TabbedMessenger, type BootContext, type LeaderCore } from './tabbed-messenger.ts';
import type { BrowserMessengerOptions } from './test-hooks.ts';

export interface BrowserMessenger {
  /** The core's commands and state, with the keypress journal in front of `send`. */
  readonly api: MessengerApi;
  /** Drafts per conversation, kept across reloads. */
  readonly drafts: DraftStore;
  readonly logs: RingLogSink;
  /**
   * Resolves once the state shows what the first screen should be before the core answers
   * (the hint, or onboarding on an origin without a database; first-screen-hint.ts).
   */
  readonly firstScreen: Promise<void>;
  start(): Promise<void>;
}

export { TEST_HANDLE, TEST_HOOKS_FLAG, type BrowserMessengerOptions, type PetrelTestHandle } from './test-hooks.ts';

export function createBrowserMessenger(win: Window = window, profile = 'default', options: BrowserMessengerOptions = {}): BrowserMessenger {
  const logs = new RingLogSink(500);
  const logger = createLogger(logs.sink, { level: 'info' });
  for (const problem of options.configProblems ?? []) logger.child('config').warn('setting ignored', { problem });
  const leadership = createTabLeadership<MessengerState>({ profile, logger });
  // The core runs in a module Worker started by the tab that hosts it (core-worker/):
  // its small window side is fetched once the first screen has painted (first-screen-hint.ts
  // decides that screen without the core). Only a browser without workers runs the core's
  // own chunk (boot-browser-core.ts) on this thread.
  const inWorker = typeof Worker !== 'undefined';
  let coreCode: ReturnType<typeof loadWorkerCore> | ReturnType<typeof loadMainThreadCore> | undefined;
  const bootCore = async ({ health }: BootContext): Promise<LeaderCore> => {
    // The first screen paints before the core's code is asked for: a page's largest paint
    // after those requests waits for them on a slow link (Lighthouse's LCP did).
    await firstScreenShown;
    const code = await (coreCode ??= inWorker ? loadWorkerCore() : loadMainThreadCore());
    if ('bootWorkerCore' in code) return code.bootWorkerCore({ win, options, logger, health, profile });
    return code.bootBrowserCore({ win, options, logger, logs, health });
  };
  let journaled: JournaledMessenger | undefined;
  const storage = browserSyncStorage(win);
  // The first screen before the core answers (first-screen-hint.ts): what it said last time,
  // or onboarding when the origin has no database at all.
  const hint = readFirstScreenHint(storage, profile);
  const tabbed = new TabbedMessenger(leadership, bootCore, {
    ...(hint ? { initialState: hint } : {}),
    logger,
    clientId: crypto.randomUUID(),
    // A host that went away may have left pressed messages in the journal.
    onHostChange: () => void journaled?.drain(),
    ...(typeof BroadcastChannel !== 'undefined' ? { coreChannel: broadcastChannel<unknown>(`petrel:${profile}:core`) } : {}),
  });
  const firstScreen = hint ? Promise.resolve() : noDatabaseYet(win.indexedDB).then((none) => void (none && tabbed.showBeforeCore(NOBODY_HERE)));
  const firstScreenShown = firstScreen.then(() => afterNextPaint(win));
  keepFirstScreenHint(tabbed, storage, profile);
  const drafts = new DraftStore(storage, profile);
  win.addEventListener('storage', (e) => drafts.storageChanged(e.key, e.oldValue, e.newValue));
  const journal = new SendJournal({ storage, profile, newId: () => toHex(crypto.getRandomValues(new Uint8Array(16))), now: () => Date.now() });
  const api = (journaled = new JournaledMessenger(tabbed, journal, drafts, logger));
  return { api, drafts, logs, firstScreen, start: () => tabbed.start() };
}

/** After the next frame is painted; at most ~100 ms (a hidden tab paints no frames). */
function afterNextPaint(win: Window): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, 100);
    win.requestAnimationFrame?.(() =>
      setTimeout(() => {
        clearTimeout(timer);
        done();
      }, 0),
    );
  });
}

// One dynamic import per function: in one expression (`a ? import(x) : import(y)`) the
// build preloads both chunks' dependencies, and every first load fetched the main-thread
// core (72 KB gzip) it never runs, ahead of the first screen.
function loadWorkerCore() {
  return import('./core-worker/worker-core.ts');
}

function loadMainThreadCore() {
  return import('./boot-browser-core.ts');
}
