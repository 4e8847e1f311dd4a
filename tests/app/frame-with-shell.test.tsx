// @vitest-environment happy-dom
import { cleanup, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { AppFrame } from '../../src/app/App.tsx';
import { Shell, type ShellFrame } from '../../src/app/Shell.tsx';
import { FakeMessenger, contact, readyState } from './views/fake-messenger.ts';

afterEach(cleanup);

// The page frame is a drop-in frame for the Shell (a type error here breaks the contract).
const PageFrame: ShellFrame = AppFrame;

describe('the Shell laid into the page frame', () => {
  it('before an identity: one pane, the onboarding form in main, the connection status in the banner', () => {
    const messenger = new FakeMessenger(readyState({ phase: 'onboarding', me: undefined }));
    const { container } = render(<Shell messenger={messenger} frame={PageFrame} />);
    expect(container.querySelector('.frame-body')!.getAttribute('data-layout')).toBe('single');
    expect(screen.getByRole('main').contains(screen.getByLabelText('Display name'))).toBe(true);
    expect(screen.getByRole('banner').contains(screen.getByRole('status', { name: 'Connection' }))).toBe(true);
    expect(screen.queryByRole('navigation')).toBeNull();
  });

  it('with contacts: the contact list is a top-level navigation beside main', () => {
    const messenger = new FakeMessenger(readyState({ contacts: [contact({ id: 'c1', displayName: 'Bob' })] }));
    const { container } = render(<Shell messenger={messenger} frame={PageFrame} />);
    const nav = screen.getByRole('navigation', { name: 'Conversations' });
    expect(nav.parentElement).toBe(screen.getByRole('main').parentElement);
    expect(nav.textContent).toContain('Bob');
    const body = container.querySelector('.frame-body')!;
    expect(body.getAttribute('data-layout')).toBe('split');
    expect(body.getAttribute('data-pane')).toBe('list');
    expect(screen.getAllByRole('main')).toHaveLength(1);
    expect(screen.getAllByRole('banner')).toHaveLength(1);
  });
});
