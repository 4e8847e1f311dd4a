/**
 * Two people in real Chromium against the real relay: onboarding, invites, chat both
 * ways with statuses to delivered and read, matching safety numbers, and a reload that
 * keeps identity and history.
 */
import type { Page } from '@playwright/test';
import { accept, messageLog as log, onboard, send } from './support/journey.ts';
import { test, expect } from './support/users.ts';

test('two people onboard, exchange invites and chat; statuses reach delivered and read', async ({ users }) => {
  const [alice, bob] = await users('alice', 'bob');
  const aliceInvite = await onboard(alice!.page, 'Alice');
  const bobInvite = await onboard(bob!.page, 'Bob');
  await expect(alice!.page.getByRole('status', { name: 'Connection' })).toContainText(/online/i);

  await accept(alice!.page, bobInvite, 'Bob');
  await send(alice!.page, 'Hello Bob 🐦 <b>not bold</b>');
  const first = log(alice!.page).getByRole('listitem').first();
  // Bob has not opened the conversation yet: delivered, not read. His app learned
  // Alice's name from the first message; adding her through her invite confirms it.
  await expect(first).toHaveAttribute('data-status', 'delivered');
  await expect(bob!.page.getByRole('button', { name: /^Alice/ }).first()).toBeVisible();

  await accept(bob!.page, aliceInvite, 'Alice');
  await bob!.page.getByRole('button', { name: /^Alice/ }).first().click();
  await expect(log(bob!.page).getByRole('listitem')).toHaveCount(1);
  await expect(log(bob!.page)).toContainText('Hello Bob 🐦 <b>not bold</b>');
  expect(await log(bob!.page).locator('b').count()).toBe(0);
  await expect(first).toHaveAttribute('data-status', 'read');

  await send(bob!.page, 'Hi Alice');
  await send(bob!.page, 'Second line');
  await expect(log(alice!.page).getByRole('listitem')).toHaveCount(3);
  await expect(log(bob!.page).getByRole('listitem').nth(2)).toHaveAttribute('data-status', /delivered|read/);
  await expect(log(alice!.page).getByRole('listitem').nth(1)).toContainText('Hi Alice');
  await expect(log(alice!.page).getByRole('listitem').nth(2)).toContainText('Second line');

  // Safety numbers match on both sides.
  const digits = async (page: Page) => {
    await page.getByRole('button', { name: 'Verify safety number' }).click();
    const text = (await page.getByLabel('Safety number').textContent())!.replace(/\s+/g, '');
    await page.keyboard.press('Escape');
    return text;
  };
  const a = await digits(alice!.page);
  const b = await digits(bob!.page);
  expect(a).toMatch(/^\d{60}$/);
  expect(a).toBe(b);

  // A reload keeps the identity and the history.
  await alice!.page.reload();
  await expect(alice!.page.getByLabel('Your invite link')).toHaveValue(aliceInvite);
  await alice!.page.getByRole('button', { name: /^Bob/ }).first().click();
  await expect(log(alice!.page).getByRole('listitem')).toHaveCount(3);
  await send(alice!.page, 'after reload');
  await expect(log(bob!.page).getByRole('listitem')).toHaveCount(4);
  await expect(log(alice!.page).getByRole('listitem').nth(3)).toHaveAttribute('data-status', /delivered|read/);
});

test('messages written offline show as queued and go when the network is back', async ({ users }) => {
  const [alice, bob] = await users('alice', 'bob');
  const aliceInvite = await onboard(alice!.page, 'Alice');
  const bobInvite = await onboard(bob!.page, 'Bob');
  await accept(alice!.page, bobInvite, 'Bob');
  await accept(bob!.page, aliceInvite, 'Alice');
  await alice!.page.getByRole('button', { name: /^Bob/ }).first().click();
  await send(alice!.page, 'online one');
  await expect(log(alice!.page).getByRole('listitem').first()).toHaveAttribute('data-status', /delivered|read/);

  await alice!.context.setOffline(true);
  await expect(alice!.page.getByRole('status', { name: 'Connection' })).toContainText(/offline|reconnecting|connecting/i);
  for (const t of ['offline 1', 'offline 2', 'offline 3']) await send(alice!.page, t);
  await expect(log(alice!.page).getByRole('listitem').nth(3)).toHaveAttribute('data-status', 'queued');
  await alice!.context.setOffline(false);
  await bob!.page.getByRole('button', { name: /^Alice/ }).first().click();
  await expect(log(bob!.page).getByRole('listitem')).toHaveCount(4);
  await expect(log(bob!.page).getByRole('listitem').nth(3)).toContainText('offline 3');
  await expect(log(alice!.page).getByRole('listitem').nth(3)).toHaveAttribute('data-status', /delivered|read/);
});
