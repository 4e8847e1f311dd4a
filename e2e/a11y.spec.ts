import AxeBuilder from '@axe-core/playwright';
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
