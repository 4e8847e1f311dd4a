/**
 * Files between two people in real Chromium against the real relay: Alice attaches a
 * small file and a picture (which carries a tiny preview), Bob downloads both and gets
 * exactly her bytes, saved as downloads (never shown in the app's page).
 */
import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { accept, contactButton, messageLog as log, onboard } from './support/journey.ts';
import { test, expect } from './support/users.ts';
import { bytes, png } from './support/test-files.ts';

const PNG = png(64, 48);
const DOC = bytes(1_500_000, 3);

async function downloadFrom(page: Page, name: string): Promise<Buffer> {
  const row = log(page).getByRole('listitem').filter({ hasText: `File: ${name}` });
  const saving = page.waitForEvent('download');
  await row.getByRole('button', { name: 'Download' }).click();
  const download = await saving;
  expect(download.suggestedFilename()).toBe(name);
  return readFile((await download.path())!);
}

test('a file and a picture go from Alice to Bob and come out byte for byte', async ({ users }) => {
  const [alice, bob] = await users('alice', 'bob');
  const aliceInvite = await onboard(alice!.page, 'Alice');
  const bobInvite = await onboard(bob!.page, 'Bob');
  await accept(alice!.page, bobInvite, 'Bob');
  await accept(bob!.page, aliceInvite, 'Alice');
  await contactButton(alice!.page, 'Bob').click();

  const attach = alice!.page.getByLabel('Attach file');
  await attach.setInputFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: DOC });
  await expect(log(alice!.page).getByRole('listitem').filter({ hasText: 'File: notes.bin' })).toHaveAttribute('data-status', /delivered|read/);
  await attach.setInputFiles({ name: 'picture.png', mimeType: 'image/png', buffer: PNG });
  await expect(log(alice!.page).getByRole('listitem').filter({ hasText: 'File: picture.png' })).toHaveAttribute('data-status', /delivered|read/);
  // Alice's own files have no Download button.
  await expect(log(alice!.page).getByRole('button', { name: 'Download' })).toHaveCount(0);

  await contactButton(bob!.page, 'Alice').click();
  await expect(log(bob!.page).getByRole('listitem')).toHaveCount(2);
  // The picture's tiny preview came inside the message; the other file has none.
  await expect(log(bob!.page).getByRole('img', { name: 'Preview of picture.png' })).toHaveAttribute('src', /^data:image\/jpeg;base64,/);
  await expect(log(bob!.page).getByRole('img')).toHaveCount(1);
  expect((await downloadFrom(bob!.page, 'notes.bin')).equals(DOC)).toBe(true);
  expect((await downloadFrom(bob!.page, 'picture.png')).equals(PNG)).toBe(true);
  // Saved, not shown: no image or frame in the page shows the downloaded bytes.
  expect(await bob!.page.locator('img[src^="blob:"], iframe, object, embed').count()).toBe(0);
});
