/**
 * The direct path to a contact with two linked devices (issue 16), in real Chromium: Bo
 * opens a WebRTC data channel to each of Ada's devices (one contact, so his status says
 * "direct to 1", while his diagnostics list both channels open); each device gets its
 * copy of Bo's messages over its own channel. When one of Ada's devices loses its channel,
 * only its copies go through the relay and the other device stays direct; each device
 * shows every message once, in order.
 */
import type { Page } from '@playwright/test';
import { accept, contactButton, messageLog as log, onboard, send } from './support/journey.ts';
import { test, expect, type User } from './support/users.ts';

interface Row {
  readonly direction: 'in' | 'out';
  readonly text: string;
  readonly status: string;
  readonly via?: string;
}

interface Handle {
  state(): { chat?: { messages: Row[] } };
  diagnostics(): Promise<{ direct?: { device?: string; state: string }[] }>;
  pauseDirect(): Promise<void>;
}

async function withTestHooks(user: User): Promise<void> {
  await user.context.addInitScript(() => {
    (window as unknown as Record<string, unknown>).__PETREL_TEST_HOOKS__ = true;
  });
  await user.page.reload();
}

/** The open chat as the core's snapshot has it (the log itself is virtualised). */
function rows(page: Page): Promise<Row[]> {
  return page.evaluate(() =>
    ((window as unknown as { __petrelTest: Handle }).__petrelTest.state().chat?.messages ?? []).map((m) => ({
      direction: m.direction,
      text: m.text,
      status: m.status,
      ...(m.via ? { via: m.via } : {}),
    })),
  );
}

/** Bo's direct channels as his diagnostics list them: [device, state], sorted. */
function channels(page: Page): Promise<string[][]> {
  return page.evaluate(async () =>
    ((await (window as unknown as { __petrelTest: Handle }).__petrelTest.diagnostics()).direct ?? []).map((c) => [c.device ?? '', c.state]).sort(),
  );
}

const incoming = (rs: Row[]) => rs.filter((r) => r.direction === 'in');
const connection = (page: Page) => page.getByRole('status', { name: 'Connection' });

/** How long a channel may take to open on a loaded 2-core machine (they open in a few seconds here). */
const CHANNEL_OPEN_MS = 30_000;

test('Bo keeps a data channel to each of Ada\'s devices; each copy goes over its own, and one failing over leaves the other direct', async ({ users }) => {
  // Three profiles, a link and two rounds of channels: about 40 s here; headroom for a loaded CI machine.
  test.setTimeout(300_000);
  const [ada, bo, second] = await users('ada', 'bo', 'ada-second');
  await Promise.all([withTestHooks(ada!), withTestHooks(bo!), withTestHooks(second!)]);
  const [a, b, a2] = [ada!.page, bo!.page, second!.page];
  const adaInvite = await onboard(a, 'Ada');
  const boInvite = await onboard(b, 'Bo');
  await accept(a, boInvite, 'Bo');
  await accept(b, adaInvite, 'Ada');

  // Ada links her second device before anyone writes.
  await a.getByRole('button', { name: 'Linked devices' }).click();
  const devices = a.getByRole('dialog', { name: 'Linked devices' });
  await devices.getByRole('button', { name: 'Link a new device' }).click();
  const link = await devices.getByLabel('Device link').inputValue();
  await a2.goto(link);
  await a2.getByRole('button', { name: 'Link this device' }).click();
  await expect(contactButton(a2, 'Bo')).toBeVisible();
  await expect(devices.getByRole('listitem')).toHaveCount(2);
  await a.keyboard.press('Escape');
  for (const page of [a, a2]) await contactButton(page, 'Bo').click();
  await contactButton(b, 'Ada').click();

  // The first message starts Bo's sessions with both devices (through the relay); then his
  // direct path asks each device for a channel.
  await send(b, 'first');
  for (const page of [a, a2]) await expect(log(page).getByRole('listitem').filter({ hasText: 'first' })).toHaveCount(1);
  await expect.poll(() => channels(b), { timeout: CHANNEL_OPEN_MS }).toEqual([
    [expect.stringMatching(/^[0-9a-f]{32}$/), 'open'],
    [expect.stringMatching(/^[0-9a-f]{32}$/), 'open'],
  ]);
  const [d1, d2] = (await channels(b)).map(([device]) => device);
  expect(d1).not.toBe(d2);
  // One contact: the status line counts contacts, not their devices.
  await expect(connection(b)).toHaveText('Online · direct to 1');
  for (const page of [a, a2]) await expect(connection(page)).toHaveText('Online · direct to 1', { timeout: CHANNEL_OPEN_MS });

  // Each device's copy over its own channel.
  const direct = ['d0', 'd1', 'd2'];
  for (const t of direct) await send(b, t);
  for (const page of [a, a2]) {
    await expect.poll(async () => incoming(await rows(page)).map((r) => r.text)).toEqual(['first', ...direct]);
    expect(incoming(await rows(page)).slice(1).every((r) => r.via === 'direct')).toBe(true);
  }
  await expect.poll(async () => (await rows(b)).every((r) => r.status === 'delivered' || r.status === 'read')).toBe(true);

  // Ada's second device loses its channel and takes no new one: only its copies go through
  // the relay; the first device stays direct, and Bo still counts Ada as direct.
  await a2.evaluate(() => (window as unknown as { __petrelTest: Handle }).__petrelTest.pauseDirect());
  await expect.poll(async () => (await channels(b)).filter(([, state]) => state === 'open').length, { timeout: CHANNEL_OPEN_MS }).toBe(1);
  await expect(connection(b)).toHaveText('Online · direct to 1');
  await expect(connection(a2)).toHaveText(/^Online via relay/);
  const split = ['s0', 's1', 's2', 's3'];
  for (const t of split) await send(b, t);
  const all = ['first', ...direct, ...split];
  await expect.poll(async () => incoming(await rows(a)).map((r) => r.text)).toEqual(all);
  await expect.poll(async () => incoming(await rows(a2)).map((r) => r.text)).toEqual(all);
  expect(incoming(await rows(a)).slice(-split.length).map((r) => r.via)).toEqual(split.map(() => 'direct'));
  expect(incoming(await rows(a2)).slice(-split.length).map((r) => r.via)).toEqual(split.map(() => 'relay'));
  // Each once on screen, too (the log is what a person sees).
  for (const page of [a, a2]) for (const t of all) await expect(log(page).getByRole('listitem').filter({ hasText: t })).toHaveCount(1);
  await expect.poll(async () => (await rows(b)).every((r) => r.status === 'delivered' || r.status === 'read')).toBe(true);
});
