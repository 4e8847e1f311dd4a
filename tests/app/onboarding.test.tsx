// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app/App.tsx';
import { Onboarding } from '../../src/app/views/Onboarding.tsx';
import { FakeMessenger, readyState } from './views/fake-messenger.ts';

afterEach(cleanup);

const button = () => screen.getByRole('button', { name: 'Create identity' }) as HTMLButtonElement;
const field = () => screen.getByLabelText('Display name') as HTMLInputElement;

describe('onboarding form', () => {
  it('labels its field "Display name" and keeps "Create identity" disabled until a name is typed', () => {
    render(<Onboarding />);
    expect(field().tagName).toBe('INPUT');
    expect(button().disabled).toBe(true);
    fireEvent.change(field(), { target: { value: 'Alice' } });
    expect(button().disabled).toBe(false);
  });

  it('treats a name of only spaces as empty', () => {
    render(<Onboarding />);
    fireEvent.change(field(), { target: { value: '   ' } });
    expect(button().disabled).toBe(true);
  });

  it('submits the trimmed name', () => {
    const created: string[] = [];
    render(<Onboarding onCreate={(name) => void created.push(name)} />);
    fireEvent.change(field(), { target: { value: '  Alice  ' } });
    fireEvent.click(button());
    expect(created).toEqual(['Alice']);
  });

  it('limits the name to 64 UTF-8 bytes, as the core does, and says so instead of failing later', () => {
    const created: string[] = [];
    render(<Onboarding onCreate={(name) => void created.push(name)} />);
    const ok = ['a'.repeat(64), '🐦'.repeat(16), `  ${'é'.repeat(32)}  `];
    for (const value of ok) {
      fireEvent.change(field(), { target: { value } });
      expect(button().disabled).toBe(false);
      expect(screen.queryByRole('alert')).toBeNull();
      expect(field().getAttribute('aria-invalid')).toBeNull();
    }
    // 33 characters, 66 bytes: under a 64-character cap, over the core's limit.
    for (const value of ['é'.repeat(33), '🐦'.repeat(17), 'a'.repeat(65)]) {
      fireEvent.change(field(), { target: { value } });
      expect(button().disabled).toBe(true);
      const alert = screen.getByRole('alert');
      expect(alert.textContent).toMatch(/too long/);
      expect(field().getAttribute('aria-invalid')).toBe('true');
      expect(field().getAttribute('aria-describedby')).toBe(alert.id);
      fireEvent.submit(field().form!);
      expect(created).toEqual([]);
    }
    expect(field().value).toBe('a'.repeat(65)); // nothing silently cut off
  });

  it('is reachable inside the app frame', () => {
    render(<App messenger={new FakeMessenger(readyState({ phase: 'onboarding' }))} />);
    expect(screen.getByRole('heading', { level: 1, name: 'Petrel' })).toBeTruthy();
    expect(screen.getByRole('main').contains(field())).toBe(true);
    expect(button().disabled).toBe(true);
  });
});
