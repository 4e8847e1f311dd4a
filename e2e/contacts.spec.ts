/**
 * Contacts people manage (issue 20), two people in Chromium through the real relay: a
 * message request (Bo added Ada from her invite) that Ada accepts, then Rename, Block
 * (Bo's message never shows, and is counted as dropped), Unblock and Delete conversation
 * (after which Bo's next message is a request again). axe: 0 serious or critical, light
 * and dark, on the requests section, the contact info view and both dialogs.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { accept, blockingViolations, messageLog as log, onboard, send } from './support/journey.ts';
import { test, expect } from './support/users.ts';

/** The core's count of messages dropped from blocked contacts, read from the exported metrics file. */
async function droppedFromBlocked(page: Page): Promise<number> {
  await page.getByRole('button', { name: 'Diagnostics' }).click();
  const dialog = page.getByRole('dialog');
  const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Export metrics (JSON)' }).click()]);
  const exported = JSON.parse(await readFile((await download.path())!, 'utf8')) as { metrics: { counters: Record<string, number> } };
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  return exported.metrics.counters['receive.blocked_dropped'] ?? 0;
}

/** axe in light and in dark: 0 serious or critical violations (and it did run its checks). */
async function noBlockingViolations(page: Page, include?: string): Promise<void> {
  for (const colorScheme of ['dark', 'light'] as const) {
    await page.emulateMedia({ colorScheme });
    const { blocking, passes } = await blockingViolations(page, include);
    expect(blocking, colorScheme).toEqual([]);
    expect(passes).toEqual(expect.arrayContaining(['color-contrast']));
  }
}

test('a message request is accepted, then Rename, Block, Unblock and Delete conversation do what they say', async ({ users }) => {
  const [ada, bo] = await users('ada', 'bo');
  const adaInvite = await onboard(ada!.page, 'Ada');
  await onboard(bo!.page, 'Bo');
  const a = ada!.page;
  const b = bo!.page;

  // Bo adds Ada from her invite and writes: on Ada's side he is a message request, not a conversation.
  await accept(b, adaInvite, 'Ada');
  await send(b, 'Hi Ada, it is Bo');
  const requests = a.getByRole('region', { name: 'Message requests' });
  const request = requests.getByRole('group', { name: 'Request from Bo' });
  await expect(request).toContainText('Hi Ada, it is Bo');
  await expect(a.locator('.contact-list').getByRole('button', { name: /^Bo/ })).toHaveCount(0);
  await noBlockingViolations(a);

  // Reading a request tells Bo nothing: his message stays delivered, and Ada cannot reply yet.
  await request.getByRole('button', { name: /^Bo/ }).click();
  await expect(log(a).getByRole('listitem')).toHaveCount(1);
  // In its own chat: no composer, the same Accept and Block as in the list.
  const inChat = a.locator('.chat').getByRole('group', { name: 'Request from Bo' });
  await expect(inChat).toBeVisible();
  await expect(a.getByRole('textbox', { name: 'Message' })).toHaveCount(0);
  await noBlockingViolations(a, '.chat');
  await expect(log(b).getByRole('listitem').first()).toHaveAttribute('data-status', 'delivered');

  await inChat.getByRole('button', { name: 'Accept' }).click();
  await expect(requests).toHaveCount(0);
  await expect(a.locator('.contact-list').getByRole('button', { name: /^Bo/ })).toBeVisible();
  // Accepted while on screen: now it is read, and the chat works both ways.
  await expect(log(b).getByRole('listitem').first()).toHaveAttribute('data-status', 'read');
  await send(a, 'Welcome, Bo');
  await expect(log(b).getByRole('listitem')).toHaveCount(2);
  await expect(log(b).getByRole('listitem').nth(1)).toContainText('Welcome, Bo');

  // Rename: a local name instead of his; Escape closes the dialog and gives focus back.
  await a.getByRole('button', { name: 'Contact info' }).click();
  await noBlockingViolations(a, '.chat');
  await a.getByRole('button', { name: 'Rename' }).click();
  const dialog = a.getByRole('dialog');
  await expect(dialog.getByLabel('Name for this contact')).toBeVisible();
  await noBlockingViolations(a, '[role="dialog"]');
  await a.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(a.getByRole('button', { name: 'Rename' })).toBeFocused();
  await a.getByRole('button', { name: 'Rename' }).click();
  await dialog.getByLabel('Name for this contact').fill('Bo from work');
  await dialog.getByRole('button', { name: 'Save name' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(a.getByRole('heading', { name: 'Bo from work' })).toBeVisible();
  await expect(a.locator('.contact-list').getByRole('button', { name: /^Bo from work/ })).toBeVisible();

  // Block: Bo's next message is dropped on Ada's device (counted), never shown.
  await a.getByRole('button', { name: 'Block' }).click();
  await expect(a.getByRole('button', { name: 'Unblock' })).toBeVisible();
  await expect(a.getByText('You blocked Bo from work. Unblock them in Contact info to send again.')).toBeVisible();
  await send(b, 'Are you ignoring me?');
  await expect(log(b).getByRole('listitem').nth(2)).toHaveAttribute('data-status', 'sent');
  await expect.poll(() => droppedFromBlocked(a)).toBe(1);
  await expect(log(a).getByRole('listitem')).toHaveCount(2);
  await expect(log(a)).not.toContainText('Are you ignoring me?');
  await a.getByRole('button', { name: 'Unblock' }).click();
  await send(b, 'Hello again');
  await expect(log(a).getByRole('listitem')).toHaveCount(3);
  await expect(log(a).getByRole('listitem').nth(2)).toContainText('Hello again');
  await expect(log(a)).not.toContainText('Are you ignoring me?');
  // No receipt ever went back for the dropped message.
  await expect(log(b).getByRole('listitem').nth(3)).toHaveAttribute('data-status', /delivered|read/);
  await expect(log(b).getByRole('listitem').nth(2)).toHaveAttribute('data-status', 'sent');

  // Delete conversation: confirmation first (Escape cancels), then it is gone.
  await a.getByRole('button', { name: 'Delete conversation' }).click();
  await expect(dialog).toContainText('Delete your conversation with Bo from work?');
  await noBlockingViolations(a, '[role="dialog"]');
  await a.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(a.getByRole('button', { name: 'Delete conversation' })).toBeFocused();
  await a.getByRole('button', { name: 'Delete conversation' }).click();
  await dialog.getByRole('button', { name: 'Delete conversation' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(a.getByRole('button', { name: /^Bo/ })).toHaveCount(0);
  await expect(log(a)).toHaveCount(0);
  await expect(a.getByRole('heading', { name: 'Conversations' })).toBeFocused();

  // Bo writes again: a fresh request with only the new message.
  await send(b, 'Still there?');
  await expect(requests.getByRole('group', { name: 'Request from Bo' })).toContainText('Still there?');
  await requests.getByRole('button', { name: /^Bo/ }).click();
  await expect(log(a).getByRole('listitem')).toHaveCount(1);
  await expect(log(a).getByRole('listitem').first()).toContainText('Still there?');
});
