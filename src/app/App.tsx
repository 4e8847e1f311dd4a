import type { ReactNode } from 'react';
import type { MessengerApi } from '../core/messenger/messenger-api.ts';
import { Shell } from './Shell.tsx';
import { UpdatePrompt } from './pwa/UpdatePrompt.tsx';
import type { UpdateController } from './pwa/update-controller.ts';
import type { DraftPersistence } from './ui-store.ts';

/** The skip link's target: the one `<main>` of the page. */
export const MAIN_CONTENT_ID = 'main-content';

/** On narrow screens the frame shows one pane at a time (the ui-store's Pane). */
export type FramePane = 'list' | 'chat';

/**
 * The slots of the page frame. They match the Shell's `ShellFrameProps`, so
 * `<Shell frame={AppFrame} />` lays the messenger's views straight into this frame.
 */
export interface AppFrameProps {
  /** Connection status and the like: a bar under the title, always in view. */
  readonly statusBar?: ReactNode;
  /** The contact list: a column beside the main pane from 720 px, a pane of its own below. */
  readonly sidebar?: ReactNode;
  /** Which pane a phone shows when there is a sidebar; wide screens show both. */
  readonly pane?: FramePane;
  /** The right end of the title row (e.g. a menu button). */
  readonly headerEnd?: ReactNode;
  readonly children: ReactNode;
}

/**
 * The page frame every screen sits in: skip link, banner (title row + status bar),
 * the contacts sidebar as a `nav` when there is one, and the `main` landmark. Layout
 * lives in styles.css (`.frame*`).
 */
export function AppFrame({ statusBar, sidebar, pane = 'list', headerEnd, children }: AppFrameProps) {
  return (
    <div className="frame">
      <a className="skip-link" href={`#${MAIN_CONTENT_ID}`}>
        Skip to content
      </a>
      <header className="frame-header">
        <div className="frame-title-row">
          <h1 className="brand">
            <svg className="brand-mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
              <path d="M2.5 12.5C5 6.5 9.5 6 12 11.5 14.5 6 19 6.5 21.5 12.5" />
              <path d="M4 18c3-2.5 5-2.5 8 0s5 2.5 8 0" className="brand-mark-wave" />
            </svg>
            Petrel
          </h1>
          {headerEnd && <div className="frame-header-end">{headerEnd}</div>}
        </div>
        {statusBar && <div className="frame-statusbar">{statusBar}</div>}
      </header>
      <div className="frame-body" data-layout={sidebar ? 'split' : 'single'} data-pane={pane}>
        {sidebar && (
          <nav className="frame-sidebar" aria-label="Conversations">
            {sidebar}
          </nav>
        )}
        <main id={MAIN_CONTENT_ID} className="frame-main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}

export interface AppProps {
  /** The update notice's controller; null when no service worker is registered. */
  readonly updates?: UpdateController | null;
  readonly messenger: MessengerApi;
  /** Drafts kept across reloads. */
  readonly drafts?: DraftPersistence;
}

export function App({ updates = null, messenger, drafts }: AppProps) {
  return (
    <>
      <Shell messenger={messenger} frame={AppFrame} {...(drafts ? { drafts } : {})} />
      {updates && <UpdatePrompt updates={updates} />}
    </>
  );
}
