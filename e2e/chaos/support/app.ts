/**
 * Driving the app through its UI contract (issue 7) for chaos runs: people are browser
 * contexts opened on an origin the spec chooses (the relay's or the fault proxy's), not
 * the config's baseURL.
 */
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

const ONBOARDING_TIMEOUT_MS = 60_000;

export interface ChaosUser {
  readonly name: string;
  readonly context: BrowserContext;
  page: Page;
  invite: string;
}

export interface OpenOptions {
  /** Expose `window.__petrelTest` (src/platform/browser-messenger.ts) in every page of the context. */
  readonly testHooks?: boolean;
  /** Runs in every page of the context before the app (e.g. to watch what it sends). */
  readonly initScript?: () => void;
}

export async function openUser(browser: Browser, name: string, origin: string, options: OpenOptions = {}): Promise<ChaosUser> {
  const context = await browser.newContext({ baseURL: origin });
  if (options.testHooks) {
    await context.addInitScript(() => {
      (window as unknown as Record<string, unknown>).__PETREL_TEST_HOOKS__ = true;
    });
  }
  if (options.initScript) await context.addInitScript(options.initScript);
  const page = await context.newPage();
  await page.goto('/');
  await page.getByLabel('Display name').fill(name);
  await page.getByRole('button', { name: 'Create identity' }).click();
  const field = page.getByLabel('Your invite link');
  // Creating an identity generates the prekey pools (ML-KEM included): slow on a loaded box.
  await expect(field).toHaveValue(/#invite=/, { timeout: ONBOARDING_TIMEOUT_MS });
  return { name, context, page, invite: await field.inputValue() };
}

export async function addContact(user: ChaosUser, other: ChaosUser): Promise<void> {
  await user.page.goto(other.invite);
  await user.page.getByRole('button', { name: 'Add contact' }).click();
  await expect(contactButton(user.page, other.name)).toBeVisible();
}

export function contactButton(page: Page, name: string) {
  return page.getByRole('button', { name: new RegExp(`^${name}`) }).first();
}

export function composer(page: Page) {
  return page.getByRole('textbox', { name: 'Message' });
}

/** Opens the conversation with `name` (after a reload or a fresh page). */
export async function openChat(page: Page, name: string): Promise<void> {
  await contactButton(page, name).click();
  await expect(composer(page)).toBeVisible();
}

/** Two people who added each other and have their conversation open. */
export async function pair(browser: Browser, origin: string, names: readonly [string, string] = ['Alice', 'Bob'], options: OpenOptions = {}): Promise<[ChaosUser, ChaosUser]> {
  const a = await openUser(browser, names[0], origin, options);
  const b = await openUser(browser, names[1], origin, options);
  await addContact(a, b);
  await addContact(b, a);
  await openChat(a.page, b.name);
  await openChat(b.page, a.name);
  return [a, b];
}

/** Types and sends one message (does not wait for its delivery). */
export async function send(page: Page, text: string): Promise<void> {
  const box = composer(page);
  await box.fill(text);
  await box.press('Enter');
  await expect(box).toHaveValue('');
}

/** The body of message `i` from `who` in a run: unique, and its index is recoverable. */
export function body(tag: string, who: string, i: number): string {
  return `${tag}:${who}:${i}`;
}
