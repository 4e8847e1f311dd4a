/**
 * Files between two people in real Chromium against the real relay: Alice attaches a
 * small file and a picture, Bob downloads both and gets exactly her bytes, saved as
 * downloads (never shown in the app's page).
 */
import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { accept, contactButton, messageLog as log, onboard } from './support/journey.ts';
import { test, expect } from './support/users.ts';

function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A 1×1 PNG, then noise: enough to be "a picture" by name and type. */
const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex'),
  bytes(300_000, 7),
]);
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
  expect((await downloadFrom(bob!.page, 'notes.bin')).equals(DOC)).toBe(true);
  expect((await downloadFrom(bob!.page, 'picture.png')).equals(PNG)).toBe(true);
  // Saved, not shown: no image or frame in the page shows the downloaded bytes.
  expect(await bob!.page.locator('img[src^="blob:"], iframe, object, embed').count()).toBe(0);
});
