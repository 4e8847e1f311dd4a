/**
 * Share invite and Scan QR code (issue 20) in Chromium through the real relay, decoding
 * real pixels: Bob adds Alice by scanning a picture of her invite QR code (this Chromium
 * has no BarcodeDetector, so jsQR reads it), and the two compare safety numbers by Bob
 * scanning the code on Alice's screen: a match, and Alice marked verified on Bob's side.
 * axe: 0 serious or critical on the scan views.
 */
import type { Page } from '@playwright/test';
import { accept, blockingViolations, contactButton, onboard } from './support/journey.ts';
import { test, expect } from './support/users.ts';

/** Chooses `png` as the picture of the code in the open scanner. */
async function scanPicture(page: Page, png: Buffer): Promise<void> {
  await page.getByLabel('Choose a picture of the code').setInputFiles({ name: 'code.png', mimeType: 'image/png', buffer: png });
}

test('an invite QR code adds the contact; scanning their safety-number code verifies them', async ({ users }) => {
  const [alice, bob] = await users('alice', 'bob');
  const a = alice!.page;
  const b = bob!.page;
  await onboard(a, 'Alice');
  const bobInvite = await onboard(b, 'Bob');

  // Alice shows her invite as a QR code; Bob scans a picture of it.
  await a.getByText('Show as QR code').click();
  const inviteCode = await a.getByRole('img', { name: 'QR code of the invite link' }).screenshot();
  await b.getByRole('button', { name: 'Scan QR code' }).click();
  const scanDialog = b.getByRole('dialog', { name: 'Scan an invite QR code' });
  await expect(scanDialog).toBeVisible();
  for (const colorScheme of ['dark', 'light'] as const) {
    await b.emulateMedia({ colorScheme });
    expect((await blockingViolations(b, '.dialog')).blocking, colorScheme).toEqual([]);
  }
  await scanPicture(b, inviteCode);
  await expect(b.getByRole('heading', { name: 'Add Alice?' })).toBeVisible();
  await b.getByRole('button', { name: 'Add contact' }).click();
  await expect(contactButton(b, 'Alice')).toBeVisible();
  await accept(a, bobInvite, 'Bob');

  // A picture with no code in it says so.
  await contactButton(b, 'Alice').click();
  await b.getByRole('button', { name: 'Verify safety number' }).click();
  const verify = b.getByRole('dialog', { name: 'Verify Alice’s identity' });
  await verify.getByRole('button', { name: 'Scan QR code' }).click();
  await scanPicture(b, await b.getByRole('heading', { name: 'Verify Alice’s identity' }).screenshot());
  await expect(verify.getByRole('alert')).toContainText('No QR code was found in that picture.');

  // Alice's safety-number code, scanned by Bob: the numbers match.
  await contactButton(a, 'Bob').click();
  await a.getByRole('button', { name: 'Verify safety number' }).click();
  const safetyCode = await a.getByRole('img', { name: 'QR code to scan on Bob’s device' }).screenshot();
  await scanPicture(b, safetyCode);
  await expect(verify.getByRole('status')).toContainText('The safety numbers match');
  await expect(verify.getByRole('button', { name: 'Unmark as verified' })).toBeVisible();
  expect((await blockingViolations(b, '.dialog')).blocking).toEqual([]);
  await b.keyboard.press('Escape');
  await expect(b.getByText('Verified', { exact: true })).toBeVisible();
});
