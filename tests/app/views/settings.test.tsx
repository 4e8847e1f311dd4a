// @vitest-environment happy-dom
/**
 * Settings (issue 20): your name (saved through the core; the identity row and new
 * invites say it) and the theme (system, light, dark: applied to <html> at once, kept,
 * and applied before the first paint by public/theme-boot.js).
 */
import { readFileSync } from 'node:fs';
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeMessenger, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

function openSettings(fake = new FakeMessenger(readyState())) {
  renderShell(fake);
  fireEvent.click(screen.getByRole('button', { name: 'Settings' }));
  return { fake, dialog: screen.getByRole('dialog', { name: 'Settings' }) };
}

afterEach(() => {
  localStorage.clear();
  document.documentElement.removeAttribute('data-theme');
});

describe('display name', () => {
  it('saves a new name: the identity row and the invite say it', async () => {
    const { fake, dialog } = openSettings();
    const field = within(dialog).getByLabelText('Your name') as HTMLInputElement;
    expect(field.value).toBe('Alice');
    fireEvent.input(field, { target: { value: 'Alicia' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save name' }));
    expect(fake.callsOf('setDisplayName')).toEqual([['Alicia']]);
    expect((await within(dialog).findByText('Saved. New invites show this name.')).getAttribute('role')).toBe('status');
    fireEvent.keyDown(dialog, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.getByText('Alicia', { selector: 'bdi' })).toBeTruthy();
    expect((screen.getByLabelText('Your invite link') as HTMLInputElement).value).toBe('https://petrel.test/#invite=Alicia');
  });

  it('an empty name is refused before the core; a refusal from the core is said', async () => {
    const { fake, dialog } = openSettings();
    const field = within(dialog).getByLabelText('Your name');
    fireEvent.input(field, { target: { value: '   ' } });
    fireEvent.submit(field.closest('form')!);
    expect(within(dialog).getByRole('alert').textContent).toBe('Enter a name.');
    expect(fake.callsOf('setDisplayName')).toEqual([]);
    fake.failing.add('setDisplayName');
    fireEvent.input(field, { target: { value: 'Al' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save name' }));
    await waitFor(() => expect(within(dialog).getByRole('alert').textContent).toMatch(/could not be saved/));
    expect(field.getAttribute('aria-invalid')).toBe('true');
  });
});

describe('theme', () => {
  it('applies the choice to the page at once and keeps it; System clears it', () => {
    const { dialog } = openSettings();
    const group = within(dialog).getByRole('group', { name: 'Theme' });
    expect((within(group).getByLabelText('Same as the system') as HTMLInputElement).checked).toBe(true);
    fireEvent.click(within(group).getByLabelText('Dark'));
    expect(document.documentElement.getAttribute('data-theme')).toBe('dark');
    expect(localStorage.getItem('petrel.theme')).toBe('dark');
    fireEvent.click(within(group).getByLabelText('Same as the system'));
    expect(document.documentElement.hasAttribute('data-theme')).toBe(false);
    expect(localStorage.getItem('petrel.theme')).toBeNull();
  });

  it('shows the kept choice when Settings opens', () => {
    localStorage.setItem('petrel.theme', 'light');
    const { dialog } = openSettings();
    expect((within(dialog).getByLabelText('Light') as HTMLInputElement).checked).toBe(true);
  });

  it('the boot script applies a kept theme before the app runs, and ignores anything else', () => {
    const boot = readFileSync('public/theme-boot.js', 'utf8');
    localStorage.setItem('petrel.theme', 'dark');
    new Function(boot)();
    expect(document.documentElement.getAttribute('data-theme')).toBe('dark');
    document.documentElement.removeAttribute('data-theme');
    localStorage.setItem('petrel.theme', 'purple');
    new Function(boot)();
    expect(document.documentElement.hasAttribute('data-theme')).toBe(false);
    expect(readFileSync('index.html', 'utf8')).toMatch(/<head>[\s\S]*<script src="\/theme-boot.js"><\/script>[\s\S]*<\/head>/);
  });

  it("the stylesheets' dark tokens are the same for the system's dark and the chosen dark", () => {
    for (const file of ['src/app/styles.css', 'src/app/components/view-tokens.css']) {
      const css = readFileSync(file, 'utf8');
      const tokens = (block: string | undefined) => (block ?? '').split(';').map((d) => d.trim()).filter(Boolean);
      const system = /:root:not\(\[data-theme='light'\]\) \{([^}]*)\}/.exec(css)?.[1];
      const chosen = /:root\[data-theme='dark'\] \{([^}]*--[^}]*)\}/.exec(css)?.[1];
      expect(tokens(system).length, file).toBeGreaterThan(3);
      expect(tokens(chosen), file).toEqual(tokens(system));
    }
  });
});

describe('linked devices and backup from Settings', () => {
  it('Linked devices opens over Settings; Escape returns to Settings with focus on the button', async () => {
    const fake = new FakeMessenger(readyState());
    fake.devices = [{ id: '01'.repeat(16), thisDevice: true, name: 'Chromium on Linux' }];
    const { dialog } = openSettings(fake);
    const open = within(dialog).getByRole('button', { name: 'Linked devices' });
    open.focus();
    fireEvent.click(open);
    const devices = await screen.findByRole('dialog', { name: 'Linked devices' });
    await waitFor(() => expect(within(devices).getAllByRole('listitem')).toHaveLength(1));
    expect(within(devices).getByRole('listitem').textContent).toContain('This device');
    fireEvent.keyDown(devices, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Linked devices' })).toBeNull());
    expect(screen.getByRole('dialog', { name: 'Settings' })).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(within(screen.getByRole('dialog', { name: 'Settings' })).getByRole('button', { name: 'Linked devices' })));
  });

  it('Backup opens the backup view over Settings; closing it returns to Settings', async () => {
    const fake = new FakeMessenger({ ...readyState(), backup: { relay: false } });
    const { dialog } = openSettings(fake);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Backup' }));
    const backup = await screen.findByRole('dialog', { name: 'Back up' });
    expect(within(backup).getByRole('button', { name: 'Download backup' })).toBeTruthy();
    fireEvent.click(within(backup).getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Back up' })).toBeNull());
    expect(screen.getByRole('dialog', { name: 'Settings' })).toBeTruthy();
  });
});
