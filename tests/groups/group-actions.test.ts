/**
 * Message actions in a group (issue 20), with real crypto through the group parts of the
 * messenger: reply, edit, react and delete for everyone reach every member (one deposit
 * each), only the author edits or deletes, the 24 h / 10-edit limits, idempotency (a
 * resent command, a second copy of an envelope), an action that overtakes its message,
 * a removed member's actions dropped, and a content kind this version does not know shown
 * by its fallback text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/bytes.ts';
import { MessageActionRefusedError, UnknownGroupError } from '../../src/core/messenger/errors.ts';
import { membershipOf } from '../../src/core/messenger/group-membership.ts';
import { sealForMembers } from '../../src/core/messenger/group-send.ts';
import { secureRandom } from '../../src/core/random.ts';
import { ACTION_WINDOW_MS } from '../../src/core/store/message-actions.ts';
import { encodeContent, type SendableContent } from '../../src/core/wire/index.ts';
import { decodeGroupFrame, encodeGroupFrame } from '../../src/core/wire/group-content.ts';
import { bytesN, struct, text, uintSafe } from '../../src/core/wire/schema.ts';
import { encodeVersioned } from '../../src/core/wire/versioned-codec.ts';
import { CryptoRuntime } from '../../src/core/crypto/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { Groups } from '../../src/core/messenger/groups.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { GroupWorld, type Member } from './group-world.ts';

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

const view = async (m: Member, g: string, id: string) => (await m.groups.messages(g)).find((v) => v.id === id)!;

/**
 * What a member's device could send without its own commands' checks: `content` as a
 * group.act under its real sender chain, deposited to the members its copy of the group
 * names (its advanced chain is committed, as a send would).
 */
async function forge(w: GroupWorld, m: Member, g: string, content: Uint8Array, gv?: number): Promise<void> {
  const rec = (await m.store.groups.getGroup(g))!;
  const plaintext = encodeGroupFrame({ t: 'group.act', gv: gv ?? membershipOf(rec).state!.version, content });
  const { body, senderKey, targets } = await sealForMembers(m.groups.ctx, rec, plaintext);
  await m.store.groups.commit({ senderKeys: [senderKey] });
  const id = secureRandom.bytes(16);
  for (const t of targets) w.members.get(t.account)?.inbox.push({ kind: 'multi', id, body });
}

const edit = (to: string, newText: string, ts: number): Uint8Array =>
  encodeContent({ t: 'edit', id: secureRandom.bytes(16), ts, to: fromHex(to), text: newText, fallback: `Edited a message: ${newText}` } satisfies SendableContent);

