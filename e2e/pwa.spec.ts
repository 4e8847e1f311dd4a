import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium } from '@playwright/test';
import { test, expect } from './support/users.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.ts';
import { accept, contactButton, messageLog, onboard, send, waitForControllingServiceWorker } from './support/journey.ts';
import { freePortSync } from './support/server.ts';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('the service worker precaches the shell and the app opens offline', async ({ users }) => {
  const [alice] = await users('alice');
  const { page, context } = alice!;
  await waitForControllingServiceWorker(page);

  const precached = await page.evaluate(async () => {
    const names = await caches.keys();
    const urls: string[] = [];
    for (const name of names.filter((n) => n.includes('precache'))) {
      for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
    }
    return urls;
  });
  expect(precached).toEqual(expect.arrayContaining(['/index.html', '/manifest.webmanifest', '/icons/icon-192.png', '/icons/icon-512.png']));
  expect(precached.some((p) => /^\/assets\/.+\.js$/.test(p))).toBe(true);
  expect(precached.some((p) => /^\/assets\/.+\.css$/.test(p))).toBe(true);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Petrel', level: 1 })).toBeVisible();
  await expect(page.getByLabel('Display name')).toBeVisible();
  await page.getByLabel('Display name').fill('Alice');
  await expect(page.getByRole('button', { name: 'Create identity' })).toBeEnabled();

  // Any in-app path opens the cached shell (client-side routes work offline)...
  await page.goto('/chats/someone');
  await expect(page.getByLabel('Display name')).toBeVisible();
  // ...but the relay's own endpoints are never answered from the cache.
  await expect(page.goto('/health')).rejects.toThrow(/ERR_INTERNET_DISCONNECTED/);
  await context.setOffline(false);
  const health = await page.goto('/health');
  expect(await health!.json()).toEqual({ status: 'ok' });
});

test('offline: the app reloads from the service worker, a message sent there is queued at once and delivered once online', async ({ users }) => {
  const [alice, bob] = await users('alice', 'bob');
  const { page, context } = alice!;
  const aliceInvite = await onboard(page, 'Alice');
  const bobInvite = await onboard(bob!.page, 'Bob');
  await accept(page, bobInvite, 'Bob');
  await accept(bob!.page, aliceInvite, 'Alice');
  await waitForControllingServiceWorker(page);

  await context.setOffline(true);
  await page.reload();
  // Served by the service worker, the app opens from IndexedDB: identity and contact are there.
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await expect(page.getByLabel('Your invite link')).toHaveValue(aliceInvite);
  await expect(page.getByRole('status', { name: 'Connection' })).toContainText(/offline|reconnecting|connecting/i);
  await contactButton(page, 'Bob').click();
  await send(page, 'written offline');
  const row = messageLog(page).getByRole('listitem').filter({ hasText: 'written offline' });
  await expect(row).toHaveAttribute('data-status', 'queued');

  await context.setOffline(false);
  await expect(row).toHaveAttribute('data-status', /delivered|read/);
  await contactButton(bob!.page, 'Alice').click();
  await expect(messageLog(bob!.page)).toContainText('written offline');
});

