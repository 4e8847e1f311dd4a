/**
 * Two people for the end-to-end benchmark: each a headless Chromium of their own with a
 * persistent profile (IndexedDB on disk, as for a user), onboarded and paired through the
 * app's UI on the relay's origin, with the app's test hooks on (to pause the direct path).
 * Also: building dist/ when it is missing or older than src/ (as scripts/chaos.mjs does).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { persistentProfile, type Profile } from '../catchup/browser.ts';
import { addProbe } from './probe.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BUILD_OUTPUTS = [join(ROOT, 'dist/server/relay/main.js'), join(ROOT, 'dist/app/index.html')];
/** Creating an identity generates the prekey pools (ML-KEM included): slow on a loaded box. */
const ONBOARDING_TIMEOUT_MS = 60_000;
/** Opening (or closing) a data channel on loopback; generous for a shared 2-core machine. */
const PATH_TIMEOUT_MS = 30_000;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the app and relay unless dist/ is newer than everything in src/. Returns whether it built. */
export function ensureBuilt(): boolean {
  const built = BUILD_OUTPUTS.every((f) => existsSync(f)) ? Math.min(...BUILD_OUTPUTS.map((f) => statSync(f).mtimeMs)) : 0;
  if (built > newestMtime(join(ROOT, 'src'))) return false;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return true;
}

/** Files under src/ that differ from the commit (the tree is shared: a build may include others' work in progress). */
export function uncommittedSources(): string[] {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
  } catch {
    return [];
  }
}

export interface Person {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly invite: string;
}

interface TestHandle {
  pauseDirect(): Promise<void>;
  resumeDirect(): Promise<void>;
  takeTrace(): Promise<{ page: [string, number][]; worker: [string, number][] }>;
  diagnostics(): Promise<{ metrics: { histograms: Record<string, { count: number; sum: number } | undefined> } }>;
}

/** Launches a browser on its own profile, opens the app and creates an identity through the UI. */
export async function onboard(profile: Profile, origin: string, name: string): Promise<Person> {
  const context = await profile.launch();
  const page = context.pages()[0] ?? (await context.newPage());
  await context.addInitScript(() => {
    (window as unknown as Record<string, unknown>).__PETREL_TEST_HOOKS__ = true;
    // Timing marks in the page and the core Worker, for the stage breakdown (bench/e2e/stages.ts).
    (window as unknown as Record<string, unknown>).__PETREL_TRACE__ = true;
  });
  await addProbe(page);
  await page.goto(origin + '/');
  await page.getByLabel('Display name').fill(name);
  await page.getByRole('button', { name: 'Create identity' }).click();
  const field = page.getByLabel('Your invite link');
  await field.waitFor({ timeout: ONBOARDING_TIMEOUT_MS });
  const deadline = Date.now() + ONBOARDING_TIMEOUT_MS;
  while (!/#invite=/.test(await field.inputValue())) {
    if (Date.now() > deadline) throw new Error(`${name}: no invite link after onboarding`);
    await page.waitForTimeout(50);
  }
  return { name, context, page, invite: await field.inputValue() };
}

export function contactButton(page: Page, name: string) {
  return page.getByRole('button', { name: new RegExp(`^${name}`) }).first();
}

/** `who` opens `other`'s invite link and adds them. */
export async function addContact(who: Person, other: Person): Promise<void> {
  await who.page.goto(other.invite);
  await who.page.getByRole('button', { name: 'Add contact' }).click();
  await contactButton(who.page, other.name).waitFor();
}

export async function openChat(who: Person, other: Person): Promise<void> {
  await contactButton(who.page, other.name).click();
  await who.page.getByRole('textbox', { name: 'Message' }).waitFor();
}

/**
 * Reloads `who`'s app with no conversation open (adding a contact opens its chat), so
 * nothing arriving is marked read. Throws if a chat is open after the reload.
 */
export async function leaveChats(who: Person, origin: string, contactName: string): Promise<void> {
  await who.page.goto(origin + '/');
  await contactButton(who.page, contactName).waitFor();
  const open = await who.page.evaluate(() => (window as unknown as { __petrelTest: { state(): { chat?: unknown } } }).__petrelTest.state().chat !== undefined);
  if (open) throw new Error(`${who.name}: a chat is still open after reloading the app`);
}

/** Waits until the always-visible connection status matches `pattern`. */
export async function waitForConnection(page: Page, pattern: RegExp): Promise<void> {
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: pattern }).waitFor({ timeout: PATH_TIMEOUT_MS });
}

export const DIRECT = /^Online · direct to 1/;
export const RELAY_ONLY = /^Online via relay/;

function handle(page: Page, fn: 'pauseDirect' | 'resumeDirect'): Promise<void> {
  return page.evaluate((f) => (window as unknown as { __petrelTest: TestHandle }).__petrelTest[f](), fn);
}

export const pauseDirect = (p: Person) => handle(p.page, 'pauseDirect');
export const resumeDirect = (p: Person) => handle(p.page, 'resumeDirect');

/** The sender's core-side `delivery.latency` summary so far (compose → delivered, from its message rows). */
export function coreLatency(p: Person): Promise<{ count: number; sum: number }> {
  return p.page.evaluate(async () => {
    const h = (await (window as unknown as { __petrelTest: TestHandle }).__petrelTest.diagnostics()).metrics.histograms['delivery.latency'];
    return { count: h?.count ?? 0, sum: h?.sum ?? 0 };
  });
}

/** The timing marks `p`'s page and core Worker recorded since the last take. */
export function takeTrace(p: Person): Promise<{ page: [string, number][]; worker: [string, number][] }> {
  return p.page.evaluate(() => (window as unknown as { __petrelTest: TestHandle }).__petrelTest.takeTrace());
}

export { persistentProfile };
