// @vitest-environment happy-dom
/**
 * Backup and restore in the UI (issue 17's UI contract), over the fake messenger: Back up
 * opens a view with Download backup (the file handed to the browser, its Recovery key shown
 * once), the Keep a backup on the relay switch; onboarding's Restore from backup (Backup
 * file, Recovery key, Restore; restore from the relay with the key alone), each refusal
 * shown in words that say what to do, and the account never entered on a failure.
 */
import { createEvent, fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackupWrongKeyError, BackupTamperedError, BackupNotFoundError } from '../../../src/core/backup/errors.ts';
import { FakeMessenger, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

const ONBOARDING = { phase: 'onboarding' as const, me: undefined };
const KEY = 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789-CCCC';

afterEach(() => vi.restoreAllMocks());

function chooseFile(input: HTMLElement, bytes: Uint8Array): void {
  const file = new File([bytes as BlobPart], 'petrel-backup.petrel', { type: 'application/octet-stream' });
  fireEvent(input, createEvent.change(input, { target: { files: [file] } }));
}

describe('the Back up view', () => {
  it('downloads a backup, shows its recovery key once, and keeps a copy on the relay with the switch', async () => {
    const created: Blob[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      created.push(b as Blob);
      return 'blob:backup';
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const fake = new FakeMessenger({ ...readyState(), backup: { relay: false } });
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Back up' }));
    const dialog = await screen.findByRole('dialog', { name: 'Back up' });
    expect(within(dialog).queryByLabelText('Recovery key')).toBeNull();

    fireEvent.click(within(dialog).getByRole('button', { name: 'Download backup' }));
    const key = (await within(dialog).findByLabelText('Recovery key')) as HTMLInputElement;
    expect(key.value).toBe(KEY);
    expect(key.readOnly).toBe(true);
    expect(fake.callsOf('createBackup')).toEqual([[{}]]);
    expect(created).toHaveLength(1);
    expect(new Uint8Array(await created[0]!.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));

    const relay = within(dialog).getByRole('switch', { name: 'Keep a backup on the relay' }) as HTMLInputElement;
    expect(relay.checked).toBe(false);
    fireEvent.click(relay);
    await waitFor(() => expect(relay.checked).toBe(true));
    expect(fake.callsOf('setRelayBackup')).toEqual([[true]]);
    expect(within(dialog).getByRole('status').textContent).toMatch(/kept on the relay/);

    // Shown once: closing the view forgets it.
    fireEvent.click(within(dialog).getByRole('button', { name: /close/i }));
    fireEvent.click(screen.getByRole('button', { name: 'Back up' }));
    const again = await screen.findByRole('dialog', { name: 'Back up' });
    expect(within(again).queryByLabelText('Recovery key')).toBeNull();
  });

  it('says when the backup could not be made', async () => {
    vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:x');
    const fake = new FakeMessenger(readyState());
    fake.failing.add('createBackup');
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Back up' }));
    const dialog = await screen.findByRole('dialog', { name: 'Back up' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Download backup' }));
    expect((await within(dialog).findByRole('alert')).textContent).toMatch(/could not be made/);
    expect(within(dialog).queryByLabelText('Recovery key')).toBeNull();
  });

  it('is not offered before there is an account', () => {
    renderShell(new FakeMessenger({ ...readyState(), ...ONBOARDING }));
    expect(screen.queryByRole('button', { name: 'Back up' })).toBeNull();
  });
});

describe('Restore from backup in onboarding', () => {
  it('restores from the chosen file with the recovery key', async () => {
    const fake = new FakeMessenger({ ...readyState(), ...ONBOARDING });
    renderShell(fake);
    const form = screen.getByRole('form', { name: 'Restore from backup' });
    const restore = within(form).getByRole('button', { name: 'Restore' }) as HTMLButtonElement;
    expect(restore.disabled).toBe(true);
    chooseFile(within(form).getByLabelText('Backup file'), new Uint8Array([9, 8, 7]));
    fireEvent.input(within(form).getByLabelText('Recovery key'), { target: { value: ` ${KEY} ` } });
    await waitFor(() => expect(restore.disabled).toBe(false));
    fireEvent.click(restore);
    await waitFor(() => expect(fake.callsOf('restoreFromBackup')).toHaveLength(1));
    const [bytes, secret] = fake.callsOf('restoreFromBackup')[0]!;
    expect(bytes).toEqual(new Uint8Array([9, 8, 7]));
    expect(secret).toBe(KEY);
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Restore from backup' })).toBeNull());
  });

  it('shows a wrong key, a damaged file and an empty vault in words, staying on onboarding', async () => {
    const fake = new FakeMessenger({ ...readyState(), ...ONBOARDING });
    renderShell(fake);
    const form = screen.getByRole('form', { name: 'Restore from backup' });
    chooseFile(within(form).getByLabelText('Backup file'), new Uint8Array([1]));
    fireEvent.input(within(form).getByLabelText('Recovery key'), { target: { value: KEY } });

    fake.restoreError = new BackupWrongKeyError('the key check does not match');
    fireEvent.click(within(form).getByRole('button', { name: 'Restore' }));
    expect((await within(form).findByRole('alert')).textContent).toMatch(/does not open this backup/);

    fake.restoreError = new BackupTamperedError(3);
    fireEvent.click(within(form).getByRole('button', { name: 'Restore' }));
    await waitFor(() => expect(within(form).getByRole('alert').textContent).toMatch(/cannot be read/));

    fake.restoreError = new BackupNotFoundError('none');
    fireEvent.click(within(form).getByRole('button', { name: /kept on the relay/ }));
    await waitFor(() => expect(within(form).getByRole('alert').textContent).toMatch(/keeps no backup under this recovery key/));
    expect(fake.getState().phase).toBe('onboarding');
  });

  it('restores from the relay with the recovery key alone', async () => {
    const fake = new FakeMessenger({ ...readyState(), ...ONBOARDING });
    renderShell(fake);
    const form = screen.getByRole('form', { name: 'Restore from backup' });
    const fromRelay = within(form).getByRole('button', { name: /kept on the relay/ }) as HTMLButtonElement;
    expect(fromRelay.disabled).toBe(true);
    fireEvent.input(within(form).getByLabelText('Recovery key'), { target: { value: KEY } });
    await waitFor(() => expect(fromRelay.disabled).toBe(false));
    fireEvent.click(fromRelay);
    await waitFor(() => expect(fake.callsOf('restoreFromRelay')).toEqual([[KEY]]));
    await waitFor(() => expect(fake.getState().phase).toBe('ready'));
  });
});

describe('the backup reminder', () => {
  it('shows when the core says one is due, opens the Back up view, and goes away for the page with Not now', async () => {
    const fake = new FakeMessenger({ ...readyState(), backup: { relay: false, remind: true } });
    renderShell(fake);
    const banner = (await screen.findByText(/no backup and no other device/)).closest('.backup-reminder') as HTMLElement;
    fireEvent.click(within(banner).getByRole('button', { name: 'Back up now' }));
    expect(await screen.findByRole('dialog', { name: 'Back up' })).toBeTruthy();
    fireEvent.click(within(banner).getByRole('button', { name: 'Not now' }));
    await waitFor(() => expect(screen.queryByText(/no backup and no other device/)).toBeNull());
  });

  it('is not shown when no reminder is due', async () => {
    renderShell(new FakeMessenger({ ...readyState(), backup: { relay: false } }));
    await screen.findByRole('button', { name: 'Back up' });
    expect(screen.queryByText(/no backup and no other device/)).toBeNull();
  });
});
