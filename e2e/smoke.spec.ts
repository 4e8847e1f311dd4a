import { test, expect } from './support/users.ts';

test('the app loads and renders its first screen', async ({ users }) => {
  const [alice] = await users('alice');
  await expect(alice!.page).toHaveTitle('Petrel');
  await expect(alice!.page.getByRole('heading', { name: 'Petrel', level: 1 })).toBeVisible();
  await expect(alice!.page.getByLabel('Display name')).toBeVisible();
  await expect(alice!.page.getByRole('button', { name: 'Create identity' })).toBeDisabled();
});

test('the relay serves the app with a strict Content-Security-Policy', async ({ request }) => {
  const res = await request.get('/');
  expect(res.status()).toBe(200);
  const csp = res.headers()['content-security-policy'];
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  const health = await request.get('/health');
  expect(await health.json()).toEqual({ status: 'ok' });
});
