/**
 * Groups through the public API (issue 18): three complete cores, real crypto, the real
 * relay on loopback. Ada knows Bo and Cy; Bo and Cy are not each other's contacts — they
 * get sessions as group members, listed nowhere. Removal: the removed member sees the line
 * and nothing sent after it.
 */
import { describe, expect, it } from 'vitest';
import type { MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { createMemoryStore, type PetrelStore } from '../../src/core/store/index.ts';
import { device, expectEventually, introduce, onboard, testWorld, until, type Device } from './harness.ts';

const world = testWorld();

const said = (s: MessengerState) => (s.chat?.messages ?? []).filter((m) => !m.system).map((m) => (m.direction === 'out' ? `me: ${m.text}` : `${m.senderName}: ${m.text}`));
const hasGroup = (s: MessengerState, id: string) => !!s.groups?.some((g) => g.id === id);

async function three(): Promise<[Device, Device, Device]> {
  const relay = await world.relay();
  const ds = [device(relay.url), device(relay.url), device(relay.url)].map((d) => world.track(d)) as [Device, Device, Device];
  await onboard(ds[0], 'Ada');
  await onboard(ds[1], 'Bo');
  await onboard(ds[2], 'Cy');
  await introduce(ds[0], ds[1]);
  await introduce(ds[0], ds[2]);
  return ds;
}

describe('groups through the messenger', () => {
  it("members are told the names contacts gave themselves, never the user's own names for them", async () => {
    const [ada, bo, cy] = await three();
    const boId = bo.messenger.getState().me!.id;
    const cyId = cy.messenger.getState().me!.id;
    // Ada's names for them stay hers (one would not even fit the wire's 128 bytes).
    await ada.messenger.renameContact(boId, 'Bobby from work');
    await ada.messenger.renameContact(cyId, '山'.repeat(60));
    const g = await ada.messenger.createGroup('Trip', [boId, cyId]);
    const names = (s: MessengerState) => s.groups?.find((x) => x.id === g)?.members.map((m) => m.name).sort();
    await until(bo, (s) => hasGroup(s, g));
    await until(cy, (s) => hasGroup(s, g));
    expect(names(bo.messenger.getState())).toEqual(['Ada', 'Cy', 'You']);
    expect(names(cy.messenger.getState())).toEqual(['Ada', 'Bo', 'You']);
    expect(names(ada.messenger.getState())).toEqual(['Bobby from work', 'You', '山'.repeat(60)]);
  });

  // Once failed in about one run in three (Cy → Bo never arrived): the relay's delivery
  // pump lost an envelope offered after a later one (tests/relay/delivery-pump.test.ts).
  it('create, send and receive among three, members who are not contacts included; removal', async () => {
    const [ada, bo, cy] = await three();
    const boId = bo.messenger.getState().me!.id;
    const cyId = cy.messenger.getState().me!.id;
    // Every state Bo's views see with the group in it, as member names.
    const seen: string[][] = [];
    const unsubscribe = bo.messenger.subscribe(() => {
      const shown = bo.messenger.getState().groups?.find((x) => x.members.length === 3);
      if (shown) seen.push(shown.members.map((m) => m.name).sort());
    });
    const g = await ada.messenger.createGroup('Trip', [boId, cyId]);
    await until(bo, (s) => hasGroup(s, g));
    await until(cy, (s) => hasGroup(s, g));
    unsubscribe();
    // The names Ada knows the members by come with the group's changes (logFrames): every
    // state that shows the group names every member, never "Member 1a2b…" for a moment.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((names) => names.join() === 'Ada,Cy,You')).toBe(true);
    // Bo and Cy are members, not contacts of each other: neither list shows the other.
    expect(bo.messenger.getState().contacts.map((c) => c.displayName)).toEqual(['Ada']);
    expect(bo.messenger.getState().groups![0]!.members.map((m) => m.name).sort()).toEqual(['Ada', 'Cy', 'You']);

    await ada.messenger.openChat(g);
    await bo.messenger.openChat(g);
    await cy.messenger.openChat(g);
    await ada.messenger.send(g, 'hello group');
    await until(bo, (s) => said(s).includes('Ada: hello group'), 20_000);
    await until(cy, (s) => said(s).includes('Ada: hello group'), 20_000);
    await cy.messenger.send(g, 'from Cy');
    await until(bo, (s) => said(s).includes('Cy: from Cy'), 20_000);
    // Cy's profile reached Bo (Cy introduced itself when its session with Bo started): a
    // group member is no stranger writing 1:1, so it is neither a contact nor a request.
    await expectEventually(async () => (await bo.store.getContact(cyId))?.displayName === 'Cy');
    expect(bo.messenger.getState().contacts.map((c) => c.displayName)).toEqual(['Ada']);
    expect((await bo.store.getContact(cyId))!.listing).toBe('removed');
    await until(ada, (s) => said(s).includes('Cy: from Cy'), 20_000);
    await until(ada, (s) => s.chat?.messages.find((m) => m.text === 'hello group')?.status === 'delivered', 20_000);

    await ada.messenger.removeGroupMember(g, cyId);
    await until(cy, (s) => !!s.groups?.find((x) => x.id === g)?.left, 20_000);
    expect(cy.messenger.getState().chat!.messages.at(-1)).toMatchObject({ system: true, text: 'Ada removed You' });
    await ada.messenger.send(g, 'after Cy left');
    await until(bo, (s) => said(s).includes('Ada: after Cy left'), 20_000);
    await cy.messenger.idle();
    expect(said(cy.messenger.getState())).not.toContain('Ada: after Cy left');
    await expect(cy.messenger.send(g, 'still here?')).rejects.toMatchObject({ kind: 'unknown_group' });
  }, 60_000);

  it('add: the new member reads what is sent after, not before; leave: the others see it', async () => {
    const [ada, bo, di] = await three();
    const boId = bo.messenger.getState().me!.id;
    const diId = di.messenger.getState().me!.id;
    const g = await ada.messenger.createGroup('Pair', [boId]);
    await until(bo, (s) => hasGroup(s, g));
    await bo.messenger.openChat(g);
    await ada.messenger.openChat(g);
    await ada.messenger.send(g, 'before Di');
    await until(bo, (s) => said(s).includes('Ada: before Di'), 20_000);
    await ada.messenger.addGroupMembers(g, [diId]);
    await until(di, (s) => hasGroup(s, g), 20_000);
    await di.messenger.openChat(g);
    await ada.messenger.send(g, 'welcome Di');
    await until(di, (s) => said(s).includes('Ada: welcome Di'), 20_000);
    expect(said(di.messenger.getState())).toEqual(['Ada: welcome Di']);
    await bo.messenger.leaveGroup(g);
    await until(ada, (s) => s.chat?.messages.at(-1)?.text === 'Bo left', 20_000);
    await until(di, (s) => s.groups?.find((x) => x.id === g)?.members.length === 2, 20_000);
  }, 60_000);

  it('a group frame is durable before its envelope is acknowledged: a crash before it is handled loses nothing (issue 18)', async () => {
    const relay = await world.relay();
    const boStore = createMemoryStore({ now: () => Date.now() });
    // Bo's core "crashes" between the receive commit (and its ack) and handing the frame to
    // the group parts: the inbox is never taken while this core runs.
    const crashing = new Proxy(boStore, {
      get: (t, p) => (p === 'groupInbox' ? () => new Promise<never>(() => undefined) : (Reflect.get(t, p) as unknown)),
    }) as PetrelStore;
    const ada = world.track(device(relay.url));
    const bo = device(relay.url, crashing);
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    await introduce(ada, bo);
    const g = await ada.messenger.createGroup('Durable', [bo.messenger.getState().me!.id]);
    // The change arrived and committed (its envelope acknowledged), but was not handled.
    const deadline = Date.now() + 20_000;
    while ((await boStore.groupInbox()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await boStore.groupInbox()).length).toBeGreaterThan(0);
    await bo.messenger.idle();
    expect(hasGroup(bo.messenger.getState(), g)).toBe(false);
    await bo.stop();
    // The restarted core takes the inbox: the group is there, and the inbox is empty.
    const bo2 = world.track(device(relay.url, boStore));
    await bo2.messenger.start();
    await until(bo2, (s) => hasGroup(s, g), 20_000);
    expect(await boStore.groupInbox()).toEqual([]);
    await bo2.messenger.openChat(g);
    await ada.messenger.send(g, 'after the crash');
    await until(bo2, (s) => said(s).includes('Ada: after the crash'), 20_000);
  }, 60_000);
});

/** A wait that says which one timed out. */
async function step<T>(name: string, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    throw new Error(`wait ${name} timed out`, { cause: err });
  }
}

