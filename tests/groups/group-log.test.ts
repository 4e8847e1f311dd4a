import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { generateIdentity, type Identity } from '../../src/core/crypto/index.ts';
import { verifyEd25519Strict } from '../../src/core/crypto/ed25519-verify.ts';
import { seededRandom } from '../../src/core/random.ts';
import { addGroupChange, emptyGroupLog, resolveGroupLog, type GroupLog } from '../../src/core/groups/group-log.ts';
import { applyGroupChange, type GroupState } from '../../src/core/groups/group-state.ts';
import { MAX_GROUP_MEMBERS } from '../../src/core/groups/limits.ts';
import {
  encodeGroupChangeBody,
  groupChangeId,
  groupChangeSignaturePayload,
  type GroupChangeBody,
  type GroupOp,
  type SignedGroupChange,
} from '../../src/core/wire/group-change.ts';

const GROUP = new Uint8Array(16).fill(3);
const ZERO = new Uint8Array(32);
const people = Array.from({ length: 6 }, (_, i) => generateIdentity(seededRandom(50 + i)));
const [ada, bo, cy, di, ed] = people as [Identity, Identity, Identity, Identity, Identity];

function sign(author: Identity, body: Omit<GroupChangeBody, 'author' | 'group' | 'issuedAt'> & { group?: Uint8Array }): SignedGroupChange {
  const bytes = encodeGroupChangeBody({ group: GROUP, issuedAt: 1_000, ...body, author: author.publicKey });
  return { body: bytes, sig: author.sign(groupChangeSignaturePayload(bytes)) };
}

function idOf(c: SignedGroupChange): Uint8Array {
  return groupChangeId(c.body);
}

function after(parent: SignedGroupChange | undefined, version: number) {
  return { parent: parent ? idOf(parent) : ZERO, version };
}

function logOf(changes: readonly SignedGroupChange[]): GroupLog {
  let log = emptyGroupLog(GROUP);
  for (const c of changes) {
    const v = addGroupChange(log, c, verifyEd25519Strict);
    if (!v.ok) throw new Error(`refused: ${v.refusal}`);
    log = v.log;
  }
  return log;
}

function summary(state: GroupState | undefined): string {
  if (!state) return 'none';
  return `${state.version} ${state.name} ${state.members.map((m) => `${toHex(m.account).slice(0, 6)}${m.admin ? '*' : ''}`).join(',')}`;
}

const create = sign(ada, { op: 'create', name: 'Trip', members: [ada.publicKey, bo.publicKey, cy.publicKey], ...after(undefined, 0) });

describe('group state rules', () => {
  const created = resolveGroupLog(logOf([create])).state!;

  it('create makes the creator the only admin, in join order', () => {
    expect(created.members.map((m) => m.admin)).toEqual([true, false, false]);
    expect(created.name).toBe('Trip');
    expect(created.version).toBe(0);
  });

  const cases: Array<[string, Identity, GroupOp, Partial<GroupChangeBody>, string]> = [
    ['a non-admin cannot add', bo, 'add', { members: [di.publicKey] }, 'not_admin'],
    ['a non-member cannot leave', di, 'leave', {}, 'not_member'],
    ['add refuses an existing member', ada, 'add', { members: [bo.publicKey] }, 'invalid'],
    ['add refuses a member twice', ada, 'add', { members: [di.publicKey, di.publicKey] }, 'invalid'],
    ['remove refuses removing oneself', ada, 'remove', { members: [ada.publicKey] }, 'invalid'],
    ['remove refuses a non-member', ada, 'remove', { members: [di.publicKey] }, 'invalid'],
    ['rename refuses an empty name', ada, 'rename', { name: '' }, 'invalid'],
    ['the last admin cannot be demoted', ada, 'demote', { members: [ada.publicKey] }, 'invalid'],
    ['promote refuses an admin', ada, 'promote', { members: [ada.publicKey] }, 'invalid'],
  ];
  for (const [title, author, op, extra, refusal] of cases) {
    it(title, () => {
      const c = sign(author, { op, ...after(create, 1), ...extra });
      const verdict = applyGroupChange(created, { group: GROUP, author: author.publicKey, issuedAt: 1, op, ...after(create, 1), ...extra }, idOf(c));
      expect(verdict.ok ? 'ok' : verdict.refusal).toBe(refusal);
    });
  }

  it('a change must follow the head with the next version, in this group', () => {
    const body = { group: GROUP, author: ada.publicKey, issuedAt: 1, op: 'rename' as const, name: 'x' };
    expect(applyGroupChange(created, { ...body, parent: ZERO, version: 1 }, ZERO)).toMatchObject({ ok: false, refusal: 'wrong_parent' });
    expect(applyGroupChange(created, { ...body, parent: created.head, version: 2 }, ZERO)).toMatchObject({ ok: false, refusal: 'wrong_version' });
    expect(applyGroupChange(created, { ...body, group: new Uint8Array(16), parent: created.head, version: 1 }, ZERO)).toMatchObject({ ok: false, refusal: 'foreign_group' });
  });

  it('the 1,001st member is refused', () => {
    const many = Array.from({ length: MAX_GROUP_MEMBERS - 3 }, (_, i) => {
      const k = new Uint8Array(32);
      k[0] = 1 + (i >> 8);
      k[1] = i & 255;
      return k;
    });
    const full = applyGroupChange(created, { group: GROUP, author: ada.publicKey, issuedAt: 1, op: 'add', members: many, parent: created.head, version: 1 }, new Uint8Array(32).fill(1));
    expect(full.ok && full.state.members.length).toBe(MAX_GROUP_MEMBERS);
    const state = (full as { state: GroupState }).state;
    const one = applyGroupChange(state, { group: GROUP, author: ada.publicKey, issuedAt: 1, op: 'add', members: [di.publicKey], parent: state.head, version: 2 }, ZERO);
    expect(one).toMatchObject({ ok: false, refusal: 'too_many_members' });
  });

  it('when the last admin leaves, the member with the smallest key becomes admin', () => {
    const leave = sign(ada, { op: 'leave', ...after(create, 1) });
    const state = resolveGroupLog(logOf([create, leave])).state!;
    const smallest = [bo, cy].map((p) => toHex(p.publicKey)).sort()[0];
    expect(state.members.filter((m) => m.admin).map((m) => toHex(m.account))).toEqual([smallest]);
  });
});

