/** The window's network and page-life signals, as the relay connection and the direct path need them. */
import type { NetworkSignals } from '../core/transport/network-signals.ts';

/** The browser's signals: `online`/`offline` on window, `visibilitychange`, `pageshow`. */
export function browserNetworkSignals(win: Window): NetworkSignals {
  return {
    isOnline: () => win.navigator.onLine,
    subscribe(listener) {
      const online = () => listener('online');
      const offline = () => listener('offline');
      const visibility = () => {
        if (win.document.visibilityState === 'visible') listener('visible');
      };
      const pageshow = () => listener('pageshow');
      win.addEventListener('online', online);
      win.addEventListener('offline', offline);
      win.document.addEventListener('visibilitychange', visibility);
      win.addEventListener('pageshow', pageshow);
      return () => {
        win.removeEventListener('online', online);
        win.removeEventListener('offline', offline);
        win.document.removeEventListener('visibilitychange', visibility);
        win.removeEventListener('pageshow', pageshow);
      };
    },
  };
}