describe("a member's key change in a group (issue 18)", () => {
  it('a member who claims the name of our contact with another key: a line in the group, flagged, nothing encrypted for it until acknowledged, then what waited opens', async () => {
    const relay = await world.relay();
    const [ada, bo, cy, cy2] = [device(relay.url), device(relay.url), device(relay.url), device(relay.url)].map((d) => world.track(d)) as [Device, Device, Device, Device];
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    await onboard(cy, 'Cy');
    await onboard(cy2, 'Cy'); // Cy on a new install: another identity under the same name
    await introduce(bo, cy); // Bo's contact "Cy" is the old key
    await introduce(ada, bo);
    await introduce(ada, cy2);
    const boId = bo.messenger.getState().me!.id;
    const cy2Id = cy2.messenger.getState().me!.id;
    const g = await ada.messenger.createGroup('Trip', [boId, cy2Id]);
    await step('1', until(bo, (s) => hasGroup(s, g), 20_000));
    await step('2', until(cy2, (s) => hasGroup(s, g), 20_000));
    await bo.messenger.openChat(g);
    await cy2.messenger.openChat(g);
    // The new Cy writes first (its sender key, with its profile "Cy"): Bo sees the claim.
    await cy2.messenger.send(g, 'it is me, new phone');
    await step('3', until(bo, (s) => said(s).includes('Cy: it is me, new phone'), 20_000));
    await step('4', until(bo, (s) => !!s.groups?.find((x) => x.id === g)?.members.find((m) => m.id === cy2Id)?.keyChanged, 20_000));
    await step('5', until(bo, (s) => !!s.chat?.messages.some((m) => m.system && m.text === "Cy's safety number changed"), 20_000));
    // Nothing of Bo's is encrypted for the new key meanwhile: Bo's message does not reach it.
    await bo.messenger.send(g, 'who is this?');
    await ada.messenger.openChat(g);
    await step('6', until(ada, (s) => said(s).includes('Bo: who is this?'), 20_000));
    await cy2.messenger.idle();
    expect(said(cy2.messenger.getState())).not.toContain('Bo: who is this?');
    // Acknowledged: the flag goes, and Bo's next message reaches the new Cy.
    await bo.messenger.acknowledgeKeyChange(cy2Id);
    await step('7', until(bo, (s) => !s.groups?.find((x) => x.id === g)?.members.some((m) => m.keyChanged), 20_000));
    // What Bo sent while the change waited opens for the new Cy now (as a 1:1 message would be sent), before what follows.
    await step('8', until(cy2, (s) => said(s).includes('Bo: who is this?'), 20_000));
    await bo.messenger.send(g, 'welcome back');
    await step('9', until(cy2, (s) => said(s).includes('Bo: welcome back'), 20_000));
    const fromBo = said(cy2.messenger.getState()).filter((t) => t.startsWith('Bo: '));
    expect(fromBo).toEqual(['Bo: who is this?', 'Bo: welcome back']);
  }, 90_000);
});
