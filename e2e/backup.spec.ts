/**
 * Backup and restore (issue 17) in Chromium through the real relay: Ada, who has a
 * conversation with Bo and verified him, downloads a backup and notes its recovery key;
 * a new browser profile (her site data gone) restores from the file with that key and has
 * Bo, the verification and the history back, with no key-change or impostor warning; Bo
 * writes to the restored device and it writes back. A
 * wrong key is refused in words and changes nothing. The relay copy restores with the key
 * alone.
 */
import { expect, test } from './support/users.ts';
import { accept, contactButton, messageLog as log, onboard, send } from './support/journey.ts';

test('Ada backs up, her site data is gone, she restores from the file: Bo, verification and history are back', async ({ users }) => {
  const [ada, bo, restored] = await users('ada', 'bo', 'ada-restored');
  const a = ada!.page;
  const b = bo!.page;
  const r = restored!.page;
  const adaInvite = await onboard(a, 'Ada');
  const boInvite = await onboard(b, 'Bo');
  await accept(a, boInvite, 'Bo');
  await accept(b, adaInvite, 'Ada');
  await send(a, 'Hello Bo, before my backup');
  await expect(log(a).getByRole('listitem').first()).toHaveAttribute('data-status', /sent|delivered/);
  await a.getByRole('button', { name: 'Verify safety number' }).click();
  await a.getByRole('button', { name: 'Mark as verified' }).click();
  await expect(a.getByText('You have marked Bo as verified.')).toBeVisible();
  await a.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  await a.getByRole('button', { name: 'Back up' }).click();
  const dialog = a.getByRole('dialog', { name: 'Back up' });
  const download = a.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Download backup' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^petrel-backup-.+\.petrel$/);
  const key = await dialog.getByLabel('Recovery key').inputValue();
  expect(key).toMatch(/^([0-9A-Z]{4}-){8}[0-9A-Z]{4}$/);
  await dialog.getByRole('switch', { name: 'Keep a backup on the relay' }).click();
  await expect(dialog.getByRole('switch', { name: 'Keep a backup on the relay' })).toBeChecked();
  const path = test.info().outputPath('backup.petrel');
  await file.saveAs(path);

  // Ada's browser data is gone; a fresh profile restores. A wrong key is refused and nothing changes.
  await a.context().close();
  await r.goto('/');
  const form = r.getByRole('form', { name: 'Restore from backup' });
  await form.getByLabel('Backup file').setInputFiles(path);
  await form.getByLabel('Recovery key').fill(key.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
  await form.getByRole('button', { name: 'Restore' }).click();
  await expect(form.getByRole('alert')).toContainText('recovery key is not quite right');
  await expect(r.getByRole('button', { name: 'Create identity' })).toBeVisible();

  await form.getByLabel('Recovery key').fill(key);
  await form.getByRole('button', { name: 'Restore' }).click();
  await expect(contactButton(r, 'Bo')).toBeVisible();
  await contactButton(r, 'Bo').click();
  await expect(log(r).getByRole('listitem')).toHaveCount(1);
  await expect(log(r).getByRole('listitem').first()).toContainText('Hello Bo, before my backup');
  await r.getByRole('button', { name: 'Verify safety number' }).click();
  await expect(r.getByText('You have marked Bo as verified.')).toBeVisible();
  await r.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  await expect(r.locator('.key-change-banner')).toHaveCount(0);

  // Bo writes and the restored browser reads it, and back.
  await contactButton(b, 'Ada').click();
  await send(b, 'Welcome back, Ada');
  await expect(log(b).getByRole('listitem').filter({ hasText: 'Welcome back, Ada' })).toHaveAttribute('data-status', /delivered|read/);
  await expect(log(r).getByRole('listitem').filter({ hasText: 'Welcome back, Ada' })).toHaveCount(1);
  await send(r, 'Thanks, Bo');
  await expect(log(b).getByRole('listitem').filter({ hasText: 'Thanks, Bo' })).toHaveCount(1);
  await expect(b.locator('.key-change-banner')).toHaveCount(0);
});

test('the relay copy restores with the recovery key alone', async ({ users }) => {
  const [ada, restored] = await users('ada', 'ada-from-relay');
  const a = ada!.page;
  await onboard(a, 'Ada');
  await a.getByRole('button', { name: 'Back up' }).click();
  const dialog = a.getByRole('dialog', { name: 'Back up' });
  await dialog.getByRole('switch', { name: 'Keep a backup on the relay' }).click();
  await expect(dialog.getByRole('switch', { name: 'Keep a backup on the relay' })).toBeChecked();
  // No backup was made before: turning the switch on made the recovery key, shown once.
  const key = await dialog.getByLabel('Recovery key').inputValue();

  const r = restored!.page;
  await r.goto('/');
  const form = r.getByRole('form', { name: 'Restore from backup' });
  await form.getByLabel('Recovery key').fill(key);
  await form.getByRole('button', { name: 'Use the copy kept on the relay' }).click();
  await expect(r.getByRole('button', { name: 'Back up' })).toBeVisible();
});

// Bo only accepted Ada's message request (he never added her from her invite): accepting it
// watches her device list, so the restored device is learnt and reached.
test('after a restore, Bo who only accepted Ada\'s request reaches the restored device', async ({ users }) => {
  const [ada, bo, restored] = await users('ada', 'bo', 'ada-restored');
  const a = ada!.page;
  const b = bo!.page;
  const r = restored!.page;
  await onboard(a, 'Ada');
  const boInvite = await onboard(b, 'Bo');
  await accept(a, boInvite, 'Bo');
  await send(a, 'Hello Bo');
  await contactButton(b, 'Ada').click();
  await b.locator('.chat').getByRole('group', { name: 'Request from Ada' }).getByRole('button', { name: 'Accept' }).click();
  await a.getByRole('button', { name: 'Back up' }).click();
  const download = a.waitForEvent('download');
  await a.getByRole('dialog', { name: 'Back up' }).getByRole('button', { name: 'Download backup' }).click();
  const path = test.info().outputPath('backup.petrel');
  await (await download).saveAs(path);
  const key = await a.getByRole('dialog', { name: 'Back up' }).getByLabel('Recovery key').inputValue();
  await a.context().close();

  await r.goto('/');
  const form = r.getByRole('form', { name: 'Restore from backup' });
  await form.getByLabel('Backup file').setInputFiles(path);
  await form.getByLabel('Recovery key').fill(key);
  await form.getByRole('button', { name: 'Restore' }).click();
  await contactButton(r, 'Bo').click();
  await send(b, 'Welcome back, Ada');
  await expect(log(r).getByRole('listitem').filter({ hasText: 'Welcome back, Ada' })).toHaveCount(1);
});
