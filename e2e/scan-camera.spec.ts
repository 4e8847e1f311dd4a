/**
 * Scan QR code with a camera (issue 20): Chromium's fake camera plays a Y4M file holding
 * Alice's invite QR code; Bob's scanner reads it from the live video (getUserMedia, and
 * jsQR since this Chromium has no BarcodeDetector) into the review of her invite.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QR_QUIET_ZONE, qrMatrix } from '../src/app/components/qr-modules.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.ts';
import { onboard } from './support/journey.ts';
import { test, expect } from './support/users.ts';

const CAMERA_FILE = join(tmpdir(), `petrel-fake-camera-${process.pid}.y4m`);
const W = 640;
const H = 480;

test.use({
  launchOptions: {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${CAMERA_FILE}`],
  },
});

/** One 4:2:0 frame, white, with `text`'s QR code in the middle, as the fake camera's video. */
function writeCameraFrame(text: string): void {
  const m = qrMatrix(text)!;
  const modules = m.size + 2 * QR_QUIET_ZONE;
  const scale = Math.floor((H - 20) / modules);
  const left = Math.floor((W - modules * scale) / 2);
  const top = Math.floor((H - modules * scale) / 2);
  const y = Buffer.alloc(W * H, 235);
  for (const r of m.runs) {
    for (let py = (r.row + QR_QUIET_ZONE) * scale; py < (r.row + QR_QUIET_ZONE + 1) * scale; py++) {
      const start = (top + py) * W + left + (r.col + QR_QUIET_ZONE) * scale;
      y.fill(16, start, start + r.length * scale);
    }
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2), 128);
  writeFileSync(CAMERA_FILE, Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\nFRAME\n`), y, chroma, chroma]));
}

test('the camera reads an invite QR code into its review', async ({ users }) => {
  // The file must exist when the browser opens the camera; it is rewritten before the scan.
  writeCameraFrame('placeholder');
  const [alice, bob] = await users('alice', 'bob');
  const aliceInvite = await onboard(alice!.page, 'Alice');
  await onboard(bob!.page, 'Bob');
  writeCameraFrame(aliceInvite);

  const b = bob!.page;
  await b.getByRole('button', { name: 'Scan QR code' }).click();
  await expect(b.getByLabel('Camera view')).toBeVisible();
  await expect(b.getByRole('heading', { name: 'Add Alice?' })).toBeVisible();
  await expect(b.getByRole('dialog')).toHaveCount(0);
  // The camera is released once the code is read.
  await expect.poll(() => b.evaluate(() => document.querySelectorAll('video').length)).toBe(0);
});
