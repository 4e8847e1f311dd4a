/**
 * The core's state sent as patches (state-patch.ts): after any sequence of state changes
 * made the way the core makes them (a changed row is a new object, the others are kept),
 * the receiver's state equals the sender's, rows that did not change keep the receiver's
 * own objects, and a patch for another version is refused, changing nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MessageView, MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { applyStatePatch, diffState, StatePatchMismatch } from '../../src/platform/core-protocol/state-patch.ts';

const ANN = 'a'.repeat(64);
const BOB = 'b'.repeat(64);
let n = 0;
const message = (contactId: string, status: MessageView['status'] = 'queued'): MessageView => {
  n++;
  return { id: n.toString(16).padStart(32, '0'), contactId, direction: n % 2 ? 'out' : 'in', text: `m${n}`, at: n, status };
};

const START: MessengerState = {
  phase: 'ready',
  me: { displayName: 'Me', id: 'c'.repeat(64), inviteUrl: 'https://x/#invite=1' },
  connection: { kind: 'connecting' },
  storage: { state: 'ok' },
  contacts: [],
  queueDepth: 0,
  chat: { contactId: ANN, messages: [message(ANN), message(ANN)], hasOlder: false },
};

type Step =
  | { k: 'status'; pick: number; status: MessageView['status'] }
  | { k: 'add'; count: number }
  | { k: 'remove'; pick: number }
  | { k: 'older'; hasOlder: boolean }
  | { k: 'open'; who: 'ann' | 'bob' | 'none' }
  | { k: 'queue'; depth: number }
  | { k: 'transfers'; on: boolean }
  | { k: 'connection'; online: boolean }
  | { k: 'nothing' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ k: fc.constant('status' as const), pick: fc.nat(50), status: fc.constantFrom('sent' as const, 'delivered' as const, 'read' as const, 'failed' as const) }),
  fc.record({ k: fc.constant('add' as const), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('remove' as const), pick: fc.nat(50) }),
  fc.record({ k: fc.constant('older' as const), hasOlder: fc.boolean() }),
  fc.record({ k: fc.constant('open' as const), who: fc.constantFrom('ann' as const, 'bob' as const, 'none' as const) }),
  fc.record({ k: fc.constant('queue' as const), depth: fc.nat(5) }),
  fc.record({ k: fc.constant('transfers' as const), on: fc.boolean() }),
  fc.record({ k: fc.constant('connection' as const), online: fc.boolean() }),
  fc.constant({ k: 'nothing' as const }),
);

/** The next state as the core makes it: unchanged parts are the same objects. */
function evolve(s: MessengerState, st: Step): MessengerState {
  const chat = s.chat;
  switch (st.k) {
    case 'status': {
      if (!chat?.messages.length) return s;
      const i = st.pick % chat.messages.length;
      const messages = chat.messages.map((m, j) => (j === i ? { ...m, status: st.status } : m));
      return { ...s, chat: { ...chat, messages } };
    }
    case 'add':
      if (!chat) return s;
      return { ...s, chat: { ...chat, messages: [...chat.messages, ...Array.from({ length: st.count }, () => message(chat.contactId))] } };
    case 'remove': {
      if (!chat?.messages.length) return s;
      const i = st.pick % chat.messages.length;
      return { ...s, chat: { ...chat, messages: chat.messages.filter((_, j) => j !== i) } };
    }
    case 'older':
      return chat ? { ...s, chat: { ...chat, hasOlder: st.hasOlder } } : s;
    case 'open': {
      const { chat: _c, ...rest } = s;
      if (st.who === 'none') return rest;
      const id = st.who === 'ann' ? ANN : BOB;
      return { ...rest, chat: { contactId: id, messages: [message(id), message(id)], hasOlder: true } };
    }
    case 'queue':
      return { ...s, queueDepth: st.depth };
    case 'transfers': {
      const { transfers: _t, ...rest } = s;
      return st.on ? { ...rest, transfers: [{ messageId: 'f'.repeat(32), contactId: ANN, name: 'a.txt', direction: 'up', done: 1, total: 2 }] } : rest;
    }
    case 'connection':
      return { ...s, connection: st.online ? { kind: 'online', direct: 0 } : { kind: 'offline' } };
    case 'nothing':
      return s;
  }
}

