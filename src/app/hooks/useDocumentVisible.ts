import { useSyncExternalStore } from 'react';

const subscribe = (listener: () => void) => {
  document.addEventListener('visibilitychange', listener);
  return () => document.removeEventListener('visibilitychange', listener);
};
const isVisible = () => document.visibilityState !== 'hidden';

/** Whether the page is visible to the user (not a background tab or minimised window). */
export function useDocumentVisible(): boolean {
  return useSyncExternalStore(subscribe, isVisible);
}
