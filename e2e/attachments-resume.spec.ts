/**
 * Files that survive interruptions, in real Chromium against the real relay (issue 19):
 * Alice sends a 20 MiB file and a picture to Bob; the relay is killed (SIGKILL) in the
 * middle of the upload and started again on the same port and data dir, and the upload
 * continues from the relay's bytes and completes; Bob reloads his tab in the middle of
 * the download, and Retry continues it from the bytes he had saved. Both files come out
 * byte for byte.
 *
 * "The middle" is reached by waiting on progress, never by sleeping: the relay runs with
 * its test-only blob throttle (PETREL_BLOB_TEST_THROTTLE_BYTES_PER_SEC, docs/OPERATIONS.md)
 * so a 4 MiB chunk takes about a second.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { attachmentBlobLength } from '../src/core/wire/attachment-layout.ts';
import { openChat, pair } from './chaos/support/app.ts';
import { ChaosRelay } from './chaos/support/relay-process.ts';
import { bytes, png } from './support/test-files.ts';

const MIB = 1024 * 1024;
const CHUNK = 4 * MIB;

const BIG = bytes(20 * MIB, 11);
const PICTURE = png(64, 48);

const log = (page: Page) => page.getByRole('log', { name: 'Messages' });
const fileRow = (page: Page, name: string) => log(page).getByRole('listitem').filter({ hasText: `File: ${name}` });
const progressOf = (bar: Locator) => bar.evaluate((e) => (e as HTMLProgressElement).value);

async function saved(page: Page, click: () => Promise<void>): Promise<Buffer> {
  const saving = page.waitForEvent('download');
  await click();
  return readFile((await (await saving).path())!);
}

test('a 20 MiB file and a picture survive a relay crash mid-upload and a reload mid-download', async ({ browser }) => {
  test.setTimeout(240_000);
  const relay = await ChaosRelay.start({ PETREL_BLOB_TEST_THROTTLE_BYTES_PER_SEC: String(CHUNK) });
  try {
    const [alice, bob] = await pair(browser, relay.origin);
    const blobBytes = attachmentBlobLength(BIG.length);

    // Alice attaches the big file; once a chunk is confirmed (and well before the end) the relay dies.
    await alice.page.getByLabel('Attach file').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: BIG });
    const upBar = alice.page.getByRole('progressbar', { name: 'big.bin' });
    await expect.poll(() => progressOf(upBar), { timeout: 60_000 }).toBeGreaterThanOrEqual(CHUNK);
    const stoppedAt = await progressOf(upBar);
    expect(stoppedAt).toBeLessThanOrEqual(blobBytes - 2 * CHUNK);
    await relay.stop('SIGKILL');
    await relay.restart();

    await expect(fileRow(alice.page, 'big.bin')).toHaveAttribute('data-status', /delivered|read/, { timeout: 90_000 });
    // After the restart the relay took only what it lacked: at most one chunk more than the rest.
    const inAfterRestart = await relay.metric(/petrel_blob_bytes_total\{direction="in"\} (\d+)/);
    expect(inAfterRestart).toBeLessThanOrEqual(blobBytes - stoppedAt + CHUNK);
    expect(inAfterRestart).toBeGreaterThan(0);

    await alice.page.getByLabel('Attach file').setInputFiles({ name: 'picture.png', mimeType: 'image/png', buffer: PICTURE });
    await expect(fileRow(alice.page, 'picture.png')).toHaveAttribute('data-status', /delivered|read/, { timeout: 60_000 });

    // Bob starts the big download and reloads his tab once more than a saved part has arrived.
    await expect(fileRow(bob.page, 'big.bin')).toBeVisible({ timeout: 30_000 });
    await fileRow(bob.page, 'big.bin').getByRole('button', { name: 'Download' }).click();
    const downBar = bob.page.getByRole('progressbar', { name: 'big.bin' });
    await expect.poll(() => progressOf(downBar), { timeout: 60_000 }).toBeGreaterThanOrEqual(CHUNK + CHUNK / 2);
    expect(await progressOf(downBar)).toBeLessThan(blobBytes - CHUNK);
    await bob.page.reload();
    await openChat(bob.page, 'Alice');

    const row = fileRow(bob.page, 'big.bin');
    await expect(row.getByRole('alert')).toContainText('Interrupted');
    const outBefore = await relay.metric(/petrel_blob_bytes_total\{direction="out"\} (\d+)/);
    const got = await saved(bob.page, () => row.getByRole('button', { name: 'Retry' }).click());
    expect(got.length).toBe(BIG.length);
    expect(got.equals(BIG)).toBe(true);
    // Continued from the saved parts: the relay served less than the whole blob again.
    const outResumed = (await relay.metric(/petrel_blob_bytes_total\{direction="out"\} (\d+)/)) - outBefore;
    expect(outResumed).toBeLessThanOrEqual(blobBytes - CHUNK);
    await expect(row.getByRole('alert')).toHaveCount(0);

    const picture = await saved(bob.page, () => fileRow(bob.page, 'picture.png').getByRole('button', { name: 'Download' }).click());
    expect(picture.equals(PICTURE)).toBe(true);
    await expect(log(bob.page).getByRole('img', { name: 'Preview of picture.png' })).toHaveAttribute('src', /^data:image\/jpeg;base64,/);
  } finally {
    await relay.dispose();
  }
});
