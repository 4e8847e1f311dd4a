/**
 * Phone navigation in real Chromium: on a phone-sized page the browser's Back goes from
 * a chat to the contact list and stays in Petrel, and a link to a conversation
 * (`#/chat/<contact id>`) opens it, with Back from there leading to the list too. On the
 * way, a web link in a message is a safe link and the chat has no serious axe violations.
 */
import { accept, blockingViolations, messageLog, onboard, send } from './support/journey.ts';
import { test, expect } from './support/users.ts';

const PHONE = { width: 390, height: 844 };

test('on a phone, Back goes from a chat to the list and a chat link opens that chat', async ({ users, baseURL }) => {
  const [alice, bob] = await users('alice', 'bob');
  await onboard(bob!.page, 'Bob');
  const bobInvite = await bob!.page.getByLabel('Your invite link').inputValue();
  await onboard(alice!.page, 'Alice');
  await accept(alice!.page, bobInvite, 'Bob');

  const page = alice!.page;
  await page.setViewportSize(PHONE);
  // Adding Bob opened his chat: Back to the list first, then open it from the list.
  await page.getByRole('button', { name: 'Back to contacts' }).click();
  await expect(page.getByRole('heading', { name: 'Conversations' })).toBeVisible();
  await page.getByRole('button', { name: /^Bob/ }).first().click();
  await expect(page.getByRole('heading', { name: 'Bob' })).toBeVisible();
  await expect(page).toHaveURL(/#\/chat\/[0-9a-f]{64}$/);
  const chatUrl = page.url();

  // A link in a message is a safe link; a javascript: one stays text. The chat stays axe-clean.
  await send(page, 'see https://example.org/petrel and javascript:alert(1)');
  const text = messageLog(page).getByRole('listitem').first().locator('.message-text');
  await expect(text).toHaveText('see https://example.org/petrel and javascript:alert(1)');
  await expect(text).toHaveAttribute('dir', 'auto');
  const link = text.getByRole('link');
  await expect(link).toHaveCount(1);
  await expect(link).toHaveAttribute('href', 'https://example.org/petrel');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(link).toHaveAttribute('target', '_blank');
  const { blocking, passes } = await blockingViolations(page);
  expect(blocking).toEqual([]);
  expect(passes.length).toBeGreaterThan(5);

  // The browser's Back: the list, still in Petrel.
  await page.goBack();
  await expect(page.getByRole('heading', { name: 'Conversations' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Bob' })).toBeHidden();
  expect(page.url().startsWith(baseURL!)).toBe(true);
  expect(new URL(page.url()).hash).toBe('');
  await expect(page.getByRole('button', { name: /^Bob/ }).first()).toBeFocused();

  // Forward returns to the chat.
  await page.goForward();
  await expect(page.getByRole('heading', { name: 'Bob' })).toBeVisible();

  // A link to the conversation, opened from elsewhere, opens it; Back from it is the list.
  await page.goto('about:blank');
  await page.goto(chatUrl);
  await expect(page.getByRole('heading', { name: 'Bob' })).toBeVisible();
  await page.goBack();
  await expect(page.getByRole('heading', { name: 'Conversations' })).toBeVisible();
  expect(page.url().startsWith(baseURL!)).toBe(true);
});
