/**
 * Our chain owed to a member device goes as soon as ANY session with it exists (issue 18):
 * also when the member starts it, towards us. Cy makes a group of Ada and Bo, who are
 * contacts but whose bundle fetches of each other hang, so neither can start a session.
 * Ada sends to the group: Bo is owed her chain. Then Bo's fetch is released and Bo writes
 * to Ada 1:1, which starts Bo's session towards Ada. Ada accepts it; from then on she hears
 * nothing more from Bo (her pushes are held, so Bo's key request never reaches her) and
 * sends nothing: Bo reads her group message all the same, once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { identityFromSeed } from '../../src/core/crypto/index.ts';
import type { IdentityRecord } from '../../src/core/store/index.ts';
import { mailboxAddress } from '../../src/core/wire/index.ts';
import { befriend, bodies, ClockedWorld, makeIdentity, type ClockedDevice } from './clocked-world.ts';

let ADA: IdentityRecord;
let BO: IdentityRecord;
let CY: IdentityRecord;
beforeAll(() => {
  ADA = makeIdentity('Ada', 191);
  BO = makeIdentity('Bo', 192);
  CY = makeIdentity('Cy', 193);
}, 60_000);

const keyOf = (r: IdentityRecord) => identityFromSeed(r.seed).publicKey;
const idOf = (r: IdentityRecord) => toHex(keyOf(r));
const texts = async (d: ClockedDevice, group: string) => (await d.store.groups.messagesOf(group)).filter((m) => !m.system).map((m) => m.body);


describe('a chain owed to a member goes when the member starts the session (issue 18)', () => {
  it('Ada accepting Bo’s session start hands Bo her chain: Bo reads her earlier group message without her sending or hearing anything more', async () => {
    const world = new ClockedWorld(1901);
    const [ada, bo, cy] = [await world.device(ADA), await world.device(BO), await world.device(CY)];
    // Ada's and Bo's fetches of each other's bundle hang until released.
    const gates = new Map<string, { open: boolean; waiting: (() => void)[] }>([
      [`${toHex(mailboxAddress(keyOf(ADA)))}>${idOf(BO)}`, { open: false, waiting: [] }],
      [`${toHex(mailboxAddress(keyOf(BO)))}>${idOf(ADA)}`, { open: false, waiting: [] }],
    ]);
    world.relay.holdFetch = (by, of) => {
      const g = gates.get(`${toHex(by)}>${toHex(of)}`);
      return g && !g.open ? new Promise<void>((r) => g.waiting.push(r)) : undefined;
    };
    await befriend(cy, ada);
    await befriend(cy, bo);
    await befriend(ada, bo);
    const group = await world.drive(cy.messenger.createGroup('Trip', [idOf(ADA), idOf(BO)]), 30_000);
    await world.until(() => [ada, bo].every((d) => !!d.state().groups?.some((x) => x.id === group)), 30_000);

    // Bo hears nothing for now; Ada sends to the group: Bo is owed her chain.
    world.relay.holdPushes.add(toHex(mailboxAddress(keyOf(BO))));
    await world.drive(ada.messenger.send(group, 'before the session'), 1_000);
    expect((await ada.store.groups.getSenderKey(`${group}:self`))!.own!.owed).toEqual({ [`${idOf(BO)}:-`]: 0 });
    expect(await ada.store.getSession(idOf(BO))).toBeUndefined();

    // Bo's session towards Ada starts with his 1:1 message; Ada accepts it.
    const release = gates.get(`${toHex(mailboxAddress(keyOf(BO)))}>${idOf(ADA)}`)!;
    release.open = true;
    for (const r of release.waiting.splice(0)) r();
    await world.drive(bo.messenger.send(idOf(ADA), 'hello Ada'), 1_000);
    await world.until(async () => (await bodies(ada, idOf(BO))).includes('in:hello Ada'), 30_000);
    // From here Ada hears nothing from Bo (his key request, too, stays in her mailbox).
    world.relay.holdPushes.add(toHex(mailboxAddress(keyOf(ADA))));
    // (Cy may have asked her for the key: the message overtook her distribution.)
    const answered = ada.metrics.counter('groups.key_request.answered');
    world.relay.releasePushes(mailboxAddress(keyOf(BO)));

    // Fails before the fix: the chain waited for Ada's next group send or Bo's key request.
    await world.until(async () => (await texts(bo, group)).includes('before the session'), 30_000);
    await world.run(5_000);
    expect((await texts(bo, group)).filter((t) => t === 'before the session')).toHaveLength(1);
    expect(ada.metrics.counter('groups.sender_key.owed_handed')).toBe(1);
    expect(ada.metrics.counter('groups.key_request.answered')).toBe(answered);
    expect((await ada.store.groups.getSenderKey(`${group}:self`))!.own!.owed).toBeUndefined();
    for (const d of [ada, bo, cy]) await d.messenger.stop();
  }, 120_000);
});
