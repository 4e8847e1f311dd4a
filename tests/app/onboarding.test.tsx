// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
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

  it('is reachable inside the app frame', () => {
    render(<App messenger={new FakeMessenger(readyState({ phase: 'onboarding' }))} />);
    expect(screen.getByRole('heading', { level: 1, name: 'Petrel' })).toBeTruthy();
    expect(screen.getByRole('main').contains(field())).toBe(true);
    expect(button().disabled).toBe(true);
  });
});
