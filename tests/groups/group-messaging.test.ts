/**
 * Group messaging in the messenger's group parts (issue 18), with real crypto: send and
 * receive among members, removal and leave (with the rotation that keeps a removed member
 * out even given the ciphertext), add (after, not before), missing-key repair, bad input
 * dropped and counted, the 1,001st member refused, and the chaos scenario.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { GroupTooLargeError, NotGroupAdminError, UnknownContactError, UnknownGroupError } from '../../src/core/messenger/errors.ts';
import { HOLD_BEFORE_GROUP_MS, HOLD_MAX_MS, KEY_REQUEST_INTERVAL_MS, MAX_HELD_BEFORE_GROUP } from '../../src/core/messenger/group-repair.ts';
import { encodeGroupFrame, decodeGroupFrame, MAX_GROUP_FRAME_BYTES } from '../../src/core/wire/group-content.ts';
import { logFrames } from '../../src/core/messenger/group-commands.ts';
import { GroupWorld, type Member } from './group-world.ts';
import { CryptoRuntime } from '../../src/core/crypto/index.ts';
import { groupSealKeys, openGroupBox, sealGroupBox } from '../../src/core/groups/group-seal.ts';
import { secureRandom } from '../../src/core/random.ts';
import { SENDER_KEY_ROTATE_AFTER_MS } from '../../src/core/groups/limits.ts';

const crypto = new CryptoRuntime(secureRandom);
const includesBytes = (hay: Uint8Array, needle: Uint8Array): boolean => {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
};

const said = GroupWorld.said;
const texts = GroupWorld.texts;

async function trio() {
  const w = new GroupWorld();
  const ada = w.add('Ada');
  const bo = w.add('Bo');
  const cy = w.add('Cy');
  w.befriend(ada, bo, cy);
  const g = await ada.groups.createGroup('Trip', [bo.id, cy.id]);
  await w.settle();
  return { w, ada, bo, cy, g };
}

describe('group messaging', () => {
  it('three members send and receive; each sees the others by name, system lines and per-member status', async () => {
    const { w, ada, bo, cy, g } = await trio();
    expect(g).toMatch(/^[0-9a-f]{32}$/u);
    await ada.groups.send(g, 'hello all');
    await w.settle();
    await bo.groups.send(g, 'hi Ada');
    await w.settle();
    await cy.groups.send(g, 'hey');
    await w.settle();
    expect(await texts(bo, g)).toEqual(['* Ada created the group', 'Ada: hello all', 'me: hi Ada', 'Cy: hey']);
    expect(await said(cy, g)).toEqual(['Ada: hello all', 'Bo: hi Ada', 'me: hey']);
    const views = await ada.groups.views();
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({ id: g, name: 'Trip', admin: true, unread: 2 });
    expect(views[0]!.members.map((m) => m.name)).toEqual(['You', 'Bo', 'Cy']);
    // Delivered to both; after Bo reads, Bo's entry says read and the weakest is still delivered.
    let mine = (await ada.groups.messages(g)).find((m) => m.text === 'hello all')!;
    expect(mine.status).toBe('delivered');
    await bo.groups.markRead(g);
    await w.settle();
    mine = (await ada.groups.messages(g)).find((m) => m.text === 'hello all')!;
    expect(Object.fromEntries(mine.memberStatus!.map((s) => [s.name, s.status]))).toEqual({ Bo: 'read', Cy: 'delivered' });
    expect(mine.status).toBe('delivered');
    await cy.groups.markRead(g);
    await w.settle();
    expect((await ada.groups.messages(g)).find((m) => m.text === 'hello all')!.status).toBe('read');
    // One encryption, one deposit per message, to every other member.
    expect(w.deposits).toHaveLength(3);
    expect(w.deposits[0]!.to.sort()).toEqual([bo.id, cy.id].sort());
  });

  it('a member who is not a contact of another is shown by the name the creator gave', async () => {
    const w = new GroupWorld();
    const ada = w.add('Ada');
    const bo = w.add('Bo');
    const cy = w.add('Cy');
    w.befriend(ada, bo);
    w.befriend(ada, cy);
    const g = await ada.groups.createGroup('Trip', [bo.id, cy.id]);
    await w.settle();
    await cy.groups.send(g, 'from Cy');
    await w.settle();
    expect(await said(bo, g)).toEqual(['Cy: from Cy']);
  });

  it('removal: the removed member sees it, gets nothing after, and cannot decrypt later messages even given them', async () => {
    const { w, ada, bo, cy, g } = await trio();
    await bo.groups.send(g, 'before');
    await w.settle();
    await ada.groups.removeGroupMember(g, cy.id);
    await w.settle();
    expect((await texts(cy, g)).at(-1)).toBe('* Ada removed You');
    expect((await cy.groups.views())[0]!.left).toBe(true);
    await bo.groups.send(g, 'after removal');
    await w.settle();
    await ada.groups.send(g, 'also after');
    await w.settle();
    expect(await said(bo, g)).toEqual(['me: before', 'me: after removal', 'Ada: also after']);
    expect(await said(ada, g)).toEqual(['Bo: before', 'Bo: after removal', 'me: also after']);
    expect(await said(cy, g)).toEqual(['Bo: before']);
    const later = w.deposits.slice(-2);
    for (const d of later) expect(d.to).not.toContain(cy.id);
    // Handed the ciphertexts anyway: not shown, counted.
    for (const d of later) expect(await cy.groups.receiveEnvelope(fromHex(d.id), d.body)).toBe('dropped');
    expect(await said(cy, g)).toEqual(['Bo: before']);
    expect(cy.metrics.counter('groups.drop', { reason: 'not_member_self' })).toBe(2);
    // Cy's entry no longer holds Bo's earlier message down: once Ada reads it, it is read.
    await ada.groups.markRead(g);
    await w.settle();
    expect((await bo.groups.messages(g)).find((m) => m.text === 'before')).toMatchObject({ status: 'read', memberStatus: [{ name: 'Ada', status: 'read' }] });
    // Both remaining senders started a new chain after the removal.
    expect(ada.metrics.counter('groups.sender_key.rotated') + bo.metrics.counter('groups.sender_key.rotated')).toBe(1);
  });

  it('a removed member that still held the old chain cannot read the rotated one (cipher level)', async () => {
    const { w, ada, bo, cy, g } = await trio();
    await ada.groups.send(g, 'one');
    await w.settle();
    await ada.groups.removeGroupMember(g, cy.id);
    await w.settle();
    await ada.groups.send(g, 'two');
    await w.settle();
    // Pretend Cy still were a member: put the log back as it was before the removal.
    const rec = (await cy.store.groups.getGroup(g))!;
    await cy.store.groups.commit({ groups: [{ ...rec, changes: rec.changes.slice(0, 1), applied: rec.applied.slice(0, 1) }] });
    const d = w.deposits.at(-1)!;
    expect(await cy.groups.receiveEnvelope(fromHex(d.id), d.body)).toBe('held');
    expect(await said(cy, g)).toEqual(['Ada: one']);
    void bo;
  });

  it('leave: the leaver is out, the others see the line and rotate', async () => {
    const { w, ada, bo, cy, g } = await trio();
    await ada.groups.send(g, 'a1');
    await w.settle();
    await bo.groups.send(g, 'x');
    await w.settle();
    await bo.groups.leaveGroup(g);
    await w.settle();
    expect((await texts(ada, g)).at(-1)).toBe('* Bo left');
    await ada.groups.send(g, 'after leave');
    await w.settle();
    expect(await said(cy, g)).toEqual(['Ada: a1', 'Bo: x', 'Ada: after leave']);
    expect(await said(bo, g)).toEqual(['Ada: a1', 'me: x']);
    expect(ada.metrics.counter('groups.sender_key.rotated')).toBe(1);
    await expect(bo.groups.send(g, 'no')).rejects.toBeInstanceOf(UnknownGroupError);
  });

  it('add: the new member gets messages after the add, not before', async () => {
    const { w, ada, bo, cy, g } = await trio();
    const di = w.add('Di');
    w.befriend(ada, di);
    await ada.groups.send(g, 'before Di');
    await bo.groups.send(g, 'bo before Di');
    await w.settle();
    await ada.groups.addGroupMembers(g, [di.id]);
    await w.settle();
    // Di is handed the old deposits anyway: not readable.
    for (const d of w.deposits.slice(0, 2)) await di.groups.receiveEnvelope(fromHex(d.id), d.body);
    await w.clock.advance(HOLD_MAX_MS);
    await di.groups.tick();
    await ada.groups.send(g, 'welcome Di');
    await bo.groups.send(g, 'hi Di');
    await w.settle();
    expect(await said(di, g)).toEqual(['Ada: welcome Di', 'Bo: hi Di']);
    expect((await texts(di, g)).filter((t) => t.startsWith('* ')).slice(0, 2)).toEqual(['* Ada created the group', '* Ada added You']);
    expect(await said(cy, g)).toEqual(['Ada: before Di', 'Bo: bo before Di', 'Ada: welcome Di', 'Bo: hi Di']);
  });

  it('a message that overtakes the change adding us is held, then opened in order once the group arrives (issue 18)', async () => {
    const { w, ada, bo, g } = await trio();
    const di = w.add('Di');
    w.befriend(ada, di);
    await ada.groups.send(g, 'before Di');
    await w.settle();
    await ada.groups.addGroupMembers(g, [di.id]);
    await ada.groups.send(g, 'welcome 1');
    await ada.groups.send(g, 'welcome 2');
    // The deposits reach Di before the pairwise log (and the distribution) that add it.
    const multis = di.inbox.filter((i) => i.kind === 'multi');
    const pairwise = di.inbox.filter((i) => i.kind === 'pairwise');
    expect(multis).toHaveLength(2);
    di.inbox.splice(0, di.inbox.length, ...multis, ...pairwise);
    for (const m of multis) if (m.kind === 'multi') expect(await di.groups.receiveEnvelope(m.id, m.body)).toBe('held');
    di.inbox.splice(0, 2);
    expect(await di.groups.views()).toEqual([]);
    await w.settle();
    // The group's lines first, then the held messages in the order they were sent.
    expect(await texts(di, g)).toEqual(['* Ada created the group', '* Ada added You', 'Ada: welcome 1', 'Ada: welcome 2']);
    expect(di.metrics.counter('groups.held', { before: 'group' })).toBe(2);
    expect(di.metrics.counter('groups.drop', { reason: 'unknown_group' })).toBe(0);
    expect(await di.store.groups.allHeld()).toEqual([]);
    // A copy of a released envelope is not shown twice (its counter was read).
    const first = multis[0]!;
    if (first.kind !== 'multi') throw new Error('a multi deposit');
    expect(await di.groups.receiveEnvelope(first.id, first.body)).toBe('dropped');
    expect(await said(di, g)).toEqual(['Ada: welcome 1', 'Ada: welcome 2']);
    void bo;
  });

  it("a member's key change is said in each of its groups once, and the member flagged until it is acknowledged (issue 18)", async () => {
    const { w, ada, bo, cy, g } = await trio();
    const other = await bo.groups.createGroup('Other', [ada.id]);
    await w.settle();
    const detected = w.clock.now();
    bo.keyChanges.set(cy.id, detected);
    // One line, in the group Cy is in (not in the one it is not), said once.
    expect(await bo.groups.noteKeyChanges()).toBe(1);
    expect(await bo.groups.noteKeyChanges()).toBe(0);
    expect((await texts(bo, g)).at(-1)).toBe("* Cy's safety number changed");
    expect(await texts(bo, other)).not.toContain("* Cy's safety number changed");
    const members = (await bo.groups.views()).find((v) => v.id === g)!.members;
    expect(members.find((m) => m.id === cy.id)).toMatchObject({ keyChanged: true });
    expect(members.filter((m) => m.keyChanged).map((m) => m.name)).toEqual(['Cy']);
    // Acknowledged: no longer flagged, nothing said again.
    bo.keyChanges.delete(cy.id);
    expect((await bo.groups.views()).find((v) => v.id === g)!.members.some((m) => m.keyChanged)).toBe(false);
    expect(await bo.groups.noteKeyChanges()).toBe(0);
    // A later change (detected anew) is said again.
    await w.clock.advance(1_000);
    bo.keyChanges.set(cy.id, w.clock.now());
    expect(await bo.groups.noteKeyChanges()).toBe(1);
    expect((await texts(bo, g)).filter((t) => t === "* Cy's safety number changed")).toHaveLength(2);
    expect(bo.metrics.counter('groups.key_change_line')).toBe(2);
  });

  it('messages held before their group are bounded: beyond the bound they are dropped as unknown_group', async () => {
    const { w, bo, g } = await trio();
    const tag = new Uint8Array(16).fill(9);
    const body = encodeGroupFrame({ t: 'group.sealed', tag, box: new Uint8Array(40).fill(1) });
    for (let i = 0; i < MAX_HELD_BEFORE_GROUP; i++) {
      const id = new Uint8Array(16);
      new DataView(id.buffer).setUint32(0, i + 1);
      expect(await bo.groups.receiveEnvelope(id, body)).toBe('held');
    }
    expect(await bo.groups.receiveEnvelope(new Uint8Array(16).fill(0xee), body)).toBe('dropped');
    expect(bo.metrics.counter('groups.drop', { reason: 'unknown_group' })).toBe(1);
    expect((await bo.store.groups.allHeld()).length).toBe(MAX_HELD_BEFORE_GROUP);
    void w;
    void g;
  });

  it('missing key: the message is held, the sender is asked, and it shows once the key comes', async () => {
    const { w, ada, bo, g } = await trio();
    bo.losePairwise = true; // Ada's distribution to Bo is lost
    await ada.groups.send(g, 'one');
    await ada.groups.send(g, 'two');
    bo.losePairwise = false;
    const [one, two] = w.deposits.slice(-2);
    bo.inbox.length = 0;
    // They arrive out of order; the first asks for the key.
    expect(await bo.groups.receiveEnvelope(fromHex(two!.id), two!.body)).toBe('held');
    expect(await bo.groups.receiveEnvelope(fromHex(one!.id), one!.body)).toBe('held');
    expect(await said(bo, g)).toEqual([]);
    expect(bo.metrics.counter('groups.key_request.sent')).toBe(1);
    await w.settle(); // Ada answers, Bo opens both in order
    expect(await said(bo, g)).toEqual(['Ada: one', 'Ada: two']);
    expect(await bo.store.groups.allHeld()).toEqual([]);
    // A copy of either envelope again: nothing new.
    expect(await bo.groups.receiveEnvelope(fromHex(one!.id), one!.body)).toBe('dropped');
    expect(await said(bo, g)).toEqual(['Ada: one', 'Ada: two']);
  });

  it("messages sent while a member's key change waits open for it once the change is acknowledged, in order (as a 1:1 message waits)", async () => {
    const { w, ada, bo, cy, g } = await trio();
    ada.refuseFor.add(cy.id); // Cy's key changed; Ada has not acknowledged it
    await ada.groups.send(g, 'while it waits');
    await w.settle(); // Cy holds it and asks; Ada may not answer yet
    await ada.groups.send(g, 'still waiting');
    await w.settle();
    expect(await said(bo, g)).toEqual(['Ada: while it waits', 'Ada: still waiting']);
    expect(await said(cy, g)).toEqual([]);
    expect(ada.metrics.counter('groups.key_request.unanswered')).toBeGreaterThan(0);
    // Acknowledged: the chain goes to Cy at the first message it was sent without it.
    ada.refuseFor.delete(cy.id);
    expect(await ada.groups.handOwed(cy.id)).toBe(1);
    await w.settle();
    expect(await said(cy, g)).toEqual(['Ada: while it waits', 'Ada: still waiting']);
    expect(await cy.store.groups.allHeld()).toEqual([]);
    await ada.groups.send(g, 'after');
    await w.settle();
    expect(await said(cy, g)).toEqual(['Ada: while it waits', 'Ada: still waiting', 'Ada: after']);
    // Nothing more is owed: acknowledging again hands nothing.
    expect(await ada.groups.handOwed(cy.id)).toBe(0);
  });

  it('a member device without a session: the send does not wait, the chain is owed, and handed when its session starts (a failed hand-over stays owed)', async () => {
    const { w, ada, bo, cy, g } = await trio();
    ada.noSession.add(cy.id); // Ada's session with Cy is being started
    await ada.groups.send(g, 'before the session');
    await w.settle(); // Cy holds it and asks; Ada cannot answer over no session
    await ada.groups.send(g, 'still before');
    await w.settle();
    expect(await said(bo, g)).toEqual(['Ada: before the session', 'Ada: still before']);
    expect(await said(cy, g)).toEqual([]);
    const owedAt = async () => (await ada.store.groups.getSenderKey(`${g}:self`))!.own!.owed;
    expect(await owedAt()).toEqual({ [`${cy.id}:-`]: 0 });
    // A start reported while the device still cannot be sent to (another of its devices, say): still owed.
    expect(await ada.groups.handOwed(cy.id)).toBe(0);
    expect(await owedAt()).toEqual({ [`${cy.id}:-`]: 0 });
    // The session is there: the chain goes at the first message Cy was sent without it.
    ada.noSession.delete(cy.id);
    const answered = ada.metrics.counter('groups.key_request.answered');
    expect(await ada.groups.handOwed(cy.id)).toBe(1);
    expect(await owedAt()).toBeUndefined();
    await w.settle();
    expect(await said(cy, g)).toEqual(['Ada: before the session', 'Ada: still before']);
    expect(ada.metrics.counter('groups.key_request.answered')).toBe(answered);
    expect(await cy.store.groups.allHeld()).toEqual([]);
    // Nothing more is owed.
    expect(await ada.groups.handOwed(cy.id)).toBe(0);
  });

  it("a member's request for a key it is owed, answered once the change is acknowledged, gets it from the first message it missed", async () => {
    const { w, ada, cy, g } = await trio();
    ada.refuseFor.add(cy.id);
    await ada.groups.send(g, 'missed');
    await w.settle();
    ada.refuseFor.delete(cy.id);
    // No acknowledgement hook here: Cy's next request (its minute tick) is what is answered.
    w.clock.advance(KEY_REQUEST_INTERVAL_MS);
    await cy.groups.tick();
    await w.settle();
    expect(await said(cy, g)).toEqual(['Ada: missed']);
  });

  it('a key that never comes: asked again, then the held message is given up with a line, nothing waits forever', async () => {
    const { w, ada, bo, g } = await trio();
    bo.losePairwise = true;
    ada.losePairwise = true; // neither the distribution nor Bo's request gets through
    await ada.groups.send(g, 'lost');
    const d = w.deposits.at(-1)!;
    bo.inbox.length = 0;
    expect(await bo.groups.receiveEnvelope(fromHex(d.id), d.body)).toBe('held');
    for (let i = 0; i < 6; i++) {
      w.clock.advance(KEY_REQUEST_INTERVAL_MS);
      await bo.groups.tick();
    }
    expect(bo.metrics.counter('groups.key_request.sent')).toBeGreaterThan(1);
    expect(await bo.store.groups.allHeld()).toEqual([]);
    expect(bo.metrics.counter('groups.drop', { reason: 'key_never_came' })).toBe(1);
    expect((await texts(bo, g)).at(-1)).toBe('* A message from Ada could not be decrypted');
  });

  it('bad input is dropped and counted, never shown: non-member, bad signature, replay, garbage, unknown group', async () => {
    const { w, ada, bo, cy, g } = await trio();
    await ada.groups.send(g, 'genuine');
    await w.settle();
    const d = w.deposits.at(-1)!;
    // Replayed under a new envelope id: the counter was read.
    expect(await bo.groups.receiveEnvelope(new Uint8Array(16).fill(9), d.body)).toBe('dropped');
    expect(bo.metrics.counter('groups.drop', { reason: 'replayed' })).toBe(1);
    // A flipped bit in the ciphertext: the signature fails.
    const outer = decodeGroupFrame(d.body);
    if (outer.t !== 'group.sealed') throw new Error('not a sealed group message');
    const keys = groupSealKeys(fromHex(g));
    const env = decodeGroupFrame(await openGroupBox(keys, outer.box, crypto));
    if (env.t !== 'group.env') throw new Error('not an envelope');
    // What a member (not the relay) can do: seal a changed envelope again under the group's key.
    const reseal = async (frame: typeof env): Promise<Uint8Array> => encodeGroupFrame({ t: 'group.sealed', tag: keys.tag, box: await sealGroupBox(keys, encodeGroupFrame(frame), crypto, secureRandom) });
    const msg = env.msg.slice();
    msg[30] = msg[30]! ^ 1;
    expect(await bo.groups.receiveEnvelope(new Uint8Array(16).fill(8), await reseal({ ...env, msg }))).toBe('dropped');
    expect(bo.metrics.counter('groups.drop', { reason: 'bad_signature' })).toBe(1);
    // Claimed by a non-member.
    const eve = w.add('Eve');
    expect(await bo.groups.receiveEnvelope(new Uint8Array(16).fill(7), await reseal({ ...env, from: eve.identity.publicKey }))).toBe('dropped');
    expect(bo.metrics.counter('groups.drop', { reason: 'not_member' })).toBe(1);
    // Garbage and an unknown group.
    expect(await bo.groups.receiveEnvelope(new Uint8Array(16).fill(6), new Uint8Array([1, 2, 3]))).toBe('dropped');
    // (A tag naming none of our groups is held for the group to arrive: expired below.)
    expect(await bo.groups.receiveEnvelope(new Uint8Array(16).fill(5), encodeGroupFrame({ ...outer, tag: new Uint8Array(16).fill(1) }))).toBe('held');
    // Sealed under the right tag with an envelope naming another group, or a box that does not open.
    expect(await bo.groups.receiveEnvelope(new Uint8Array(16).fill(4), await reseal({ ...env, group: new Uint8Array(16).fill(1) }))).toBe('dropped');
    const box = outer.box.slice();
    box[20] = box[20]! ^ 1;
    expect(await bo.groups.receiveEnvelope(new Uint8Array(16).fill(3), encodeGroupFrame({ ...outer, box }))).toBe('dropped');
    expect(bo.metrics.counter('groups.drop', { reason: 'unsealable' })).toBe(2);
    // The relay's view: the body names neither the sender's key nor the group id.
    expect(includesBytes(d.body, ada.identity.publicKey)).toBe(false);
    expect(includesBytes(d.body, fromHex(g))).toBe(false);
    expect(bo.metrics.counter('groups.drop', { reason: 'malformed' })).toBe(1);
    expect(bo.metrics.counter('groups.drop', { reason: 'unknown_group' })).toBe(0);
    await w.clock.advance(HOLD_BEFORE_GROUP_MS);
    await bo.groups.tick();
    expect(bo.metrics.counter('groups.drop', { reason: 'unknown_group' })).toBe(1);
    expect(await bo.store.groups.allHeld()).toEqual([]);
    // A non-member's log naming a group without us, and a forged change, change nothing.
    await bo.groups.receiveControl({ account: eve.id, device: '-' }, new Uint8Array([0xff]));
    expect(bo.metrics.counter('groups.drop', { reason: 'malformed' })).toBe(2);
    expect(await said(bo, g)).toEqual(['Ada: genuine']);
    // A non-member asking for Ada's key gets nothing.
    await ada.groups.receiveControl({ account: eve.id, device: '-' }, encodeGroupFrame({ t: 'group.keyreq', group: fromHex(g), chain: 1 }));
    expect(ada.metrics.counter('groups.drop', { reason: 'key_request_not_member' })).toBe(1);
    void cy;
  });

  it('commands refuse what they may not do, changing nothing', async () => {
    const { w, ada, bo, cy, g } = await trio();
    await expect(bo.groups.removeGroupMember(g, cy.id)).rejects.toBeInstanceOf(NotGroupAdminError);
    await expect(bo.groups.renameGroup(g, 'Mine')).rejects.toBeInstanceOf(NotGroupAdminError);
    await expect(ada.groups.createGroup('X', ['ab'.repeat(32)])).rejects.toBeInstanceOf(UnknownContactError);
    await expect(ada.groups.createGroup('X', [])).rejects.toBeInstanceOf(GroupTooLargeError);
    await expect(ada.groups.createGroup('  ', [bo.id])).rejects.toMatchObject({ kind: 'invalid_text' });
    await expect(ada.groups.send('00'.repeat(16), 'x')).rejects.toBeInstanceOf(UnknownGroupError);
    await ada.groups.renameGroup(g, 'Trip 2');
    await w.settle();
    expect((await cy.groups.views())[0]!.name).toBe('Trip 2');
    expect((await texts(cy, g)).at(-1)).toBe('* Ada renamed the group to Trip 2');
  });

  it('the 1,001st member is refused', async () => {
    const w = new GroupWorld();
    const ada = w.add('Ada');
    const ids = Array.from({ length: 1_000 }, (_, i) => toHex(new Uint8Array(32).fill(0)).slice(0, 60) + i.toString(16).padStart(4, '0'));
    for (const id of ids) ada.contacts.set(id, `m${id.slice(-4)}`);
    await expect(ada.groups.createGroup('Big', ids)).rejects.toBeInstanceOf(GroupTooLargeError);
    const g = await ada.groups.createGroup('Big', ids.slice(0, 999));
    expect((await ada.groups.views())[0]!.members).toHaveLength(1_000);
    ada.contacts.set('ff'.repeat(32), 'one more');
    await expect(ada.groups.addGroupMembers(g, ['ff'.repeat(32)])).rejects.toBeInstanceOf(GroupTooLargeError);
    // The whole log and 1,000 names, cut into frames that each fit a pairwise content.
    const record = (await ada.store.groups.getGroup(g))!;
    const names = ids.map((id) => ({ ik: fromHex(id), name: `a rather long member name ${id.slice(-4)}` }));
    const frames = logFrames(g, record.changes, names);
    expect(frames.length).toBeGreaterThan(2);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(MAX_GROUP_FRAME_BYTES);
    const decoded = frames.map((f) => decodeGroupFrame(f));
    expect(decoded.flatMap((f) => (f.t === 'group.log' ? f.names : [])).length).toBe(1_000);
    expect(decoded[0]).toMatchObject({ t: 'group.log', changes: [expect.anything()] });
    // The longest names a frame allows (128 bytes of 4-byte characters) still fit.
    const longest = ids.map((id) => ({ ik: fromHex(id), name: '\u{1F426}'.repeat(32) }));
    const big = logFrames(g, record.changes, longest);
    for (const f of big) expect(f.length).toBeLessThanOrEqual(MAX_GROUP_FRAME_BYTES);
    expect(big.map((f) => decodeGroupFrame(f)).flatMap((f) => (f.t === 'group.log' ? f.names : [])).length).toBe(1_000);
    // A small group is one frame: its members' names come with its changes, never after them.
    const small = logFrames(g, record.changes.slice(0, 1), names.slice(0, 3));
    expect(small).toHaveLength(1);
    expect(decodeGroupFrame(small[0]!)).toMatchObject({ t: 'group.log', changes: [expect.anything()], names: names.slice(0, 3) });
  });

  it('rotates after 7 days, not a moment before; members read across the rotation', async () => {
    const { w, ada, bo, g } = await trio();
    await ada.groups.send(g, 'day 0');
    w.clock.advance(SENDER_KEY_ROTATE_AFTER_MS - 1);
    await ada.groups.send(g, 'day 7, almost');
    await w.settle();
    expect(ada.metrics.counter('groups.sender_key.rotated')).toBe(0);
    w.clock.advance(1);
    await ada.groups.send(g, 'day 7');
    await w.settle();
    expect(ada.metrics.counter('groups.sender_key.rotated')).toBe(1);
    expect(await said(bo, g)).toEqual(['Ada: day 0', 'Ada: day 7, almost', 'Ada: day 7']);
  });

  it('rotates after 100 messages', async () => {
    const { w, ada, bo, g } = await trio();
    for (let i = 0; i < 101; i++) await ada.groups.send(g, `m${i}`);
    await w.settle();
    expect(ada.metrics.counter('groups.sender_key.rotated')).toBe(1);
    expect((await said(bo, g)).length).toBe(101);
  });

  it('chaos: 5 members, one offline through a 50-message burst while one is added and one removed', async () => {
    const w = new GroupWorld();
    const [a, b, c, d, e] = ['Ada', 'Bo', 'Cy', 'Di', 'Ed'].map((n) => w.add(n)) as [Member, Member, Member, Member, Member];
    const f = w.add('Fay');
    w.befriend(a, b, c, d, e, f);
    const g = await a.groups.createGroup('Chaos', [b.id, c.id, d.id, e.id]);
    await w.settle();
    d.online = false; // Di is away for the burst
    const senders = [a, b, c, e];
    const sent = new Map<Member, string[]>();
    const removedAt = 20;
    const addedAt = 30;
    for (let i = 0; i < 50; i++) {
      if (i === removedAt) {
        // No settle first: Ed's last message (#19) is still in flight when Ada removes Ed, and
        // every member takes it on the group version it carries (PROTOCOL.md §17.6).
        await a.groups.removeGroupMember(g, e.id);
        await w.settle();
      }
      if (i === addedAt) {
        await a.groups.addGroupMembers(g, [f.id]);
        await w.settle();
      }
      const s = senders[i % senders.length]!;
      if (s === e && i >= removedAt) continue; // Ed is out
      const text = `${s.name}#${i}`;
      await s.groups.send(g, text);
      sent.set(s, [...(sent.get(s) ?? []), text]);
      if (i % 7 === 0) await w.settle();
    }
    await w.settle();
    d.online = true;
    await w.settle();
    const all = [...sent.values()].flat();
    const idx = (t: string) => Number(t.split('#')[1]);
    for (const m of [a, b, c, d]) {
      const got = (await said(m, g)).map((t) => t.split(': ')[1]!);
      const expected = all.filter((t) => !t.startsWith(`${m.name}#`));
      expect(got.filter((t) => !t.startsWith(`${m.name}#`)).sort(), m.name).toEqual(expected.sort());
      expect(new Set(got).size, `${m.name} once`).toBe(got.length);
      for (const s of senders) {
        const fromS = got.filter((t) => t.startsWith(`${s.name}#`)).map(idx);
        if (s !== m) expect(fromS, `${m.name} sees ${s.name} in order`).toEqual([...fromS].sort((x, y) => x - y));
      }
    }
    expect(all).toContain('Ed#19');
    expect(a.metrics.counter('groups.receive.before_removal')).toBeGreaterThan(0);
    const eGot = (await said(e, g)).map((t) => t.split(': ')[1]!);
    expect(eGot.filter((t) => idx(t) >= removedAt && !t.startsWith('Ed#'))).toEqual([]);
    const fGot = (await said(f, g)).map((t) => t.split(': ')[1]!);
    expect(fGot.every((t) => idx(t) >= addedAt)).toBe(true);
    expect(fGot.length).toBe(all.filter((t) => idx(t) >= addedAt).length);
  }, 60_000);
});
