/**
 * The first screen without waiting for the core's Worker (issue 22, LCP): a returning
 * person's conversation list shows while the worker's code is still on its way, and a
 * stale hint (it names an identity the storage no longer has) gives way to the core's
 * onboarding as soon as the core answers.
 */
import { expect, test } from '@playwright/test';
import { onboard } from './support/journey.ts';

const HINT_KEY = 'petrel:default:first-screen';

test('the conversation list shows before the core’s worker has even loaded; the core takes over when it has', async ({ browser, baseURL }) => {
  // No service worker: the worker's script is fetched from the network, where the test holds it.
  const context = await browser.newContext({ baseURL, serviceWorkers: 'block' });
  const page = await context.newPage();
  await page.goto('/');
  await onboard(page, 'Ann');
  await expect.poll(() => page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? 'null')?.me?.displayName, HINT_KEY)).toBe('Ann');

  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.route(/core-worker-[^/]*\.js$/u, async (route) => {
    await held;
    await route.continue();
  });
  await page.reload();
  // The core cannot be running: its code has not arrived. The list shell is there all the same.
  await expect(page.getByRole('navigation', { name: 'Conversations' })).toBeVisible();
  await expect(page.getByText('Opening Petrel…')).toHaveCount(0);
  release();
  // The core's own state replaces the hint: the invite link is the core's to give.
  await expect(page.getByLabel('Your invite link')).toHaveValue(/#invite=/);
  await context.close();
});

test('a stale hint naming an identity that storage no longer has gives way to onboarding', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL });
  const stale = {
    v: 1,
    me: { displayName: 'Gone', id: 'a'.repeat(64), inviteUrl: 'http://localhost/#invite=gone' },
    contacts: [{ id: 'b'.repeat(64), displayName: 'Bob', verified: false, keyChanged: false, unread: 0, direct: false }],
  };
  await context.addInitScript(
    ([key, hint]) => {
      // Once: what the core writes afterwards must not be overwritten on the next navigation.
      if (localStorage.getItem(key) === null) localStorage.setItem(key, hint);
      const w = window as unknown as { __sawStaleList?: boolean };
      new MutationObserver(() => {
        if (document.querySelector('nav[aria-label="Conversations"]')?.textContent?.includes('Bob')) w.__sawStaleList = true;
      }).observe(document, { childList: true, subtree: true });
    },
    [HINT_KEY, JSON.stringify(stale)] as const,
  );
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByLabel('Display name')).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Conversations' })).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __sawStaleList?: boolean }).__sawStaleList)).toBe(true);
  // The hint now says what the core said.
  await expect.poll(() => page.evaluate((k) => localStorage.getItem(k), HINT_KEY)).toBe('{"v":1}');
  await context.close();
});
