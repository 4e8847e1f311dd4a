import { useEffect, type RefObject } from 'react';
import { useUi, useUiStore, type FocusRequest } from '../ui-store.ts';

/** Focuses `target` when focus is requested with `kind` (and `when` holds), then clears the request. */
export function useFocusOnRequest(kind: FocusRequest['kind'], target: RefObject<HTMLElement | null>, when = true): void {
  const ui = useUiStore();
  const request = useUi((s) => s.focusRequest);
  useEffect(() => {
    if (!when || request?.kind !== kind || !target.current) return;
    target.current.focus();
    ui.getState().requestFocus(undefined);
  }, [request, kind, target, when, ui]);
}
