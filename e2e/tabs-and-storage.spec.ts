/**
 * The whole app in Chromium when tabs compete or storage goes away: what each tab
 * shows, and that a tab which cannot use storage makes room for another.
 */
import { onboard } from './support/journey.ts';
import { test, expect } from './support/users.ts';

test('without Web Locks the second tab is a full client of the first, and hosts the core when the first closes', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL });
  try {
    // As in a browser without the Web Locks API (the tabs agree on a host over BroadcastChannel).
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
    });
    const first = await context.newPage();
    await first.goto('/');
    expect(await first.evaluate(() => navigator.locks)).toBeUndefined();
    const invite = await onboard(first, 'Alice');

    const second = await context.newPage();
    await second.goto('/');
    // No read-only notice: the same identity, and no second one can be created.
    await expect(second.getByLabel('Your invite link')).toHaveValue(invite);
    await expect(second.getByText('Petrel is open in another tab.')).toHaveCount(0);
    await expect(second.getByLabel('Display name')).toHaveCount(0);
    // Diagnostics in this tab come from the core the first tab hosts.
    await second.getByRole('button', { name: 'Diagnostics' }).click();
    await expect(second.getByRole('dialog', { name: 'Diagnostics' }).locator('[data-breaker="closed"]').first()).toBeVisible();
    await second.keyboard.press('Escape');

    // The hosting tab goes without a goodbye: the other tab asks again and hosts the core.
    await first.close();
    await expect(second.getByLabel('Your invite link')).toHaveValue(invite);
    await expect(second.getByRole('button', { name: 'Diagnostics' })).toBeVisible();
  } finally {
    await context.close();
  }
});

test('storage taken over by a newer version: the tab stops and says to reload; a reload that cannot open it says what to do', async ({ users }) => {
  const [alice] = await users('alice');
  const page = alice!.page;
  await onboard(page, 'Alice');
  await expect(page.getByRole('alert')).toHaveCount(0);

  // Another tab opens Petrel's database at a newer schema version.
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.open('petrel', 1000);
        request.onsuccess = () => {
          request.result.close();
          resolve();
        };
        request.onerror = () => reject(request.error);
      }),
  );
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Petrel was updated in another tab');
  await expect(alert.getByRole('button', { name: 'Reload' })).toBeVisible();
  // Still readable, but nothing can be sent from here any more.
  await expect(page.getByLabel('Your invite link')).toBeVisible();

  await alert.getByRole('button', { name: 'Reload' }).click();
  await expect(page.getByRole('heading', { name: 'Petrel cannot use its storage' })).toBeVisible();
  await expect(page.getByText('What to do:')).toBeVisible();
  await expect(page.getByLabel('Display name')).toHaveCount(0);
  // The failed tab let go of the lock: a new tab is not told another one is running.
  const other = await alice!.context.newPage();
  await other.goto('/');
  await expect(other.getByRole('heading', { name: 'Petrel cannot use its storage' })).toBeVisible();
  await expect(other.getByText('Petrel is open in another tab.')).toHaveCount(0);
});