describe('message actions in a group', () => {
  it('reply, edit, react and delete for everyone reach every member, one deposit each', async () => {
    const { w, ada, bo, cy, g } = await trio();
    const first = await ada.groups.send(g, 'dinner at 8?');
    await w.settle();
    const before = w.deposits.length;
    const reply = await bo.groups.send(g, 'yes!', undefined, first);
    await w.settle();
    await ada.groups.edit(first, 'dinner at 9?');
    await w.settle();
    await cy.groups.react(first, '👍');
    await bo.groups.react(first, '🎉');
    await w.settle();
    // One encryption and one upload per action, to every other member.
    expect(w.deposits.length).toBe(before + 4);
    expect(w.deposits.at(-1)!.to.sort()).toEqual([ada.id, cy.id].sort());
    for (const m of [ada, bo, cy]) {
      const f = await view(m, g, first);
      expect(f.text).toBe('dinner at 9?');
      expect(f.versions!.map((v) => v.text)).toEqual(['dinner at 8?', 'dinner at 9?']);
      expect(f.reactions!.map((r) => r.emoji).sort()).toEqual(['🎉', '👍'].sort());
      expect(await view(m, g, reply)).toMatchObject({ text: 'yes!', quote: { id: first, text: 'dinner at 8?' } });
    }
    // Reactions by member name; ours marked; only the author may edit or delete.
    expect((await view(ada, g, first)).reactions).toEqual(expect.arrayContaining([{ emoji: '👍', mine: false, name: 'Cy' }, { emoji: '🎉', mine: false, name: 'Bo' }]));
    expect((await view(cy, g, first)).reactions).toEqual(expect.arrayContaining([{ emoji: '👍', mine: true }, { emoji: '🎉', mine: false, name: 'Bo' }]));
    expect(await view(ada, g, first)).toMatchObject({ canEdit: true, canDeleteForEveryone: true });
    expect((await view(bo, g, first)).canEdit).toBeUndefined();
    expect((await view(bo, g, reply)).canDeleteForEveryone).toBe(true);
    expect(cy.metrics.counter('groups.action.received', { kind: 'edit' })).toBe(1);

    await ada.groups.deleteForEveryone(first);
    await w.settle();
    for (const m of [ada, bo, cy]) {
      const f = await view(m, g, first);
      expect(f).toMatchObject({ deleted: true, text: '' });
      expect(f.versions).toBeUndefined();
      expect(f.reactions).toBeUndefined();
      // The reply keeps what it answered, not the deleted text.
      expect((await view(m, g, reply)).quote).toEqual({ id: first, text: '' });
    }
    expect((await ada.groups.views())[0]!.lastMessage?.text).toBe('yes!');
    // Nothing can be done to a deleted message any more, but Delete for me still works.
    await expect(cy.groups.react(first, '👍')).rejects.toMatchObject({ reason: 'deleted' });
    await expect(bo.groups.send(g, 'to what?', undefined, first)).rejects.toMatchObject({ reason: 'deleted' });
  });

  it('only the author edits or deletes for everyone; a forged edit, or a reaction across groups, changes nothing', async () => {
    const { w, ada, bo, cy, g } = await trio();
    const m = await ada.groups.send(g, 'mine');
    await w.settle();
    await expect(bo.groups.edit(m, 'yours now')).rejects.toMatchObject({ reason: 'not_author' });
    await expect(bo.groups.deleteForEveryone(m)).rejects.toBeInstanceOf(MessageActionRefusedError);
    const deposits = w.deposits.length;
    expect(w.deposits.length).toBe(deposits);
    // Bo's device sends the edit anyway: every member refuses it.
    await forge(w, bo, g, edit(m, 'yours now', w.clock.now()));
    await w.settle();
    for (const x of [ada, cy]) expect((await view(x, g, m)).text).toBe('mine');
    expect(cy.metrics.counter('groups.action.refused', { reason: 'not_author' })).toBe(1);
    expect(ada.metrics.counter('groups.action.refused', { reason: 'not_author' })).toBe(1);
    // A reaction sent in another group to this group's message is not taken either.
    const g2 = await ada.groups.createGroup('Pair', [bo.id]);
    await w.settle();
    await forge(w, bo, g2, encodeContent({ t: 'react', id: secureRandom.bytes(16), ts: w.clock.now(), to: fromHex(m), emoji: '👍', fallback: 'Reacted 👍 to a message' }));
    await w.settle();
    expect((await view(ada, g, m)).reactions).toBeUndefined();
    expect(ada.metrics.counter('groups.action.refused', { reason: 'not_in_chat' })).toBe(1);
  });

  it('edits end after 10 and, like delete for everyone, after 24 hours; reactions do not', async () => {
    const { w, ada, bo, g } = await trio();
    const m = await ada.groups.send(g, 'v0');
    await w.settle();
    for (let i = 1; i <= 10; i++) await ada.groups.edit(m, `v${i}`);
    await expect(ada.groups.edit(m, 'v11')).rejects.toMatchObject({ reason: 'too_many_edits' });
    await w.settle();
    expect((await view(bo, g, m)).versions).toHaveLength(11);
    expect((await view(bo, g, m)).text).toBe('v10');
    expect((await view(ada, g, m)).canEdit).toBeUndefined();
    const late = await ada.groups.send(g, 'late');
    await w.settle();
    w.clock.advance(ACTION_WINDOW_MS + 1);
    await expect(ada.groups.edit(late, 'later')).rejects.toMatchObject({ reason: 'too_late' });
    await expect(ada.groups.deleteForEveryone(late)).rejects.toMatchObject({ reason: 'too_late' });
    expect((await view(ada, g, late)).canDeleteForEveryone).toBeUndefined();
    await bo.groups.react(late, '👍');
    await w.settle();
    expect((await view(ada, g, late)).reactions).toEqual([{ emoji: '👍', mine: false, name: 'Bo' }]);
  });

  it('idempotent: a resent command sends once, a second copy changes nothing, a newer reaction replaces the older', async () => {
    const { w, ada, bo, cy, g } = await trio();
    const m = await bo.groups.send(g, 'hi');
    await w.settle();
    const id = '0a'.repeat(16);
    await ada.groups.react(m, '👍', id);
    const deposits = w.deposits.length;
    await ada.groups.react(m, '👍', id);
    expect(w.deposits.length).toBe(deposits);
    await w.settle();
    // The same envelope again (the relay delivered twice): its counter was read, nothing changes.
    const copy = w.deposits.at(-1)!;
    expect(await cy.groups.receiveEnvelope(fromHex(copy.id), copy.body)).toBe('dropped');
    expect(cy.metrics.counter('groups.drop', { reason: 'replayed' })).toBe(1);
    expect((await view(cy, g, m)).reactions).toEqual([{ emoji: '👍', mine: false, name: 'Ada' }]);
    await ada.groups.react(m, '❤️');
    await w.settle();
    expect((await view(cy, g, m)).reactions).toEqual([{ emoji: '❤️', mine: false, name: 'Ada' }]);
    await ada.groups.react(m, '');
    await w.settle();
    expect((await view(cy, g, m)).reactions).toBeUndefined();
    expect((await view(bo, g, m)).reactions).toBeUndefined();
    const editId = '0b'.repeat(16);
    await bo.groups.edit(m, 'hello', editId);
    await bo.groups.edit(m, 'hello', editId);
    await w.settle();
    expect((await view(ada, g, m)).versions).toHaveLength(2);
    await expect(ada.groups.react(m, 'not an emoji')).rejects.toMatchObject({ reason: 'invalid' });
  });

  it('an action that overtakes its message is held and applied when the message comes', async () => {
    const { w, ada, bo, cy, g } = await trio();
    cy.online = false;
    const m = await ada.groups.send(g, 'first');
    await w.settle();
    await bo.groups.react(m, '👍');
    await bo.groups.send(g, 'reply', undefined, m);
    await ada.groups.edit(m, 'first, edited');
    await w.settle();
    // Ada's message (the first deposit Cy missed) reaches Cy last, after Bo's reaction and reply and her own edit.
    const first = cy.inbox.findIndex((i) => i.kind === 'multi');
    cy.inbox.push(...cy.inbox.splice(first, 1));
    cy.online = true;
    await w.settle();
    const v = await view(cy, g, m);
    expect(v.text).toBe('first, edited');
    expect(v.reactions).toEqual([{ emoji: '👍', mine: false, name: 'Bo' }]);
    expect(cy.metrics.counter('groups.action.held', { kind: 'react' })).toBe(1);
    expect(await GroupWorld.said(cy, g)).toEqual(['Bo: reply', 'Ada: first, edited']);
  });

  it("a removed member's actions are dropped; once removed, nothing can be sent or offered", async () => {
    const { w, ada, bo, cy, g } = await trio();
    const m = await ada.groups.send(g, 'before');
    const own = await cy.groups.send(g, 'mine');
    await w.settle();
    await ada.groups.removeGroupMember(g, cy.id);
    await w.settle();
    await expect(cy.groups.react(m, '👍')).rejects.toBeInstanceOf(UnknownGroupError);
    await expect(cy.groups.edit(own, 'changed')).rejects.toBeInstanceOf(UnknownGroupError);
    expect((await view(cy, g, own)).canEdit).toBeUndefined();
    // Cy's device sends anyway: dropped by every member.
    await forge(w, cy, g, encodeContent({ t: 'delete', id: secureRandom.bytes(16), ts: w.clock.now(), to: fromHex(own), fallback: 'Deleted a message' }));
    await w.settle();
    for (const x of [ada, bo]) expect((await view(x, g, own)).text).toBe('mine');
    expect(ada.metrics.counter('groups.drop', { reason: 'not_member' }) + bo.metrics.counter('groups.drop', { reason: 'not_member' })).toBeGreaterThanOrEqual(2);
    // Delete for me needs nobody: it works on the removed member's copy.
    await cy.store.deleteMessageLocally(m);
    expect((await cy.groups.messages(g)).some((v) => v.id === m)).toBe(false);
  });

  it('a content kind this version does not know shows its fallback text, never an error', async () => {
    const { w, ada, bo, g } = await trio();
    const poll = encodeVersioned('poll', { id: secureRandom.bytes(16), ts: w.clock.now(), question: 'Where?', fallback: 'Poll: where do we eat?' }, struct({ id: bytesN(16), ts: uintSafe, question: text(64), fallback: text(256) }));
    await forge(w, bo, g, poll);
    await w.settle();
    expect(await GroupWorld.said(ada, g)).toEqual(['Bo: Poll: where do we eat?']);
    expect(ada.metrics.counter('groups.receive.fallback', { kind: 'poll' })).toBe(1);
    // A content kind with no fallback (a 1:1 receipt) is dropped and counted, not shown.
    await forge(w, bo, g, encodeContent({ t: 'receipt', kind: 'read', ids: [secureRandom.bytes(16)] }));
    await w.settle();
    expect(ada.metrics.counter('groups.drop', { reason: 'unsupported_content' })).toBe(1);
    expect(await GroupWorld.said(ada, g)).toHaveLength(1);
  });

  it('our own other device takes our actions from another device as ours (its transcript), as the members do', async () => {
    const { w, ada, bo, cy, g } = await trio();
    const m = await ada.groups.send(g, 'from my laptop');
    await w.settle();
    // Ada's second device: her identity, its own device id and store (holding the group and her message).
    const store2 = createMemoryStore({ now: () => w.clock.now() });
    await store2.groups.commit({ groups: [(await ada.store.groups.getGroup(g))!], messages: [(await ada.store.groups.getMessage(m))!] });
    const phone = 'aa'.repeat(16);
    const laptop = 'bb'.repeat(16); // the world's Ada, as the phone's device list names her
    const push = (account: string, item: Member['inbox'][number]) => w.members.get(account)?.inbox.push(item);
    const ada2 = new Groups({
      store: store2.groups,
      identity: ada.identity,
      crypto: new CryptoRuntime(secureRandom),
      random: secureRandom,
      clock: w.clock,
      metrics: new InMemoryMetrics(),
      log: silentLogger,
      ports: {
        thisDevice: phone,
        devicesOf: async (account) => (account === ada.id ? [laptop, phone] : ['-']),
        sendPairwise: async (to, frame) => void push(to.account, { kind: 'pairwise', from: { account: ada.id, device: phone }, frame: frame.slice() }),
        sendOverSession: async (to, frame) => void push(to.account, { kind: 'pairwise', from: { account: ada.id, device: phone }, frame: frame.slice() }),
        sendMulti: async (id, to, body) => {
          for (const t of to) push(t.account, { kind: 'multi', id: id.slice(), body: body.slice() });
        },
        contactName: () => undefined,
        profileName: () => undefined,
        isContact: () => true,
        ownName: () => 'Ada',
        keyChanges: () => new Map(),
      },
    });
    await ada2.edit(m, 'from my phone');
    await w.settle();
    for (const x of [ada, bo, cy]) expect((await view(x, g, m)).text).toBe('from my phone');
    // On the laptop it is still hers: she may edit it again there.
    expect((await view(ada, g, m)).canEdit).toBe(true);
    await ada2.deleteForEveryone(m);
    await w.settle();
    for (const x of [ada, bo, cy]) expect((await view(x, g, m)).deleted).toBe(true);
  });

  it('group.act: encodes and decodes any version and content exactly; an unknown field or an oversized content is refused', () => {
    fc.assert(
      fc.property(fc.nat(), fc.uint8Array({ maxLength: 2_048 }), (gv, content) => {
        expect(decodeGroupFrame(encodeGroupFrame({ t: 'group.act', gv, content }), ['group.act'])).toEqual({ t: 'group.act', gv, content });
      }),
      { numRuns: 200 },
    );
    const extra = encodeVersioned('group.act', { gv: 1, content: new Uint8Array(1), x: 1 }, struct({ gv: uintSafe, content: bytesN(1), x: uintSafe }));
    let refused: unknown;
    try {
      decodeGroupFrame(extra, ['group.act']);
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({ reason: 'unknown_field' });
    expect(() => encodeGroupFrame({ t: 'group.act', gv: 1, content: new Uint8Array(64 * 1024) })).toThrow();
  });
});
