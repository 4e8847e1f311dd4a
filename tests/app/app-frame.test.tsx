// @vitest-environment happy-dom
import { cleanup, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { App, AppFrame, MAIN_CONTENT_ID } from '../../src/app/App.tsx';
import { createUpdateController } from '../../src/app/pwa/update-controller.ts';
import { FakeMessenger, readyState } from './views/fake-messenger.ts';

afterEach(cleanup);

describe('<AppFrame>', () => {
  it('has a banner, one main landmark and a skip link pointing at it', () => {
    render(<AppFrame>content</AppFrame>);
    expect(screen.getByRole('banner')).toBeTruthy();
    const main = screen.getByRole('main');
    expect(main.id).toBe(MAIN_CONTENT_ID);
    expect(main.getAttribute('tabindex')).toBe('-1');
    expect(screen.getByRole('link', { name: 'Skip to content' }).getAttribute('href')).toBe(`#${MAIN_CONTENT_ID}`);
    // the brand mark is decoration: the heading's name is the word alone
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Petrel');
  });

  it('single layout without a sidebar: no navigation landmark', () => {
    const { container } = render(<AppFrame>content</AppFrame>);
    expect(screen.queryByRole('navigation')).toBeNull();
    expect(container.querySelector('.frame-body')!.getAttribute('data-layout')).toBe('single');
  });

  it('with a sidebar: a "Conversations" navigation beside main, and the pane a phone shows', () => {
    const { container } = render(
      <AppFrame sidebar={<a href="#c1">Bob</a>} pane="chat" headerEnd={<span>online</span>}>
        chat
      </AppFrame>,
    );
    expect(screen.getByRole('navigation', { name: 'Conversations' }).textContent).toBe('Bob');
    const body = container.querySelector('.frame-body')!;
    expect(body.getAttribute('data-layout')).toBe('split');
    expect(body.getAttribute('data-pane')).toBe('chat');
    expect(screen.getByRole('banner').textContent).toContain('online');
  });

  it('puts the status bar inside the banner, under the title', () => {
    render(<AppFrame statusBar={<span role="status" aria-label="Connection">Offline</span>}>content</AppFrame>);
    const status = screen.getByRole('status', { name: 'Connection' });
    expect(screen.getByRole('banner').contains(status)).toBe(true);
    expect(screen.getByRole('main').contains(status)).toBe(false);
  });
});

describe('<App>', () => {
  it('mounts the update notice only when there is a service worker to update', () => {
    const messenger = new FakeMessenger(readyState({ phase: 'onboarding' }));
    render(<App messenger={messenger} />);
    expect(screen.queryByText(/new version of Petrel/)).toBeNull();
    cleanup();
    const updates = createUpdateController({ onWaiting: () => {}, onControlling: () => {}, messageSkipWaiting: () => {} }, () => {});
    render(<App updates={updates} messenger={messenger} />);
    const notice = screen.getAllByRole('status').find((el) => el.getAttribute('aria-label') !== 'Connection')!;
    expect(notice.getAttribute('aria-live')).toBe('polite');
    // outside the frame's landmarks, so it stays reachable whatever the main pane shows
    expect(screen.getByRole('main').contains(notice)).toBe(false);
  });
});
