/**
 * A group frame waiting for a session is never lost (issue 18), under a fake clock. Ada
 * adds Cy from his invite, but every fetch of Cy's bundle fails, and Cy has not added Ada:
 * nobody has a session. Ada makes a group of Bo and Cy; the changes for Cy wait as
 * `pending_session` jobs. After MAX_BUNDLE_FETCH_FAILURES the starter gives up: the frames
 * are parked (before: dropped, so Cy never learnt of the group), and go when a session
 * with Cy starts — Ada's own, tried again after PARKED_RETRY_MS, or Cy's towards her.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { identityFromSeed } from '../../src/core/crypto/index.ts';
import { PARKED_RETRY_MS } from '../../src/core/messenger/session-starter.ts';
import type { IdentityRecord } from '../../src/core/store/index.ts';
import { mailboxAddress } from '../../src/core/wire/index.ts';
import { befriend, bodies, ClockedWorld, makeIdentity, type ClockedDevice } from './clocked-world.ts';

let ADA: IdentityRecord;
let BO: IdentityRecord;
let CY: IdentityRecord;
beforeAll(() => {
  ADA = makeIdentity('Ada', 201);
  BO = makeIdentity('Bo', 202);
  CY = makeIdentity('Cy', 203);
}, 60_000);

const keyOf = (r: IdentityRecord) => identityFromSeed(r.seed).publicKey;
const idOf = (r: IdentityRecord) => toHex(keyOf(r));
const knowsGroup = (d: ClockedDevice, group: string) => !!d.state().groups?.some((g) => g.id === group);

interface Parked {
  world: ClockedWorld;
  ada: ClockedDevice;
  bo: ClockedDevice;
  cy: ClockedDevice;
  group: string;
  /** Ada's fetches of Cy's bundle succeed from now on. */
  fixFetch(): void;
}

/** The group made while Ada cannot reach Cy's keys, until the starter gave Cy's frames up. */
async function adaGivesUpOnCy(seed: number): Promise<Parked> {
  const world = new ClockedWorld(seed);
  const [ada, bo, cy] = [await world.device(ADA), await world.device(BO), await world.device(CY)];
  let failing = true;
  world.relay.holdFetch = (by, of) =>
    failing && toHex(by) === toHex(mailboxAddress(keyOf(ADA))) && toHex(of) === idOf(CY) ? Promise.reject(Object.assign(new Error('relay busy'), { code: 'unavailable' })) : undefined;
  await befriend(ada, bo);
  await ada.messenger.addContact(ada.messenger.parseInvite(cy.state().me!.inviteUrl)!);
  let group = '';
  void ada.messenger.createGroup('Trip', [idOf(BO), idOf(CY)]).then((g) => (group = g));
  await world.until(() => group !== '' && knowsGroup(bo, group), 30_000);
  expect((await ada.store.pendingJobs(idOf(CY))).length).toBeGreaterThan(0);
  // Eight failed fetches on the backoff: a few minutes.
  await world.until(() => ada.metrics.counter('sessions.jobs_parked') > 0, 15 * 60_000, 1_000);
  return {
    world,
    ada,
    bo,
    cy,
    group,
    fixFetch: () => {
      failing = false;
    },
  };
}

describe('a group frame whose session cannot start (issue 18)', () => {
  it('is parked, not dropped, when the starter gives up, holds nobody back, and goes once Ada’s retry starts the session', async () => {
    const t = await adaGivesUpOnCy(2001);
    const { world, ada, cy, group } = t;
    // Parked: out of the queue's way (not pending, not counted), its plaintext kept.
    expect(await ada.store.pendingJobs(idOf(CY))).toEqual([]);
    const parked = await ada.store.jobsAwaitingSession(idOf(CY));
    expect(parked.length).toBe(ada.metrics.counter('sessions.jobs_parked'));
    expect(parked.every((j) => j.state === 'failed' && j.keep === true && j.plaintext !== undefined)).toBe(true);
    expect(await ada.store.queueDepth()).toBe(0);
    expect(ada.logs.recent().some((r) => r.msg === 'group frames parked until a session starts')).toBe(true);
    expect(knowsGroup(cy, group)).toBe(false);

    // Cy's keys become reachable: the next try (PARKED_RETRY_MS on) starts the session, the frames go.
    t.fixFetch();
    // Fails before the fix: the frames were dropped, Cy never learns of the group.
    await world.until(() => knowsGroup(cy, group), PARKED_RETRY_MS + 10 * 60_000, 1_000);
    expect(ada.metrics.counter('sessions.jobs_unparked')).toBe(parked.length);
    expect(await ada.store.jobsAwaitingSession(idOf(CY))).toEqual([]);
    // Cy's group is Ada's: Cy reads her next message.
    void ada.messenger.send(group, 'welcome');
    await world.until(async () => (await cy.store.groups.messagesOf(group)).some((m) => m.body === 'welcome'), 60_000);
    for (const d of [ada, t.bo, cy]) await d.messenger.stop();
  }, 180_000);

  it('goes with the session Cy starts towards Ada, while her own fetches still fail', async () => {
    const t = await adaGivesUpOnCy(2002);
    const { world, ada, cy, group } = t;
    const cySeesAda = await cy.messenger.addContact(cy.messenger.parseInvite(ada.state().me!.inviteUrl)!);
    await cy.messenger.send(cySeesAda, 'hi Ada');
    await world.until(async () => (await bodies(ada, idOf(CY))).includes('in:hi Ada'), 30_000);
    // Accepting Cy's session sends what was parked for him under it, no fetch needed.
    await world.until(() => knowsGroup(cy, group), 30_000);
    expect(ada.metrics.counter('sessions.jobs_unparked')).toBeGreaterThan(0);
    expect(await ada.store.jobsAwaitingSession(idOf(CY))).toEqual([]);
    for (const d of [ada, t.bo, cy]) await d.messenger.stop();
  }, 180_000);
});
