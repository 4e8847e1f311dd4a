/**
 * Scenario 12, a group under churn (issue 18): a group of 5 (Ada the admin, Bo, Cy, Di,
 * Ed). Ed goes offline; Ada and Bo send a 50-message burst, and halfway Ada adds Fe and
 * removes Cy. Ed comes back. Every remaining member gets every message it should, once and
 * in per-sender order (Fe those sent after it was added); Cy gets none sent after its
 * removal — checked once a 1:1 message Ada sends Cy after the burst (same sender, same
 * mailbox, delivered in order) has arrived.
 */
import { expect, type Page } from '@playwright/test';
import { addContact, body, contactButton, openChat, openUser, send, type ChaosUser } from './support/app.ts';
import { assertInvariants, settle, storedMessages, type Flow } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

/** Ada's and Bo's messages before the membership changes, and after them: 50 in all. */
const ADA_HALF = 20;
const BO_HALF = 5;
const GROUP = 'Crew';

async function groupInfo(page: Page) {
  await page.getByRole('button', { name: 'Group info' }).click();
  return page.getByRole('dialog', { name: 'Group info' });
}

scenario(
  12,
  'group churn',
  'e2e/chaos/groups.spec.ts',
  async ({ browser, schedule, defer, record }) => {
    const relay = await ChaosRelay.start();
    defer(() => relay.dispose());
    const people: ChaosUser[] = [];
    for (const name of ['Ada', 'Bo', 'Cy', 'Di', 'Ed', 'Fe']) {
      const u = await openUser(browser, name, relay.origin);
      defer(() => u.context.close());
      people.push(u);
    }
    const [ada, bo, cy, di, ed, fe] = people as [ChaosUser, ChaosUser, ChaosUser, ChaosUser, ChaosUser, ChaosUser];
    // Ada knows everyone; the others know only Ada.
    for (const u of [bo, cy, di, ed, fe]) {
      await addContact(ada, u);
      await addContact(u, ada);
    }
    const tag = `grp${schedule.int(0, 9999)}`;
    const before = `${tag}x`;
    const after = `${tag}y`;

    await ada.page.getByRole('button', { name: 'New group' }).click();
    const dialog = ada.page.getByRole('dialog', { name: 'New group' });
    await dialog.getByLabel('Group name').fill(GROUP);
    for (const u of [bo, cy, di, ed]) await dialog.getByRole('checkbox', { name: u.name }).check();
    await dialog.getByRole('button', { name: 'Create group' }).click();
    // Creating sends the group's state to each member device (sessions started with those not yet known): slow with 4.
    await expect(ada.page.getByRole('region', { name: GROUP })).toBeVisible({ timeout: 60_000 });
    for (const u of [bo, cy, di, ed]) {
      await expect(contactButton(u.page, GROUP)).toBeVisible({ timeout: 60_000 });
      await openChat(u.page, GROUP);
    }

    await ed.context.setOffline(true);
    const started = Date.now();
    for (let i = 0; i < ADA_HALF; i++) {
      await send(ada.page, body(before, ada.name, i));
      if (i < BO_HALF) await send(bo.page, body(before, bo.name, i));
    }

    // Halfway: Ada adds Fe and removes Cy (through Group info, as a person would).
    const info = await groupInfo(ada.page);
    await info.getByRole('button', { name: 'Add members' }).click();
    await info.getByRole('checkbox', { name: fe.name }).check();
    await info.getByRole('button', { name: 'Add members' }).click();
    await expect(info.getByRole('listitem')).toHaveCount(6, { timeout: 60_000 });
    await info.getByRole('listitem').filter({ hasText: cy.name }).getByRole('button', { name: 'Remove' }).click();
    await info.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(info.getByRole('listitem')).toHaveCount(5, { timeout: 60_000 });
    await ada.page.keyboard.press('Escape');
    // Bo writes on once his app has applied both changes (a change it has not seen yet is concurrent, not "after").
    // (Read from Group info, not from the log's system lines: the log renders only the rows near its view.)
    const boInfo = await groupInfo(bo.page);
    await expect(boInfo.getByRole('listitem').filter({ hasText: fe.name })).toHaveCount(1, { timeout: 60_000 });
    await expect(boInfo.getByRole('listitem').filter({ hasText: cy.name })).toHaveCount(0, { timeout: 60_000 });
    await bo.page.keyboard.press('Escape');
    await expect(contactButton(fe.page, GROUP)).toBeVisible({ timeout: 60_000 });
    await openChat(fe.page, GROUP);

    for (let i = 0; i < ADA_HALF; i++) {
      await send(ada.page, body(after, ada.name, i));
      if (i < BO_HALF) await send(bo.page, body(after, bo.name, i));
    }
    await ed.context.setOffline(false);

    const flows: Flow[] = [];
    for (const to of [bo, cy, di, ed]) flows.push({ from: ada, to, tag: before, count: ADA_HALF });
    for (const to of [ada, cy, di, ed]) flows.push({ from: bo, to, tag: before, count: BO_HALF });
    for (const to of [bo, di, ed, fe]) flows.push({ from: ada, to, tag: after, count: ADA_HALF });
    for (const to of [ada, di, ed, fe]) flows.push({ from: bo, to, tag: after, count: BO_HALF });
    const result = await settle(flows, started, { timeoutMs: 90_000 });
    record(result, 'one member offline for the whole burst; one added and one removed halfway');

    // Cy: a 1:1 message from Ada, sent after everything, has arrived — and no group message sent after the removal.
    await contactButton(ada.page, cy.name).click();
    await send(ada.page, `${tag} marker for Cy`);
    await expect.poll(async () => (await storedMessages(cy.page)).some((m) => m.body === `${tag} marker for Cy`), { timeout: 60_000 }).toBe(true);
    const leaked = (await storedMessages(cy.page)).filter((m) => m.body.startsWith(after));
    expect(leaked.map((m) => m.body), 'sent after Cy was removed').toEqual([]);
    await assertInvariants(result, [ada, bo, cy, di, ed, fe]);
  },
  { timeoutMs: 600_000 },
);
