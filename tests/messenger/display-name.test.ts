/**
 * Changing our display name (issue 20, Settings): the identity row, `me` and new invites
 * say the new name; a bad name is refused and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { device, onboard, testWorld } from './harness.ts';

const { relay, track } = testWorld();

describe('setDisplayName', () => {
  it('changes what me and new invites say, durably; a bad name changes nothing', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    await onboard(alice, 'Alice');
    const before = alice.messenger.getState().me!;

    await alice.messenger.setDisplayName('  Alicia  ');
    const me = alice.messenger.getState().me!;
    expect(me.displayName).toBe('Alicia');
    expect(me.id).toBe(before.id);
    expect(me.inviteUrl).not.toBe(before.inviteUrl);
    expect(alice.messenger.parseInvite(me.inviteUrl)?.displayName).toBe('Alicia');
    expect((await alice.store.loadIdentity())?.displayName).toBe('Alicia');

    await expect(alice.messenger.setDisplayName('   ')).rejects.toMatchObject({ kind: 'invalid_text' });
    await expect(alice.messenger.setDisplayName('x'.repeat(65))).rejects.toMatchObject({ kind: 'invalid_text' });
    expect(alice.messenger.getState().me!.displayName).toBe('Alicia');
    expect((await alice.store.loadIdentity())?.displayName).toBe('Alicia');
  });
});
