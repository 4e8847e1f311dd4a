import { useId, useLayoutEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import './Dialog.css';

export interface DialogProps {
  readonly title: string;
  readonly onClose: () => void;
  readonly children?: ReactNode;
  readonly className?: string;
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Keeps Tab and Shift+Tab inside `container`. */
function trapTab(e: KeyboardEvent, container: HTMLElement): void {
  const items = [...container.querySelectorAll<HTMLElement>(FOCUSABLE)];
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) {
    e.preventDefault();
    return;
  }
  const active = document.activeElement;
  if (e.shiftKey && (active === first || active === container)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && active === last) {
    e.preventDefault();
    first.focus();
  }
}

/** The open dialogs, the top one last: Escape closes only the top one. */
const openDialogs: object[] = [];

/**
 * A modal dialog: focus moves in on open and back where it was on close; Escape, the
 * Close button and a click on the backdrop close it; Tab stays inside. Escape is heard on
 * the document, so it closes the dialog even when focus fell out of it (an element that
 * held focus was removed by a re-render, and focus went to the body).
 */
export function Dialog({ title, onClose, children, className }: DialogProps) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  // A layout effect: focus moves in as the dialog appears, not after the next paint (Preact
  // runs plain effects after paint, and a quick Escape could close the dialog before then).
  useLayoutEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    ref.current?.focus();
    // Focus goes back once the render that removes the dialog is done: during it the page
    // behind may still be inert (Preact runs this clean-up before it updates the page's
    // attributes), and focusing an inert element does nothing. Only when focus was left
    // with the dialog (now on the body), so a click elsewhere keeps its focus.
    return () =>
      queueMicrotask(() => {
        const active = document.activeElement;
        if (previous?.isConnected && (active === null || active === document.body || !active.isConnected)) previous.focus();
      });
  }, []);
  const close = useRef(onClose);
  useLayoutEffect(() => {
    close.current = onClose;
  });
  useLayoutEffect(() => {
    const me = {};
    openDialogs.push(me);
    const onEscape = (e: globalThis.KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented || openDialogs[openDialogs.length - 1] !== me) return;
      e.preventDefault();
      close.current();
    };
    document.addEventListener('keydown', onEscape);
    return () => {
      document.removeEventListener('keydown', onEscape);
      openDialogs.splice(openDialogs.indexOf(me), 1);
    };
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Tab' && ref.current) trapTab(e, ref.current);
  };
  return (
    <div
      className="dialog-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div ref={ref} role="dialog" aria-modal="true" aria-labelledby={titleId} tabIndex={-1} className={`dialog ${className ?? ''}`} onKeyDown={onKeyDown}>
        <div className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="dialog-close" onClick={onClose}>
            Close
          </button>
        </div>
        <div className="dialog-body">{children}</div>
      </div>
    </div>
  );
}
