import { test as base, type Browser, type BrowserContext, type Page } from '@playwright/test';

/** One person using Petrel: an isolated browser profile (context) with its own storage. */
export interface User {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
}

export async function openUser(browser: Browser, name: string, baseURL: string): Promise<User> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await page.goto('/');
  return { name, context, page };
}

/**
 * `users(n)` opens n independent people at once (separate contexts: separate
 * IndexedDB, service workers and storage), closed after the test.
 */
export const test = base.extend<{ users: (...names: string[]) => Promise<User[]> }>({
  users: async ({ browser, baseURL }, use) => {
    const opened: User[] = [];
    await use(async (...names) => {
      const created = await Promise.all(names.map((n) => openUser(browser, n, baseURL!)));
      opened.push(...created);
      return created;
    });
    await Promise.all(opened.map((u) => u.context.close()));
  },
});

export { expect } from '@playwright/test';
