/**
 * Regenerates docs/img/chat.png for the README: starts the built relay on a free port,
 * lets two people onboard and chat in Debian's Chromium, and captures Alice's window.
 *   npm run build && npx tsx scripts/readme-screenshot.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/support/chromium.ts';
import { freePortSync } from '../e2e/support/server.ts';

const port = freePortSync();
const base = `http://localhost:${port}`;
const relay = spawn(process.execPath, ['dist/server/relay/main.js'], {
  env: { ...process.env, PORT: String(port), PETREL_DATA_DIR: mkdtempSync(join(tmpdir(), 'petrel-shot-')), PETREL_LOG_LEVEL: 'warn' },
  stdio: 'inherit',
});
try {
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const open = async () => {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 680 } })).newPage();
    await page.goto(base);
    return page;
  };
  const onboard = async (page: Page, name: string) => {
    await page.getByLabel('Display name').fill(name);
    await page.getByRole('button', { name: 'Create identity' }).click();
    return page.getByLabel('Your invite link').inputValue();
  };
  const say = async (page: Page, text: string) => {
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  };
  const alice = await open();
  const bob = await open();
  const aliceInvite = await onboard(alice, 'Alice');
  const bobInvite = await onboard(bob, 'Bob');
  await alice.goto(bobInvite);
  await alice.getByRole('button', { name: 'Add contact' }).click();
  await bob.goto(aliceInvite);
  await bob.getByRole('button', { name: 'Add contact' }).click();
  await say(alice, 'Landed at the harbour. The storm is still out there.');
  await bob.getByRole('log', { name: 'Messages' }).getByRole('listitem').first().waitFor();
  await say(bob, 'Glad you made it! Petrels love that weather.');
  await alice.getByRole('log', { name: 'Messages' }).getByRole('listitem').nth(1).waitFor();
  await say(alice, 'Sending the photos when the network is back — they are queued.');
  await alice.getByRole('log', { name: 'Messages' }).getByRole('listitem').nth(2).waitFor();
  await alice.locator('[data-status="read"], [data-status="delivered"]').last().waitFor();
  await alice.screenshot({ path: 'docs/img/chat.png' });
  await browser.close();
} finally {
  relay.kill('SIGTERM');
}