test('Chromium reports no installability errors in a persistent profile', async ({ baseURL }) => {
  const profile = mkdtempSync(join(tmpdir(), 'petrel-install-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, baseURL });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const cdp = await context.newCDPSession(page);
    const installabilityErrors = async () =>
      (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors.map((e) => e.errorId);

    // The check is real: a page that is not Petrel is not installable.
    await page.goto('/health');
    expect(await installabilityErrors()).not.toEqual([]);

    await page.goto('/');
    await waitForControllingServiceWorker(page);
    const manifest = await cdp.send('Page.getAppManifest');
    expect(manifest.errors).toEqual([]);
    expect(new URL(manifest.url).pathname).toBe('/manifest.webmanifest');
    await expect.poll(installabilityErrors).toEqual([]);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('the manifest is served as application/manifest+json and every icon loads', async ({ users, request }) => {
  const [alice] = await users('alice');
  await expect(alice!.page.locator('link[rel="manifest"]')).toHaveAttribute('href', '/manifest.webmanifest');

  const res = await request.get('/manifest.webmanifest');
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toBe('application/manifest+json');
  const manifest = (await res.json()) as {
    name: string;
    short_name: string;
    start_url: string;
    scope: string;
    display: string;
    theme_color: string;
    background_color: string;
    icons: { src: string; sizes: string; type: string; purpose: string }[];
  };
  expect(manifest).toMatchObject({ name: 'Petrel', short_name: 'Petrel', start_url: '/', scope: '/', display: 'standalone' });
  expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
  expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/i);
  expect(manifest.icons.map((i) => `${i.sizes} ${i.purpose}`).sort()).toEqual(['192x192 any', '512x512 any', '512x512 maskable']);

  for (const icon of manifest.icons) {
    const got = await request.get(icon.src);
    expect(got.status(), icon.src).toBe(200);
    expect(got.headers()['content-type']).toBe('image/png');
    const { width, height } = pngSize(await got.body());
    expect(`${width}x${height}`).toBe(icon.sizes);
  }

  // The worker script is revalidated on every check, so updates are found at once.
  const sw = await request.get('/sw.js');
  expect(sw.status()).toBe(200);
  expect(sw.headers()['cache-control']).toBe('no-cache');
});

/**
 * A second relay serving its own copy of the built app, so a test can publish a "new
 * version" of the service worker without touching dist/ (which other runs share).
 */
async function startPrivateRelay(): Promise<{ baseURL: string; appDir: string; stop: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'petrel-update-'));
  const appDir = join(root, 'app');
  cpSync('dist/app', appDir, { recursive: true });
  const port = freePortSync();
  const child: ChildProcess = spawn(process.execPath, ['dist/server/relay/main.js'], {
    env: { ...process.env, PORT: String(port), PETREL_APP_DIR: appDir, PETREL_DATA_DIR: join(root, 'data'), PETREL_LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const stop = () => {
    child.kill();
    rmSync(root, { recursive: true, force: true });
  };
  const baseURL = `http://localhost:${port}`;
  try {
    await expect
      .poll(async () => (await fetch(`${baseURL}/health`).catch(() => null))?.status ?? 0, { timeout: 20_000 })
      .toBe(200);
  } catch (err) {
    stop();
    throw err;
  }
  return { baseURL, appDir, stop };
}

test('a new version waits until the user accepts the update prompt, then reloads into it', async ({ browser }) => {
  const relay = await startPrivateRelay();
  const context = await browser.newContext({ baseURL: relay.baseURL });
  try {
    const page = await context.newPage();
    await page.goto('/');
    await waitForControllingServiceWorker(page);
    const prompt = page.getByRole('status').filter({ hasText: 'A new version of Petrel is ready' });
    await expect(prompt).toHaveCount(0);

    // Publish a new version: any byte change in sw.js makes the browser install it.
    appendFileSync(join(relay.appDir, 'sw.js'), '\n// the next version\n');
    await page.evaluate(async () => {
      await (await navigator.serviceWorker.getRegistration())!.update();
    });

    await expect(prompt).toBeVisible();
    await expect(prompt.getByRole('button', { name: 'Reload' })).toBeEnabled();
    const axe = await new AxeBuilder({ page }).include('.update-prompt').analyze();
    expect(axe.violations.map((v) => `${v.id} (${v.impact})`)).toEqual([]);
    // It waits: the old worker keeps control until the user says so.
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.waiting?.state)).toBe('installed');
    const oldBody = await page.evaluateHandle(() => document.body);

    const reloaded = page.waitForEvent('load');
    await prompt.getByRole('button', { name: 'Reload' }).click();
    await reloaded;
    expect(await oldBody.evaluate((body) => body.isConnected).catch(() => false)).toBe(false);
    await expect(page.getByLabel('Display name')).toBeVisible();
    const after = await page.evaluate(async () => {
      const reg = (await navigator.serviceWorker.getRegistration())!;
      return { waiting: reg.waiting, active: reg.active?.state, controlled: navigator.serviceWorker.controller !== null };
    });
    expect(after).toEqual({ waiting: null, active: 'activated', controlled: true });
    await expect(prompt).toHaveCount(0);
  } finally {
    await context.close();
    relay.stop();
  }
});