describe('state patches between the core and the UI', () => {
  it('after any sequence of changes the receiver’s state equals the sender’s, unchanged rows keeping their objects', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let sent = START;
        // The receiver starts from a copy (structured clone across the worker boundary).
        let shown: MessengerState = structuredClone(START);
        let version = 0;
        for (const st of steps) {
          const next = evolve(sent, st);
          const patch = diffState(sent, next, version);
          sent = next;
          if (!patch) continue;
          const before = new Map(shown.chat?.messages.map((m) => [m.id, m]) ?? []);
          const wire = structuredClone(patch);
          shown = applyStatePatch(shown, version, wire);
          version++;
          expect(shown).toEqual(sent);
          // Rows the patch did not carry are the receiver's own objects, untouched.
          const carried = new Set(wire.chat?.k === 'rows' ? wire.chat.rows.map((m) => m.id) : []);
          if (wire.chat?.k === 'rows') for (const m of shown.chat!.messages) if (!carried.has(m.id)) expect(m).toBe(before.get(m.id));
        }
        expect(shown).toEqual(sent);
      }),
      { numRuns: 300 },
    );
  });

  it('sends only the changed row of a status move', () => {
    const next = evolve(START, { k: 'status', pick: 1, status: 'delivered' });
    const patch = diffState(START, next, 7)!;
    expect(patch.base).toBe(7);
    expect(patch.set).toEqual({});
    expect(patch.chat).toMatchObject({ k: 'rows', rows: [{ id: START.chat!.messages[1]!.id, status: 'delivered' }] });
    expect(diffState(next, next, 8)).toBeUndefined();
  });

  it("carries the contact's devices when they change, and keeps a group window's flag", () => {
    const devices = [{ id: 'd1'.repeat(16), name: 'Chromium on Linux' }, { id: 'd2'.repeat(16), name: 'Device 2' }];
    const withDevices: MessengerState = { ...START, chat: { ...START.chat!, devices } };
    const patch = diffState(START, withDevices, 1)!;
    expect(patch.chat).toMatchObject({ k: 'rows', rows: [], devices });
    expect(applyStatePatch(START, 1, patch)).toEqual(withDevices);
    // The same devices again (a new window object): nothing to send.
    expect(diffState(withDevices, { ...withDevices, chat: { ...withDevices.chat!, devices: devices.map((d) => ({ ...d })) } }, 2)).toBeUndefined();
    // A device renamed: its new name is carried.
    const renamed: MessengerState = { ...withDevices, chat: { ...withDevices.chat!, devices: [devices[0]!, { ...devices[1]!, name: 'Work laptop' }] } };
    expect(applyStatePatch(withDevices, 2, diffState(withDevices, renamed, 2)!).chat?.devices?.[1]?.name).toBe('Work laptop');
    // Gone (the contact unlinked down to one): the receiver drops them too.
    const back = diffState(withDevices, START, 2)!;
    expect(applyStatePatch(withDevices, 2, back).chat?.devices).toBeUndefined();
    const group: MessengerState = { ...START, chat: { contactId: 'e'.repeat(32), group: true, messages: [message('e'.repeat(32))], hasOlder: false } };
    const moved: MessengerState = { ...group, chat: { ...group.chat!, messages: [{ ...group.chat!.messages[0]!, status: 'sent' }] } };
    expect(applyStatePatch(group, 3, diffState(group, moved, 3)!)).toEqual(moved);
  });

  it('a patch for another version, or naming a row it neither shows nor carries, is refused and changes nothing', () => {
    const next = evolve(START, { k: 'add', count: 1 });
    const patch = diffState(START, next, 3)!;
    expect(() => applyStatePatch(START, 2, patch)).toThrow(StatePatchMismatch);
    const withoutRows = { ...patch, chat: { k: 'rows' as const, hasOlder: false, ids: ['0'.repeat(32)], rows: [] } };
    const copy = structuredClone(START);
    expect(() => applyStatePatch(copy, 3, withoutRows)).toThrow(StatePatchMismatch);
    expect(copy).toEqual(START);
    const { chat: _c, ...noChat } = START;
    expect(() => applyStatePatch(noChat, 3, patch)).toThrow(StatePatchMismatch);
  });
});
