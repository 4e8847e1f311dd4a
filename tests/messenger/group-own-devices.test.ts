/**
 * Groups and our own linked devices (issue 18): Ada on two devices, Bo on one. A group Ada
 * makes on one device is on her other one; what she sends from one appears on the other as
 * hers; what Bo sends reaches both.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { deserializeSenderKeyRecord } from '../../src/core/groups/sender-key-record.ts';
import type { MessengerState } from '../../src/core/messenger/messenger-api.ts';
import type { PetrelStore } from '../../src/core/store/index.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { device, introduce, onboard, testWorld, until, type Device } from './harness.ts';

const world = testWorld();

/** `until`, saying which wait timed out. */
async function step(name: string, wait: Promise<unknown>): Promise<void> {
  try {
    await wait;
  } catch (err) {
    throw new Error(`wait "${name}" timed out`, { cause: err });
  }
}

const said = (s: MessengerState) => (s.chat?.messages ?? []).filter((m) => !m.system).map((m) => (m.direction === 'out' ? `me: ${m.text}` : `${m.senderName}: ${m.text}`));
/** A counter summed over its labels. */
const counted = (d: Device, name: string) =>
  Object.entries(d.metrics.snapshot().counters)
    .filter(([k]) => k === name || k.startsWith(`${name}{`))
    .reduce((n, [, v]) => n + v, 0);
/** The open chat's every line, system lines too. */
const shown = (s: MessengerState) => (s.chat?.messages ?? []).map((m) => (m.system ? `system: ${m.text}` : m.direction === 'out' ? `me: ${m.text}` : `${m.senderName}: ${m.text}`));
const hasGroup = (s: MessengerState, id: string) => !!s.groups?.some((g) => g.id === id);

describe('groups on our own linked devices (issue 18)', () => {
  it("a group made on one of my devices is on my other one; my messages appear on both as mine; a member's reach both", async () => {
    const { ada1, ada2, bo } = await adaOnTwoDevices(world);
    const boId = bo.messenger.getState().me!.id;
    const g = await ada1.messenger.createGroup('Family', [boId]);
    await step('bo: asGroup(s, g)', until(bo, (s) => hasGroup(s, g), 20_000));
    await step('ada2: asGroup(s, g)', until(ada2, (s) => hasGroup(s, g), 20_000));
    await ada1.messenger.openChat(g);
    await ada2.messenger.openChat(g);
    await bo.messenger.openChat(g);
    await ada1.messenger.send(g, 'from my phone');
    await step('bo: aid(s).includes(Ada: from my phone)', until(bo, (s) => said(s).includes('Ada: from my phone'), 20_000));
    await step('ada2: aid(s).includes(me: from my phone)', until(ada2, (s) => said(s).includes('me: from my phone'), 20_000));
    await bo.messenger.send(g, 'hi both');
    await step('ada1: aid(s).includes(Bo: hi both)', until(ada1, (s) => said(s).includes('Bo: hi both'), 20_000));
    await step('ada2: aid(s).includes(Bo: hi both)', until(ada2, (s) => said(s).includes('Bo: hi both'), 20_000));
    await ada2.messenger.send(g, 'from my laptop');
    await step('bo: aid(s).includes(Ada: from my laptop)', until(bo, (s) => said(s).includes('Ada: from my laptop'), 20_000));
    await step('ada1: aid(s).includes(me: from my laptop)', until(ada1, (s) => said(s).includes('me: from my laptop'), 20_000));
    expect(said(ada1.messenger.getState())).toEqual(said(ada2.messenger.getState()));
    // Bo's receipt moves what Ada sent to delivered; her other device never stands in for a member.
    await step('ada1: delivered', until(ada1, (s) => s.chat?.messages.find((m) => m.text === 'from my phone')?.status === 'delivered', 20_000));
    expect(ada1.messenger.getState().groups!.find((x) => x.id === g)!.members.map((m) => m.name).sort()).toEqual(['Bo', 'You']);
    expect(ada2.messenger.getState().groups!.find((x) => x.id === g)!.members.map((m) => m.name).sort()).toEqual(['Bo', 'You']);
    for (const d of [ada1, ada2, bo]) expect(counted(d, 'groups.drop')).toBe(0);
    expect(counted(ada2, 'devices.own_content_dropped') + counted(ada1, 'devices.own_content_dropped')).toBe(0);
  }, 90_000);

  it('unlinking one of my devices rotates my sender chain and every member\'s: the unlinked device holds none of the chains sent under after it', async () => {
    const { ada1, ada2, bo, two } = await adaOnTwoDevices(world);
    const boId = bo.messenger.getState().me!.id;
    const g = await ada1.messenger.createGroup('Family', [boId]);
    await step('ada2 and bo have the group', Promise.all([until(bo, (s) => hasGroup(s, g), 20_000), until(ada2, (s) => hasGroup(s, g), 20_000)]));
    for (const d of [ada1, ada2, bo]) await d.messenger.openChat(g);
    await ada1.messenger.send(g, 'before');
    await bo.messenger.send(g, 'hi');
    await step('ada2 reads both', until(ada2, (s) => said(s).includes('me: before') && said(s).includes('Bo: hi'), 20_000));
    // What ada2 holds: Ada's chain (from ada1) and Bo's.
    const held = await chainIds(ada2.store, g);
    const adaBefore = await ownChainId(ada1.store, g);
    const boBefore = await ownChainId(bo.store, g);
    expect(held).toEqual(expect.arrayContaining([adaBefore, boBefore]));

    const boLists = counted(bo, 'devices.list_accepted');
    await ada1.messenger.unlinkDevice(toHex(two.id));
    await step('ada2 says it was unlinked', until(ada2, (s) => s.unlinked === true, 20_000));
    await ada1.messenger.send(g, 'after');
    await step('bo reads after', until(bo, (s) => said(s).includes('Ada: after'), 20_000));
    expect(counted(ada1, 'groups.sender_key.rotated{reason="device_unlinked"}')).toBe(1);
    // Bo hears of Ada's new list, and his next message goes under a new chain too.
    await step('bo accepts the new list', until(bo, () => counted(bo, 'devices.list_accepted') > boLists, 20_000));
    await bo.messenger.send(g, 'after too');
    await step('ada1 reads after too', until(ada1, (s) => said(s).includes('Bo: after too'), 20_000));
    expect(counted(bo, 'groups.sender_key.rotated{reason="device_unlinked"}')).toBe(1);
    const adaAfter = await ownChainId(ada1.store, g);
    const boAfter = await ownChainId(bo.store, g);
    expect(adaAfter).not.toBe(adaBefore);
    expect(boAfter).not.toBe(boBefore);
    // The unlinked device holds neither new chain, and nothing sent after reached it.
    await ada2.messenger.idle();
    const heldAfter = await chainIds(ada2.store, g);
    expect(heldAfter).not.toContain(adaAfter);
    expect(heldAfter).not.toContain(boAfter);
    expect(said(ada2.messenger.getState())).not.toContain('Bo: after too');
  }, 90_000);
});

