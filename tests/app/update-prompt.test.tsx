// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { UpdatePrompt } from '../../src/app/pwa/UpdatePrompt.tsx';
import { createUpdateController, type WaitingWorkerHost } from '../../src/app/pwa/update-controller.ts';

afterEach(cleanup);

function setup() {
  const fire = { waiting: [] as Array<() => void>, controlling: [] as Array<() => void> };
  const sent: string[] = [];
  const host: WaitingWorkerHost = {
    onWaiting: (l) => void fire.waiting.push(l),
    onControlling: (l) => void fire.controlling.push(l),
    messageSkipWaiting: () => void sent.push('SKIP_WAITING'),
  };
  let reloads = 0;
  const updates = createUpdateController(host, () => void reloads++);
  render(<UpdatePrompt updates={updates} />);
  return {
    sent,
    reloads: () => reloads,
    waiting: () => act(() => fire.waiting.forEach((l) => l())),
    controlling: () => act(() => fire.controlling.forEach((l) => l())),
  };
}

describe('<UpdatePrompt>', () => {
  it('shows nothing but an empty polite live region while no version waits', () => {
    setup();
    const region = screen.getByRole('status');
    expect(region.getAttribute('aria-live')).toBe('polite');
    expect(region.textContent).toBe('');
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('announces a waiting version; Reload sends SKIP_WAITING and the page reloads once the new worker controls', () => {
    const sw = setup();
    sw.waiting();
    expect(screen.getByRole('status').textContent).toContain('A new version of Petrel is ready');
    const reload = screen.getByRole('button', { name: 'Reload' });

    fireEvent.click(reload);
    expect(sw.sent).toEqual(['SKIP_WAITING']);
    expect(screen.getByRole('button', { name: 'Reload' }).hasAttribute('disabled')).toBe(true);
    expect(sw.reloads()).toBe(0);

    sw.controlling();
    expect(sw.reloads()).toBe(1);
  });

  it('"Not now" hides the notice without activating anything', () => {
    const sw = setup();
    sw.waiting();
    fireEvent.click(screen.getByRole('button', { name: 'Not now' }));
    expect(screen.queryByRole('button', { name: 'Reload' })).toBeNull();
    expect(sw.sent).toEqual([]);
    sw.controlling();
    expect(sw.reloads()).toBe(0);
  });
});
