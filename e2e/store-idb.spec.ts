/**
 * The store in real Chromium: the same contract suite as in Node, over the browser's
 * own IndexedDB; one active tab per profile with real Web Locks and BroadcastChannel
 * (two pages of one context); and a quick receive-commit measurement.
 */
import type { Page } from '@playwright/test';
import { bundleForPage } from './support/bundle.ts';
import type * as StoreEntry from './support/store-entry.ts';
import { expect, test } from './support/users.ts';

let code = '';

test.beforeAll(async () => {
  code = await bundleForPage('./store-entry.ts', 'petrelStoreE2E');
});

type Api = typeof StoreEntry;

async function inject(page: Page): Promise<void> {
  await page.evaluate(code);
}

function call<K extends keyof Api>(page: Page, fn: K, ...args: Parameters<Api[K]>): Promise<Awaited<ReturnType<Api[K]>>> {
  return page.evaluate(
    ([name, a]) => (globalThis as unknown as { petrelStoreE2E: Record<string, (...x: unknown[]) => unknown> }).petrelStoreE2E[name]!(...a),
    [fn, args] as const,
  ) as Promise<Awaited<ReturnType<Api[K]>>>;
}

test('the store contract passes over Chromium IndexedDB', async ({ users }) => {
  test.setTimeout(120_000);
  const [alice] = await users('alice');
  await inject(alice!.page);
  expect(await call(alice!.page, 'expectCanFail')).toBe(true);
  const results = await call(alice!.page, 'runContract');
  expect(results.length).toBeGreaterThanOrEqual(25);
  expect(results.filter((r) => !r.ok)).toEqual([]);
});

test('one active tab: the other pages follow, and one takes over when the leader closes or reloads', async ({ users }) => {
  const [alice] = await users('alice');
  const first = alice!.page;
  const second = await alice!.context.newPage();
  await second.goto('/');
  const third = await alice!.context.newPage();
  await third.goto('/');
  for (const p of [first, second, third]) await inject(p);

  await call(first, 'startLeadership', 'e2e', 'tab-1');
  await expect.poll(() => call(first, 'leadershipSnapshot')).toEqual({ role: 'leader', leaderTab: 'tab-1' });
  await call(second, 'startLeadership', 'e2e', 'tab-2');
  await call(third, 'startLeadership', 'e2e', 'tab-3');
  await expect.poll(() => call(second, 'leadershipSnapshot')).toMatchObject({ role: 'follower', leaderTab: 'tab-1' });

  expect(await call(first, 'publish', 7)).toBe(true);
  await expect.poll(() => call(second, 'leadershipSnapshot')).toEqual({ role: 'follower', leaderTab: 'tab-1', followed: { n: 7 } });
  await expect.poll(() => call(third, 'leadershipSnapshot')).toMatchObject({ followed: { n: 7 } });
  expect(await call(second, 'publish', 8)).toBe(false);

  // The leader's tab closes without a goodbye (as in a crash, no `stop()` runs): the
  // browser releases its lock and exactly one waiting tab takes over.
  await first.close();
  const roles = async () => [(await call(second, 'leadershipSnapshot'))?.role, (await call(third, 'leadershipSnapshot'))?.role];
  await expect.poll(async () => (await roles()).sort()).toEqual(['follower', 'leader']);
  const [leader, follower] = (await roles())[0] === 'leader' ? [second, third] : [third, second];
  await expect.poll(() => call(follower, 'leadershipSnapshot').then((s) => s?.leaderTab)).toBe(leader === second ? 'tab-2' : 'tab-3');

  // The new leader reloads: its document (and lock) is gone; the other tab leads, the reloaded one follows.
  await leader.reload();
  await expect.poll(() => call(follower, 'leadershipSnapshot').then((s) => s?.role)).toBe('leader');
  await inject(leader);
  await call(leader, 'startLeadership', 'e2e', 'tab-4');
  await expect.poll(() => call(leader, 'leadershipSnapshot').then((s) => s?.role)).toBe('follower');
  expect(await call(follower, 'publish', 9)).toBe(true);
  await expect.poll(() => call(leader, 'leadershipSnapshot').then((s) => s?.followed)).toEqual({ n: 9 });
});

test('receive commit speed against raw IndexedDB puts, and enqueue latency (measurement)', async ({ users }) => {
  test.setTimeout(120_000);
  const [alice] = await users('alice');
  await inject(alice!.page);
  const m = await call(alice!.page, 'measureIncoming', 10_000, 500, 300);
  test.info().annotations.push({ type: 'measurement', description: JSON.stringify(m) });
  process.stdout.write(`store measurement: ${JSON.stringify(m)}\n`);
  expect(m.messages).toBe(10_000);
  expect(m.storePerSecond).toBeGreaterThan(0);
});