describe('a device linked after a group exists (issue 18)', () => {
  it("gets the group with the link, its history in the order it happened, and reads and sends new group messages once the chains reach it", async () => {
    const r = await world.relay();
    const ada = world.track(device(r.url));
    const bo = world.track(device(r.url));
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    await introduce(ada, bo);
    const boId = bo.messenger.getState().me!.id;
    const g = await ada.messenger.createGroup('Family', [boId]);
    await step('bo has the group', until(bo, (s) => hasGroup(s, g), 20_000));
    await ada.messenger.openChat(g);
    await bo.messenger.openChat(g);
    await ada.messenger.send(g, 'before the link');
    await bo.messenger.send(g, 'hi Ada');
    await step('ada reads bo', until(ada, (s) => said(s).includes('Bo: hi Ada'), 20_000));

    const boLists = counted(bo, 'devices.list_accepted');
    // The group's whole chat on the first device, system lines included, as the new one must show it.
    const before = shown(ada.messenger.getState());
    expect(before.filter((l) => !l.startsWith('system: '))).toEqual(['me: before the link', 'Bo: hi Ada']);
    const link = await ada.messenger.createDeviceLink();
    const ada2 = world.track(device(r.url));
    await ada2.messenger.start();
    await step('ada2 onboarding', until(ada2, (s) => s.phase === 'onboarding'));
    await ada2.messenger.linkThisDevice(link);
    await step('ada2 has the group', until(ada2, (s) => s.phase === 'ready' && hasGroup(s, g), 20_000));
    const view = ada2.messenger.getState().groups!.find((x) => x.id === g)!;
    expect(view.name).toBe('Family');
    expect(view.members.map((m) => m.name).sort()).toEqual(['Bo', 'You']);
    await step('ada is listed and online again', until(ada, (s) => s.deviceLink?.status === 'done' && s.connection.kind === 'online', 20_000));
    await step('bo accepts the new list', until(bo, () => counted(bo, 'devices.list_accepted') > boLists, 20_000));

    await ada2.messenger.openChat(g);
    // The history came with the link: the same lines in the same order, nothing unread.
    await step('ada2 shows the history', until(ada2, (s) => said(s).length === 2, 20_000));
    expect(shown(ada2.messenger.getState())).toEqual(before);
    expect(ada2.messenger.getState().groups!.find((x) => x.id === g)!.unread).toBe(0);
    await bo.messenger.send(g, 'after the link');
    await step('ada2 reads bo', until(ada2, (s) => said(s).includes('Bo: after the link'), 30_000));
    await ada.messenger.send(g, 'from my phone');
    await step('ada2 reads ada', until(ada2, (s) => said(s).includes('me: from my phone'), 30_000));
    await ada2.messenger.send(g, 'from my laptop');
    await step('bo reads ada2', until(bo, (s) => said(s).includes('Ada: from my laptop'), 30_000));
    await step('ada reads ada2', until(ada, (s) => said(s).includes('me: from my laptop'), 30_000));
    // Each message once, in order.
    expect(said(ada2.messenger.getState())).toEqual(['me: before the link', 'Bo: hi Ada', 'Bo: after the link', 'me: from my phone', 'me: from my laptop']);
    for (const d of [ada, ada2, bo]) expect(counted(d, 'groups.drop')).toBe(0);
  }, 120_000);
});

/** Chain ids of every sender-key state a device's store holds for group `g` (its own chain's too). */
async function chainIds(store: PetrelStore, g: string): Promise<number[]> {
  return (await store.groups.senderKeysOf(g)).flatMap((row) => deserializeSenderKeyRecord(row.record).states.map((st) => st.chainId));
}

async function ownChainId(store: PetrelStore, g: string): Promise<number> {
  const row = (await store.groups.senderKeysOf(g)).find((r) => r.own);
  return deserializeSenderKeyRecord(row!.record).states[0]!.chainId;
}
