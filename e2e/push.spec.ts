import type { BrowserContext, CDPSession, Page } from '@playwright/test';
import { test, expect } from './support/users.ts';
import { accept, blockingViolations, contactButton, messageLog, onboard, send, waitForControllingServiceWorker } from './support/journey.ts';

// Web Push on the device (issue 20). Headless Chromium has no push service, so the push
// itself is delivered through the DevTools protocol (ServiceWorker.deliverPushMessage),
// exactly what the browser does with one from the relay: the service worker's push
// handler runs with no app window open. The relay's sending is proven against a loopback
// push service in tests/relay/push.test.ts.

interface Shown {
  readonly title: string;
  readonly body: string;
  readonly tag: string;
  readonly data: { content?: string; source?: string; outcome?: string; contactId?: string; unread?: number } | null;
}

/** The notifications the service worker's registration shows, read from any page of the origin. */
async function notifications(page: Page): Promise<Shown[]> {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration('/');
    if (!reg) return [];
    return (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as Shown['data'] }));
  });
}

/** The id DevTools knows the origin's service worker registration by. */
async function registrationId(cdp: CDPSession, origin: string): Promise<string> {
  const found = new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const mine = registrations.find((r) => r.scopeURL === `${origin}/` && !r.isDeleted);
      if (mine) resolve(mine.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  return found;
}

async function chooseContent(page: Page, label: string): Promise<void> {
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  await dialog.getByRole('radio', { name: label }).check();
  await expect(dialog.getByRole('radio', { name: label })).toBeChecked();
  await expect(dialog.getByText('Saved.')).toBeVisible();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
}

/** Closes every app window of `context`, keeping (or opening) one non-app page of the origin to observe from. */
async function closeTheApp(context: BrowserContext, app: Page): Promise<Page> {
  const observer = await context.newPage();
  await observer.goto('/health');
  await app.close();
  expect(context.pages().map((p) => new URL(p.url()).pathname)).toEqual(['/health']);
  return observer;
}

// Each choice is made after another one, so the one read is the one saved, not the default.
for (const [before, label, content] of [
  ['Name and text', '“New message”', 'generic'],
  ['Name and text', 'Name only', 'name_only'],
] as const) {
  test(`a push delivered through DevTools to a closed app shows a notification (setting: ${content})`, async ({ users, baseURL }) => {
    const [alice] = await users('alice');
    const { page, context } = alice!;
    await context.grantPermissions(['notifications'], { origin: baseURL! });
    await onboard(page, 'Alice');
    await waitForControllingServiceWorker(page);
    await chooseContent(page, before);
    await chooseContent(page, label);

    const observer = await closeTheApp(context, page);
    const cdp = await context.newCDPSession(observer);
    const id = await registrationId(cdp, baseURL!);
    expect(await notifications(observer)).toEqual([]);
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: baseURL!, registrationId: id, data: '{"v":1}' });

    await expect.poll(() => notifications(observer)).toHaveLength(1);
    const [shown] = await notifications(observer);
    // Read from the persisted choice by the worker itself. "Name only" runs the core in the
    // worker, which finds nothing unread here, so both say "New message".
    const outcome = content === 'generic' ? 'generic_setting' : 'caught_up';
    expect(shown).toEqual({ title: 'Petrel', body: 'New message', tag: 'petrel-new-message', data: { content, source: 'push', outcome } });

    // A second push replaces the first (one tag): never a pile of notifications.
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: baseURL!, registrationId: id, data: '{"v":1}' });
    await expect.poll(async () => (await notifications(observer)).length).toBe(1);
  });
}

test('turning notifications on says what happened when the browser has no push service', async ({ users, baseURL }) => {
  const [alice] = await users('alice');
  const { page, context } = alice!;
  await context.grantPermissions(['notifications'], { origin: baseURL! });
  await onboard(page, 'Alice');
  await waitForControllingServiceWorker(page);
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  const status = dialog.getByTestId('push-status');
  await expect(status).toHaveText('Notifications are off.');
  await dialog.getByRole('button', { name: 'Turn on notifications' }).click();
  // Either the browser subscribed (and the relay took the subscription), or it could not, said in words.
  await expect(status).toHaveText(/^(Notifications are on.*|Push notifications could not be turned on: .+\. You are notified only while Petrel is open\.)$/);
  test.info().annotations.push({ type: 'push status', description: (await status.textContent()) ?? '' });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const { blocking, passes } = await blockingViolations(page, '.settings-dialog');
    expect(blocking, colorScheme).toEqual([]);
    expect(passes.length).toBeGreaterThan(0);
  }
});

