/**
 * A controllable IntersectionObserver for unit tests (happy-dom has no layout, so
 * nothing is ever "in view" by itself): a test says which observed elements are on
 * screen, and the observers are told as a browser would tell them.
 */
import { act } from '@testing-library/preact';
import { vi } from 'vitest';

type Callback = (entries: IntersectionObserverEntry[]) => void;

export interface Sight {
  /** Puts the observed elements matching `selector` (default: all) in view. */
  show(selector?: string): void;
  /** Takes them out of view. */
  hide(selector?: string): void;
  /** The elements currently observed. */
  observed(): Element[];
}

export function stubSight(): Sight {
  const observers = new Set<{ callback: Callback; targets: Set<Element> }>();
  class FakeIntersectionObserver {
    private readonly entry: { callback: Callback; targets: Set<Element> };
    constructor(callback: Callback) {
      this.entry = { callback, targets: new Set() };
      observers.add(this.entry);
    }
    observe(target: Element) {
      this.entry.targets.add(target);
    }
    unobserve(target: Element) {
      this.entry.targets.delete(target);
    }
    disconnect() {
      observers.delete(this.entry);
    }
    takeRecords() {
      return [];
    }
  }
  vi.stubGlobal('IntersectionObserver', FakeIntersectionObserver);
  const tell = (selector: string | undefined, inView: boolean) =>
    act(() => {
      for (const o of observers) {
        const targets = [...o.targets].filter((t) => t.isConnected && (!selector || t.matches(selector)));
        if (targets.length === 0) continue;
        o.callback(
          targets.map(
            (target) =>
              ({
                target,
                isIntersecting: inView,
                intersectionRatio: inView ? 1 : 0,
                rootBounds: null,
                intersectionRect: { height: 0 },
              }) as unknown as IntersectionObserverEntry,
          ),
        );
      }
    });
  return {
    show: (selector) => tell(selector, true),
    hide: (selector) => tell(selector, false),
    observed: () => [...observers].flatMap((o) => [...o.targets]),
  };
}
