/**
 * Groups and our own linked devices (issue 18): Ada on two devices, Bo on one. A group Ada
 * makes on one device is on her other one; what she sends from one appears on the other as
 * hers; what Bo sends reaches both.
 */
import { describe, expect, it } from 'vitest';
import type { MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { testWorld, until, type Device } from './harness.ts';

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
});
