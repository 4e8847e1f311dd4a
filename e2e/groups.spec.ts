/**
 * Groups (issue 18) in Chromium through the real relay: Ada, Bo and Cy (three browser
 * profiles; Ada knows both, Bo and Cy do not know each other) make a group with
 * **New group**, talk — each sees the others' messages once, with their names — and Ada,
 * the admin, removes Cy under **Group info**. Cy sees the removal, the chat turns
 * read-only, and nothing sent after it reaches Cy: a 1:1 message Ada sends Cy after the
 * group messages (same sender, same mailbox, delivered in order) arrives while the group
 * shows none of them.
 */
import type { Page } from '@playwright/test';
import { accept, contactButton, messageLog as log, onboard, send } from './support/journey.ts';
import { test, expect } from './support/users.ts';

/** A message crossing to another member: sender-key distribution and a loaded 2-core box make the first ones slow. */
const ARRIVAL = { timeout: 60_000 };

/** The rows of the open chat that contain `text`. */
const rowsWith = (page: Page, text: string) => log(page).getByRole('listitem').filter({ hasText: text });

async function openConversation(page: Page, name: string): Promise<void> {
  await contactButton(page, name).click();
  await expect(page.getByRole('region', { name })).toBeVisible();
}

test('three people make a group and talk; the admin removes one, who sees it and nothing sent after it', async ({ users }) => {
  // Three people, invites both ways and a group on a shared 2-core machine.
  test.setTimeout(240_000);
  const [ada, bo, cy] = await users('ada', 'bo', 'cy');
  const a = ada!.page;
  const b = bo!.page;
  const c = cy!.page;
  // One at a time: making an identity (prekey pools, ML-KEM included) is slow on a loaded box.
  const adaInvite = await onboard(a, 'Ada');
  const boInvite = await onboard(b, 'Bo');
  const cyInvite = await onboard(c, 'Cy');
  await accept(a, boInvite, 'Bo');
  await accept(b, adaInvite, 'Ada');
  await accept(a, cyInvite, 'Cy');
  await accept(c, adaInvite, 'Ada');

  // Ada makes the group from her contacts.
  await a.getByRole('button', { name: 'New group' }).click();
  const dialog = a.getByRole('dialog', { name: 'New group' });
  await dialog.getByLabel('Group name').fill('Trip');
  await dialog.getByRole('checkbox', { name: 'Bo' }).check();
  await dialog.getByRole('checkbox', { name: 'Cy' }).check();
  await dialog.getByRole('button', { name: 'Create group' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(a.getByRole('region', { name: 'Trip' })).toBeVisible();
  await expect(a.getByRole('region', { name: 'Trip' })).toContainText('3 members');

  // Bo and Cy find it among their conversations.
  await expect(contactButton(b, 'Trip')).toBeVisible(ARRIVAL);
  await openConversation(b, 'Trip');
  await expect(contactButton(c, 'Trip')).toBeVisible(ARRIVAL);
  await openConversation(c, 'Trip');
  await expect(rowsWith(c, 'created the group')).toHaveCount(1, ARRIVAL);

  // They talk: each sees the others' messages once, with the sender's name.
  await send(a, 'Hello from Ada');
  await expect(rowsWith(b, 'Hello from Ada')).toHaveCount(1, ARRIVAL);
  await send(b, 'Bo here');
  // Bo and Cy are not each other's contacts: their first group message waits for a pairwise session to start (bundles from the relay).
  await expect(rowsWith(c, 'Bo here')).toHaveCount(1, ARRIVAL);
  await send(c, 'Cy too');
  for (const [page, others] of [
    [a, ['Bo here', 'Cy too']],
    [b, ['Hello from Ada', 'Cy too']],
    [c, ['Hello from Ada', 'Bo here']],
  ] as const) {
    for (const text of others) await expect(rowsWith(page, text)).toHaveCount(1, ARRIVAL);
  }
  // Soft: a wrong name is reported, and the removal below is still checked.
  await expect.soft(rowsWith(b, 'Hello from Ada').locator('.message-sender')).toHaveText('Ada');
  await expect.soft(rowsWith(b, 'Cy too').locator('.message-sender')).toHaveText('Cy');
  await expect.soft(rowsWith(c, 'Bo here').locator('.message-sender')).toHaveText('Bo');
  // Ada's message reached both: its status is the weaker of theirs, and Details lists each.
  const adaFirst = rowsWith(a, 'Hello from Ada');
  await expect(adaFirst).toHaveAttribute('data-status', /delivered|read/, ARRIVAL);
  await adaFirst.getByRole('button', { name: 'More actions' }).click();
  await a.getByRole('menuitem', { name: 'Details' }).click();
  const details = a.getByRole('list', { name: 'Delivery to each member' });
  await expect(details.getByRole('listitem')).toHaveCount(2);
  await expect(details.getByRole('listitem').filter({ hasText: 'Bo' })).toContainText(/Delivered|Read/);
  await expect(details.getByRole('listitem').filter({ hasText: 'Cy' })).toContainText(/Delivered|Read/);
  await a.keyboard.press('Escape');

  // Ada removes Cy, after a confirmation.
  await a.getByRole('button', { name: 'Group info' }).click();
  const info = a.getByRole('dialog', { name: 'Group info' });
  await expect(info.getByRole('listitem')).toHaveCount(3);
  await info.getByRole('listitem').filter({ hasText: 'Cy' }).getByRole('button', { name: 'Remove' }).click();
  await info.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(info.getByRole('listitem')).toHaveCount(2);
  await a.keyboard.press('Escape');
  await expect(rowsWith(a, 'You removed Cy')).toHaveCount(1);

  // Cy sees the removal; the chat is read-only and says why.
  const cyChat = c.getByRole('region', { name: 'Trip' });
  await expect(rowsWith(c, 'removed')).toHaveCount(1, ARRIVAL);
  await expect(cyChat.getByRole('status')).toContainText('You were removed');
  await expect(cyChat.getByRole('textbox', { name: 'Message' })).toHaveCount(0);

  // After the removal: Bo and Ada still talk; none of it reaches Cy.
  await send(a, 'After Cy left: Ada');
  await send(b, 'After Cy left: Bo');
  await expect(rowsWith(b, 'After Cy left: Ada')).toHaveCount(1, ARRIVAL);
  await expect(rowsWith(a, 'After Cy left: Bo')).toHaveCount(1, ARRIVAL);
  // Typed before Cy's chat shows, the marker would land in the group's composer.
  await openConversation(a, 'Cy');
  await send(a, 'Marker for Cy, sent after the group messages');
  await openConversation(c, 'Ada');
  await expect(rowsWith(c, 'Marker for Cy')).toHaveCount(1, ARRIVAL);
  await openConversation(c, 'Trip');
  await expect(rowsWith(c, 'Cy too')).toHaveCount(1);
  await expect(rowsWith(c, 'After Cy left')).toHaveCount(0);
});
