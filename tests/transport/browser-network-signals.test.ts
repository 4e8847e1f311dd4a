import { describe, expect, it } from 'vitest';
import { Window } from 'happy-dom';
import { browserNetworkSignals } from '../../src/platform/browser-network-signals.ts';
import type { NetworkSignal } from '../../src/core/transport/network-signals.ts';

describe('browser network signals', () => {
  it('turns online, offline, visibilitychange (to visible) and pageshow into signals, and unsubscribes', () => {
    const win = new Window();
    const signals = browserNetworkSignals(win as unknown as globalThis.Window);
    const seen: NetworkSignal[] = [];
    const off = signals.subscribe((s) => seen.push(s));
    expect(signals.isOnline()).toBe(true);
    win.dispatchEvent(new win.Event('offline'));
    win.dispatchEvent(new win.Event('online'));
    win.document.dispatchEvent(new win.Event('visibilitychange'));
    win.dispatchEvent(new win.Event('pageshow'));
    expect(seen).toEqual(['offline', 'online', 'visible', 'pageshow']);
    off();
    win.dispatchEvent(new win.Event('offline'));
    expect(seen).toHaveLength(4);
    void win.happyDOM.close();
  });
});