describe('group log', () => {
  it('refuses a forged, foreign or malformed change and changes nothing', () => {
    const log = logOf([create]);
    const forged = { ...sign(ada, { op: 'rename', name: 'x', ...after(create, 1) }), sig: bo.sign(new Uint8Array(1)) };
    expect(addGroupChange(log, forged, verifyEd25519Strict)).toMatchObject({ ok: false, refusal: 'bad_signature' });
    expect(addGroupChange(log, sign(ada, { op: 'rename', name: 'x', group: new Uint8Array(16), ...after(create, 1) }), verifyEd25519Strict)).toMatchObject({ ok: false, refusal: 'foreign_group' });
    expect(addGroupChange(log, { body: new Uint8Array([1, 2, 3]), sig: new Uint8Array(64) }, verifyEd25519Strict)).toMatchObject({ ok: false, refusal: 'malformed' });
    expect(log.changes.size).toBe(1);
    expect(addGroupChange(log, create, verifyEd25519Strict)).toMatchObject({ ok: true, added: false });
  });

  it('a change waits for its parent and counts once the parent arrives', () => {
    const add = sign(ada, { op: 'add', members: [di.publicKey], ...after(create, 1) });
    const rename = sign(ada, { op: 'rename', name: 'Trip 2', ...after(add, 2) });
    expect(resolveGroupLog(logOf([create, rename])).state!.version).toBe(0);
    expect(summary(resolveGroupLog(logOf([create, rename, add])).state)).toBe(summary(resolveGroupLog(logOf([create, add, rename])).state));
    expect(resolveGroupLog(logOf([create, rename, add])).state!.name).toBe('Trip 2');
  });

  it('a removal outranks a concurrent change by the removed admin; the loser is left out', () => {
    const promote = sign(ada, { op: 'promote', members: [bo.publicKey], ...after(create, 1) });
    const removeBo = sign(ada, { op: 'remove', members: [bo.publicKey], ...after(promote, 2) });
    const boAdds = sign(bo, { op: 'add', members: [ed.publicKey], ...after(promote, 2) });
    const resolved = resolveGroupLog(logOf([create, promote, boAdds, removeBo]));
    expect(resolved.state!.members.map((m) => toHex(m.account))).not.toContain(toHex(bo.publicKey));
    expect(resolved.state!.members.map((m) => toHex(m.account))).not.toContain(toHex(ed.publicKey));
    expect(resolved.leftOut.map((c) => toHex(c.id))).toEqual([toHex(idOf(boAdds))]);
  });

  it('every member holding the same changes resolves the same state, whatever the order they arrived in', () => {
    // Admins Ada and Bo change the group concurrently on random earlier heads.
    const promote = sign(ada, { op: 'promote', members: [bo.publicKey], ...after(create, 1) });
    const ops = fc.constantFrom<'add' | 'rename' | 'remove' | 'leave'>('add', 'rename', 'remove', 'leave');
    const step = fc.record({ author: fc.constantFrom(ada, bo, cy), op: ops, parentPick: fc.nat(), target: fc.constantFrom(cy, di, ed), name: fc.constantFrom('A', 'B', 'C') });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 10 }), fc.nat(), (steps, seed) => {
        const made: SignedGroupChange[] = [create, promote];
        const versions = new Map<SignedGroupChange, number>([[create, 0], [promote, 1]]);
        for (const s of steps) {
          const parent = made[s.parentPick % made.length]!;
          const version = versions.get(parent)! + 1;
          const body = s.op === 'rename' ? { name: s.name } : s.op === 'leave' ? {} : { members: [s.target.publicKey] };
          const c = sign(s.author, { op: s.op, ...body, parent: idOf(parent), version });
          if (versions.has(c)) continue;
          versions.set(c, version);
          made.push(c);
        }
        const shuffled = made.slice().sort((a, b) => ((toHex(idOf(a)).charCodeAt(seed % 60) ^ seed) & 7) - ((toHex(idOf(b)).charCodeAt(seed % 60) ^ seed) & 7));
        const one = resolveGroupLog(logOf(made));
        const two = resolveGroupLog(logOf(shuffled));
        expect(summary(two.state)).toBe(summary(one.state));
        expect(two.applied.map(toHex)).toEqual(one.applied.map(toHex));
      }),
      { numRuns: 60 },
    );
  });
});
