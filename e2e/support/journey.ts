/**
 * Steps of a person's journey through the real app, shared by the specs: onboarding,
 * accepting an invite, sending, waiting for the service worker, and axe scans.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Locator, type Page } from '@playwright/test';

/** Creates the identity; returns this person's invite link. */
export async function onboard(page: Page, name: string): Promise<string> {
  await page.getByLabel('Display name').fill(name);
  await page.getByRole('button', { name: 'Create identity' }).click();
  const invite = page.getByLabel('Your invite link');
  await expect(invite).toHaveValue(/#invite=/);
  return invite.inputValue();
}

/** Opens someone's invite link, leaving the review screen on show. */
export async function openInvite(page: Page, inviteUrl: string, name: string): Promise<void> {
  await page.goto(inviteUrl);
  await expect(page.getByRole('heading', { name: `Add ${name}?` })).toBeVisible();
}

/** Opens someone's invite link and adds them. */
export async function accept(page: Page, inviteUrl: string, name: string): Promise<void> {
  await openInvite(page, inviteUrl, name);
  await page.getByRole('button', { name: 'Add contact' }).click();
  await expect(contactButton(page, name)).toBeVisible();
}

export function contactButton(page: Page, name: string): Locator {
  return page.getByRole('button', { name: new RegExp(`^${name}`) }).first();
}

export function messageLog(page: Page): Locator {
  return page.getByRole('log', { name: 'Messages' });
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
}

/** Resolves once a service worker is active and controls `page`. */
export async function waitForControllingServiceWorker(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');
}

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Runs axe on the page as it is (or on `include` only) and returns its serious and
 * critical violations as readable lines, plus the ids of the rules that passed (to
 * prove the scan looked at something).
 */
export async function blockingViolations(page: Page, include?: string): Promise<{ blocking: string[]; passes: string[] }> {
  let builder = new AxeBuilder({ page }).withTags(WCAG_TAGS);
  if (include) builder = builder.include(include);
  const results = await builder.analyze();
  return {
    blocking: results.violations
      .filter((v) => BLOCKING_IMPACTS.has(v.impact ?? ''))
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    passes: results.passes.map((p) => p.id),
  };
}
