/**
 * Message actions in a group through the public API (issue 20): reply, edit, react, delete
 * for everyone and delete for me in a group of two complete cores on the real relay (real
 * crypto); the same `editMessage` / `react` / `deleteForEveryone` calls as in a 1:1 chat.
 */
import { describe, expect, it } from 'vitest';
import type { MessageView, MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { device, introduce, onboard, testWorld, until } from './harness.ts';

const { relay, track } = testWorld();

const row = (s: MessengerState, text: string): MessageView | undefined => s.chat?.messages.find((m) => m.text === text);
const byId = (s: MessengerState, id: string): MessageView | undefined => s.chat?.messages.find((m) => m.id === id);

describe('message actions in a group, through the messenger', () => {
  it('reply, edit, react and delete for everyone reach the other member; delete for me stays on this device', async () => {
    const r = await relay();
    const ada = track(device(r.url));
    const bo = track(device(r.url));
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    await introduce(ada, bo);
    const g = await ada.messenger.createGroup('Pair', [bo.messenger.getState().me!.id]);
    await until(bo, (s) => !!s.groups?.some((x) => x.id === g), 20_000);
    await ada.messenger.openChat(g);
    await bo.messenger.openChat(g);

    const first = 'a1'.repeat(16);
    await ada.messenger.send(g, 'dinner at 8?', { id: first });
    await until(bo, (s) => !!row(s, 'dinner at 8?'), 20_000);
    await bo.messenger.send(g, 'yes', { id: 'b1'.repeat(16), replyTo: first });
    expect(byId(await until(ada, (s) => !!row(s, 'yes'), 20_000), 'b1'.repeat(16))?.quote).toEqual({ id: first, text: 'dinner at 8?' });

    await expect(bo.messenger.editMessage(first, 'mine now')).rejects.toMatchObject({ kind: 'action_refused', reason: 'not_author' });
    await ada.messenger.editMessage(first, 'dinner at 9?  ');
    const edited = byId(await until(bo, (s) => byId(s, first)?.text === 'dinner at 9?', 20_000), first)!;
    expect(edited.versions?.map((v) => v.text)).toEqual(['dinner at 8?', 'dinner at 9?']);
    await bo.messenger.react(first, '👍');
    expect(byId(await until(ada, (s) => !!byId(s, first)?.reactions?.length, 20_000), first)?.reactions).toEqual([{ emoji: '👍', mine: false, name: 'Bo' }]);

    await ada.messenger.deleteForEveryone(first);
    const gone = await until(bo, (s) => byId(s, first)?.deleted === true, 20_000);
    expect(byId(gone, first)).toMatchObject({ text: '' });
    expect(byId(gone, 'b1'.repeat(16))?.quote).toEqual({ id: first, text: '' });

    await bo.messenger.deleteForMe('b1'.repeat(16));
    await until(bo, (s) => !byId(s, 'b1'.repeat(16)));
    expect(byId(ada.messenger.getState(), 'b1'.repeat(16))?.text).toBe('yes');
  }, 90_000);
});
