import { readFileSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { accept, blockingViolations, contactButton, messageLog, onboard, openInvite, send } from './support/journey.ts';
import { test, expect } from './support/users.ts';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

const VIEWPORTS = [
  { label: 'phone', width: 390, height: 844 },
  { label: 'desktop', width: 1280, height: 800 },
] as const;

for (const colorScheme of ['light', 'dark'] as const) {
  for (const viewport of VIEWPORTS) {
    test(`axe finds no serious or critical violations on the first screen (${colorScheme}, ${viewport.label})`, async ({ users }) => {
      const [alice] = await users('alice');
      const page = alice!.page;
      await page.emulateMedia({ colorScheme });
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      await expect(page.getByLabel('Display name')).toBeVisible();

      const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
      const blocking = results.violations
        .filter((v) => BLOCKING_IMPACTS.has(v.impact ?? ''))
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      expect(blocking).toEqual([]);
      // axe ran the checks that matter here (a silent no-op would also report nothing).
      expect(results.passes.map((p) => p.id)).toEqual(expect.arrayContaining(['color-contrast', 'label', 'landmark-one-main']));
    });
  }
}

test('landmarks and the skip link: the keyboard reaches the main content first', async ({ users }) => {
  const [alice] = await users('alice');
  const page = alice!.page;
  await expect(page.getByRole('banner')).toBeVisible();
  await expect(page.getByRole('main')).toHaveCount(1);
  // The onboarding form shows once the core (in its worker) has said there is no identity yet.
  await expect(page.getByLabel('Display name')).toBeVisible();

  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('main')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Display name')).toBeFocused();

  await page.keyboard.type('Alice');
  await page.keyboard.press('Tab');
  const create = page.getByRole('button', { name: 'Create identity' });
  await expect(create).toBeFocused();
  await expect(create).toBeEnabled();
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`axe finds no serious or critical violations after onboarding and a conversation (${colorScheme})`, async ({ users }) => {
    // Two people, a conversation and six scans on a shared 2-core machine.
    test.setTimeout(180_000);
    const [alice, bob] = await users('alice', 'bob');
    const page = alice!.page;
    await page.emulateMedia({ colorScheme });
    await page.setViewportSize({ width: 1280, height: 800 });
    const scan = async (screen: string, include?: string) => {
      const { blocking, passes } = await blockingViolations(page, include);
      expect(blocking, screen).toEqual([]);
      expect(passes.length, `${screen}: axe ran rules`).toBeGreaterThan(5);
    };

    const aliceInvite = await onboard(page, 'Alice');
    const bobInvite = await onboard(bob!.page, 'Bob');

    await openInvite(page, bobInvite, 'Bob');
    await expect(page.getByRole('group', { name: 'Safety number preview' })).toBeVisible();
    await scan('invite review');

    await page.getByRole('button', { name: 'Add contact' }).click();
    await accept(bob!.page, aliceInvite, 'Alice');
    await send(page, 'Hello Bob');
    await contactButton(bob!.page, 'Alice').click();
    await send(bob!.page, 'Hi Alice, a longer reply so the bubble wraps on a phone screen as well');
    await expect(messageLog(page).getByRole('listitem')).toHaveCount(2);
    await expect(messageLog(page).getByRole('listitem').first()).toHaveAttribute('data-status', 'read');
    await scan('chat view with messages and the contact list');

    await page.getByRole('button', { name: 'Verify safety number' }).click();
    await expect(page.getByRole('group', { name: 'Safety number' })).toBeVisible();
    await scan('safety-number dialog', '[role="dialog"]');
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog')).toHaveCount(0);

    await page.getByRole('button', { name: 'Diagnostics' }).click();
    const diagnostics = page.getByRole('dialog', { name: 'Diagnostics' });
    await expect(diagnostics.getByRole('list', { name: 'Recent log lines' })).toBeVisible();
    await scan('diagnostics dialog', '[role="dialog"]');
    // Its export is a real file with the metrics in it.
    const download = page.waitForEvent('download');
    await diagnostics.getByRole('button', { name: 'Export metrics (JSON)' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^petrel-metrics-.+\.json$/);
    const exported = JSON.parse(readFileSync(await file.path(), 'utf8')) as { format: string; metrics: { counters: Record<string, number> } };
    expect(exported.format).toBe('petrel.metrics.v1');
    expect(Object.keys(exported.metrics.counters).some((k) => k.startsWith('send.success'))).toBe(true);
    await page.keyboard.press('Escape');

    // A phone shows one pane at a time: the contact list, then the chat.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Back to contacts' }).click();
    await expect(contactButton(page, 'Bob')).toBeVisible();
    await scan('contact list (phone)');
    await contactButton(page, 'Bob').click();
    await expect(messageLog(page)).toBeVisible();
    await scan('chat view (phone)');
  });
}

test('axe finds no serious or critical violations in the group views (New group, group chat, Group info; phone and desktop)', async ({ users }) => {
  // Two people, a group and fourteen scans (light and dark) on a shared 2-core machine.
  test.setTimeout(420_000);
  const [alice, bob] = await users('alice', 'bob');
  const page = alice!.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  const scan = async (screen: string, include?: string) => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const { blocking, passes } = await blockingViolations(page, include);
      expect(blocking, `${screen} (${colorScheme})`).toEqual([]);
      expect(passes, `${screen}: axe ran rules`).toEqual(expect.arrayContaining(['color-contrast']));
    }
  };
  const aliceInvite = await onboard(page, 'Alice');
  const bobInvite = await onboard(bob!.page, 'Bob');
  await accept(page, bobInvite, 'Bob');
  await accept(bob!.page, aliceInvite, 'Alice');

  await page.getByRole('button', { name: 'New group' }).click();
  const dialog = page.getByRole('dialog', { name: 'New group' });
  await dialog.getByLabel('Group name').fill('Book club');
  await dialog.getByRole('checkbox', { name: 'Bob' }).check();
  await scan('New group dialog', '[role="dialog"]');
  await dialog.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('region', { name: 'Book club' })).toBeVisible();
  await send(page, 'Welcome to the book club');
  await contactButton(bob!.page, 'Book club').click();
  // The chat opens through the core (the worker's state patch): typed before it shows, the
  // text lands in the chat still shown (Alice's), and Enter in the group sends nothing.
  await expect(bob!.page.getByRole('region', { name: 'Book club' })).toBeVisible();
  await send(bob!.page, 'Thanks, glad to be here');
  await expect(messageLog(page).getByRole('listitem').filter({ hasText: 'glad to be here' })).toHaveCount(1);
  await scan('group chat with a system line and both sides');

  await page.getByRole('button', { name: 'Group info' }).click();
  const info = page.getByRole('dialog', { name: 'Group info' });
  await expect(info.getByRole('listitem')).toHaveCount(2);
  await scan('Group info', '[role="dialog"]');
  await info.getByRole('listitem').filter({ hasText: 'Bob' }).getByRole('button', { name: 'Remove' }).click();
  await expect(info.getByRole('heading', { level: 3 })).toBeFocused();
  await scan('remove confirmation', '[role="dialog"]');
  await info.getByRole('button', { name: 'Cancel' }).click();
  await page.keyboard.press('Escape');

  await page.setViewportSize({ width: 390, height: 844 });
  await scan('group chat (phone)');
  await page.getByRole('button', { name: 'Back to conversations' }).click();
  await expect(contactButton(page, 'Book club')).toBeVisible();
  await scan('conversation list with a group (phone)');
});
