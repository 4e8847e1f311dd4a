/**
 * Settings (issue 20) in Chromium: a new display name shows in the identity row and in
 * new invites; a chosen theme is applied before the first paint of the next load (no
 * flash of the other theme); Linked devices and Backup open from it; Escape closes the dialog
 * and focus returns to Settings.
 * axe: 0 serious or critical on the dialog, light and dark.
 */
import { blockingViolations, onboard } from './support/journey.ts';
import { test, expect } from './support/users.ts';

test('display name and theme', async ({ users }) => {
  const [alice] = await users('alice');
  const a = alice!.page;
  const firstInvite = await onboard(a, 'Alice');

  await a.getByRole('button', { name: 'Settings' }).click();
  const dialog = a.getByRole('dialog', { name: 'Settings' });
  for (const colorScheme of ['dark', 'light'] as const) {
    await a.emulateMedia({ colorScheme });
    expect((await blockingViolations(a, '.dialog')).blocking, colorScheme).toEqual([]);
  }
  await dialog.getByLabel('Your name').fill('Alicia');
  await dialog.getByRole('button', { name: 'Save name' }).click();
  await expect(dialog.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await dialog.getByLabel('Dark').check();
  await expect(a.locator('html')).toHaveAttribute('data-theme', 'dark');
  // Linked devices and Backup open over Settings; Escape comes back to it.
  for (const [button, title] of [
    ['Linked devices', 'Linked devices'],
    ['Backup', 'Back up'],
  ] as const) {
    await dialog.getByRole('button', { name: button }).click();
    const over = a.getByRole('dialog', { name: title });
    await expect(over).toBeVisible();
    expect((await blockingViolations(a, '.dialog')).blocking, title).toEqual([]);
    await a.keyboard.press('Escape');
    await expect(over).toHaveCount(0);
    await expect(dialog.getByRole('button', { name: button })).toBeFocused();
  }
  await a.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(a.getByRole('button', { name: 'Settings' })).toBeFocused();
  await expect(a.locator('.invite-hint bdi')).toHaveText('Alicia');
  await expect(a.getByLabel('Your invite link')).not.toHaveValue(firstInvite);

  // The next load: the theme is on <html> by the time <body> is parsed, before any module runs.
  await a.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (!document.body) return;
      observer.disconnect();
      (window as unknown as { themeAtBody: string | null }).themeAtBody = document.documentElement.getAttribute('data-theme');
    }).observe(document, { childList: true, subtree: true });
  });
  await a.emulateMedia({ colorScheme: 'light' });
  await a.reload();
  await expect(a.getByLabel('Your invite link')).toHaveValue(/#invite=/);
  expect(await a.evaluate(() => (window as unknown as { themeAtBody: string | null }).themeAtBody)).toBe('dark');
  // Dark tokens although the system is light.
  expect(await a.evaluate(() => getComputedStyle(document.body).colorScheme)).toBe('dark');
  await expect(a.locator('.invite-hint bdi')).toHaveText('Alicia');
});
