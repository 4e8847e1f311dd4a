import type { ComponentType, ReactNode } from 'react';
import type { Pane } from '../ui-store.ts';
import './ShellFrame.css';

/** The slots a frame lays out (Petrel's own below, or the app's page frame). */
export interface ShellFrameProps {
  /** Connection status and the Diagnostics button: keep it always visible. */
  readonly statusBar: ReactNode;
  /** The contacts column; absent before there is an identity. */
  readonly sidebar?: ReactNode;
  /** Which pane a phone shows when there is a sidebar (wide screens show both). */
  readonly pane: Pane;
  readonly children: ReactNode;
}

export type ShellFrame = ComponentType<ShellFrameProps>;

/**
 * The Shell's own frame, for use below an existing app header: a status bar, then
 * the sidebar (a `nav`) beside the main pane, filling the rest of the viewport.
 */
export function OwnShellFrame({ statusBar, sidebar, pane, children }: ShellFrameProps) {
  return (
    <div className="shell-frame">
      <div className="shell-bar">{statusBar}</div>
      <div className="shell-body" data-layout={sidebar ? 'split' : 'single'} data-pane={pane}>
        {sidebar && (
          <nav className="shell-sidebar" aria-label="Conversations">
            {sidebar}
          </nav>
        )}
        <div className="shell-main">{children}</div>
      </div>
    </div>
  );
}
