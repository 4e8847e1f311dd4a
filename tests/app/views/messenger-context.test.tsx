// @vitest-environment happy-dom
import { act, cleanup, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { shallow } from 'zustand/shallow';
import { MessengerProvider, MissingMessengerProvider, useMessengerState } from '../../../src/app/messenger-context.tsx';
import type { MessengerState } from '../../../src/core/messenger/messenger-api.ts';
import { FakeMessenger, contact, readyState } from './fake-messenger.ts';

afterEach(cleanup);

const selectNames = (s: MessengerState) => s.contacts.map((c) => c.displayName);

function Names({ onRender }: { onRender: () => void }) {
  const names = useMessengerState(selectNames, shallow);
  onRender();
  return <p>{names.join(',')}</p>;
}

describe('useMessengerState', () => {
  it('re-renders when the selected slice changes, not on every state change', () => {
    const fake = new FakeMessenger(readyState({ contacts: [contact({ id: 'b', displayName: 'Bob' })] }));
    let renders = 0;
    render(
      <MessengerProvider messenger={fake}>
        <Names onRender={() => renders++} />
      </MessengerProvider>,
    );
    const initial = renders;
    act(() => fake.set({ queueDepth: 5 }));
    act(() => fake.set({ contacts: [contact({ id: 'b', displayName: 'Bob', unread: 3 })] }));
    expect(renders).toBe(initial);
    act(() => fake.set({ contacts: [contact({ id: 'b', displayName: 'Bob' }), contact({ id: 'c', displayName: 'Carol' })] }));
    expect(renders).toBe(initial + 1);
    expect(screen.getByText('Bob,Carol')).toBeTruthy();
  });

  it('unsubscribes on unmount', () => {
    const fake = new FakeMessenger();
    const { unmount } = render(
      <MessengerProvider messenger={fake}>
        <Names onRender={() => {}} />
      </MessengerProvider>,
    );
    expect(fake.listenerCount).toBeGreaterThan(0);
    // As React Testing Library does: unmount inside act, so deferred effect cleanups run.
    act(() => {
      unmount();
    });
    expect(fake.listenerCount).toBe(0);
  });

  it('outside a provider it throws a typed error', () => {
    const swallow = (e: ErrorEvent) => e.preventDefault();
    window.addEventListener('error', swallow);
    try {
      expect(() => render(<Names onRender={() => {}} />)).toThrow(MissingMessengerProvider);
    } finally {
      window.removeEventListener('error', swallow);
    }
  });
});