test('while the tab is open but hidden, a new message shows a notification from the page with the chosen content', async ({ users, baseURL }) => {
  const [alice, bob] = await users('alice', 'bob');
  await alice!.context.grantPermissions(['notifications'], { origin: baseURL! });
  const aliceInvite = await onboard(alice!.page, 'Alice');
  const bobInvite = await onboard(bob!.page, 'Bob');
  await accept(alice!.page, bobInvite, 'Bob');
  await accept(bob!.page, aliceInvite, 'Alice');
  await waitForControllingServiceWorker(alice!.page);
  await chooseContent(alice!.page, 'Name and text');
  expect(await notifications(alice!.page)).toEqual([]);

  // Headless pages are always "visible": the page is told it is hidden, as a minimised window would be.
  await alice!.page.evaluate(() => Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' }));
  await contactButton(bob!.page, 'Alice').click();
  await send(bob!.page, 'hello while hidden');

  await expect.poll(async () => (await notifications(alice!.page)).map((n) => [n.title, n.body, n.data?.source, n.data?.content])).toEqual([
    ['Bob', 'hello while hidden', 'page', 'name_and_text'],
  ]);

  // Visible again: a message is read in the app, no notification is added.
  await alice!.page.evaluate(() => Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' }));
  await contactButton(alice!.page, 'Bob').click();
  await send(bob!.page, 'seen in the app');
  await expect(messageLog(alice!.page)).toContainText('seen in the app');
  expect((await notifications(alice!.page)).map((n) => n.body)).toEqual(['hello while hidden']);
});

test('a push to a closed app catches up in the service worker: the notification names who wrote and what, and the app has it once', async ({ users, baseURL }) => {
  test.setTimeout(120_000); // two people, a closed app reopened, and the core booted in the service worker
  const [alice, bob] = await users('alice', 'bob');
  await alice!.context.grantPermissions(['notifications'], { origin: baseURL! });
  const aliceInvite = await onboard(alice!.page, 'Alice');
  const bobInvite = await onboard(bob!.page, 'Bob');
  await accept(alice!.page, bobInvite, 'Bob');
  await accept(bob!.page, aliceInvite, 'Alice');
  await waitForControllingServiceWorker(alice!.page);
  await chooseContent(alice!.page, 'Name and text');

  const observer = await closeTheApp(alice!.context, alice!.page);
  const cdp = await alice!.context.newCDPSession(observer);
  const id = await registrationId(cdp, baseURL!);

  // Bob writes while no window of Alice's is open: the relay holds it (sent, not delivered).
  await contactButton(bob!.page, 'Alice').click();
  await send(bob!.page, 'Dinner at eight?');
  const sentRow = messageLog(bob!.page).getByRole('listitem').filter({ hasText: 'Dinner at eight?' });
  await expect(sentRow).toHaveAttribute('data-status', 'sent');

  await cdp.send('ServiceWorker.deliverPushMessage', { origin: baseURL!, registrationId: id, data: '{"v":1}' });
  await expect.poll(() => notifications(observer), { timeout: 30_000 }).toHaveLength(1);
  const [shown] = await notifications(observer);
  expect({ title: shown!.title, body: shown!.body, tag: shown!.tag, source: shown!.data?.source, content: shown!.data?.content, outcome: shown!.data?.outcome }).toEqual({
    outcome: 'caught_up',
    title: 'Bob',
    body: 'Dinner at eight?',
    tag: 'petrel-new-message',
    source: 'push',
    content: 'name_and_text',
  });

  // The worker committed and acknowledged it: Bob sees it delivered, and the app, opened
  // again, shows it once (from storage; the relay no longer holds it).
  await expect(sentRow).toHaveAttribute('data-status', /delivered|read/);
  const reopened = await alice!.context.newPage();
  await reopened.goto('/');
  await contactButton(reopened, 'Bob').click();
  await expect(messageLog(reopened).getByRole('listitem').filter({ hasText: 'Dinner at eight?' })).toHaveCount(1);
});
