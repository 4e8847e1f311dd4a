/**
 * Reading means read (issue 20), two people in Chromium through the real relay: a message
 * that arrives while the reader is scrolled up is not read (its sender sees no read
 * receipt) until it is scrolled into view; Jump to latest counts what waits and sits
 * below the log, never over its last message; a chat opened with unread messages opens
 * at the first of them under an "Unread messages" divider. axe: 0 serious or critical.
 */
import type { Locator, Page } from '@playwright/test';
import { accept, blockingViolations, contactButton, messageLog as log, onboard, send } from './support/journey.ts';
import { test, expect } from './support/users.ts';

const row = (page: Page, text: string): Locator => log(page).getByRole('listitem').filter({ hasText: text });
/** A message several lines tall, so a few of them overflow the log. */
const tall = (label: string) => `${label}\n·\n·\n·\n·\n·`;
const jump = (page: Page) => page.getByRole('button', { name: /^Jump to latest/ });

async function scrollLogToTop(page: Page): Promise<void> {
  await log(page).evaluate((el) => {
    el.scrollTop = 0;
    el.dispatchEvent(new Event('scroll'));
  });
}

test('a message arriving while scrolled up is read only once scrolled into view; the divider and Jump to latest', async ({ users }) => {
  const [alice, bob] = await users('alice', 'bob');
  const a = alice!.page;
  const b = bob!.page;
  await b.setViewportSize({ width: 900, height: 600 });
  const aliceInvite = await onboard(a, 'Alice');
  const bobInvite = await onboard(b, 'Bob');
  await accept(a, bobInvite, 'Bob');
  await accept(b, aliceInvite, 'Alice');
  await contactButton(b, 'Alice').click();

  // Enough history to scroll: Bob reads it all at the bottom of the log.
  for (let i = 1; i <= 8; i++) await send(a, tall(`early ${i}`));
  await expect(row(a, 'early 8')).toHaveAttribute('data-status', 'read');

  // Bob scrolls to the top; two messages arrive below, out of sight.
  await scrollLogToTop(b);
  await expect(jump(b)).toBeVisible();
  await send(a, 'while away 1');
  await expect(b.getByRole('button', { name: 'Jump to latest, 1 new message' })).toBeVisible();
  await send(a, 'while away 2');
  await expect(b.getByRole('button', { name: 'Jump to latest, 2 new messages' })).toBeVisible();
  // Bob's receipts leave in order: the second one's delivery receipt has reached Alice, so
  // a read receipt for the first, had there been one, would have arrived before it.
  await expect(row(a, 'while away 2')).toHaveAttribute('data-status', 'delivered');
  await expect(row(a, 'while away 1')).toHaveAttribute('data-status', 'delivered');

  // Jump to latest sits below the log: it covers none of it.
  const logBox = (await log(b).boundingBox())!;
  const jumpBox = (await jump(b).boundingBox())!;
  expect(jumpBox.y).toBeGreaterThanOrEqual(logBox.y + logBox.height - 0.5);
  const scan = await blockingViolations(b, '.chat');
  expect(scan.blocking).toEqual([]);

  // Scrolled into view: read, and Alice is told.
  await jump(b).click();
  await expect(jump(b)).toHaveCount(0);
  await expect(row(a, 'while away 2')).toHaveAttribute('data-status', 'read');
  await expect(row(a, 'while away 1')).toHaveAttribute('data-status', 'read');
  await expect(row(b, 'while away 2')).toBeInViewport();

  // Bob leaves the chat scrolled up; more arrives than fits; he reopens Petrel on the chat.
  await scrollLogToTop(b);
  // Alice's window tall enough to hold all six tall messages (the log renders only rows near the view).
  await a.setViewportSize({ width: 1280, height: 2400 });
  for (let i = 1; i <= 6; i++) await send(a, tall(`later ${i}`));
  await expect(b.getByRole('button', { name: 'Jump to latest, 6 new messages' })).toBeVisible();
  await b.reload();
  const divider = log(b).getByText('Unread messages');
  await expect(divider).toBeInViewport();
  await expect(row(b, 'later 1').getByText('Unread messages')).toHaveCount(1);
  // What shows under the divider is read; the rest waits, counted on Jump to latest.
  await expect(row(a, 'later 1')).toHaveAttribute('data-status', 'read');
  await expect(row(a, 'later 6')).toHaveAttribute('data-status', 'delivered');
  await expect(jump(b)).toHaveAccessibleName(/^Jump to latest, [1-5] new messages?$/);
  for (const colorScheme of ['dark', 'light'] as const) {
    await b.emulateMedia({ colorScheme });
    const { blocking } = await blockingViolations(b, '.chat');
    expect(blocking, colorScheme).toEqual([]);
  }
  await jump(b).click();
  await expect(row(a, 'later 6')).toHaveAttribute('data-status', 'read');
  await expect(row(b, 'later 6')).toBeInViewport();
});
