/**
 * Backup and restore at the messenger level, over the real relay (issue 17, PROTOCOL.md
 * §16): Ada makes a backup, a fresh browser restores it (from the file, or from the relay
 * with the recovery key alone) and is a new device of Ada's account with her contacts,
 * their verification and the history; a wrong key, a typo'd key, a tampered file or an
 * empty vault are typed errors that leave that browser with no identity and nothing stored.
 */
import { describe, expect, it } from 'vitest';
import { fetchBlobHttp } from '../../src/platform/fetch-blob-http.ts';
import { adaAndBoTalked, device, onboard, testWorld, texts, until, type Device } from './harness.ts';

const { relay, track } = testWorld();

async function adaWithHistory(url: string, http: string): Promise<{ ada: Device; bo: Device; aSeesB: string }> {
  const ada = track(device(url, undefined, { blobHttp: fetchBlobHttp(http) }));
  const bo = track(device(url));
  const { aSeesB } = await adaAndBoTalked(ada, bo);
  await ada.messenger.setVerified(aSeesB, true);
  return { ada, bo, aSeesB };
}

async function fresh(url: string, http: string): Promise<Device> {
  const d = track(device(url, undefined, { blobHttp: fetchBlobHttp(http) }));
  await d.messenger.start();
  await until(d, (s) => s.phase === 'onboarding');
  return d;
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return String((err as { kind?: unknown }).kind ?? (err as Error).name);
  }
  return 'resolved';
}

async function nothingKept(d: Device): Promise<void> {
  expect(await d.store.loadIdentity()).toBeUndefined();
  expect(await d.store.listContacts()).toEqual([]);
  expect(d.messenger.getState().phase).toBe('onboarding');
}

describe('backup and restore', () => {
  it('a backup file restored in a fresh browser gives the same account, contacts, verification and history, as a new device', async () => {
    const r = await relay();
    const { ada, aSeesB } = await adaWithHistory(r.url, r.http);
    const made = await ada.messenger.createBackup();
    expect(made.recoveryKey).toMatch(/^([0-9A-Z]{4}-){8}[0-9A-Z]{4}$/);
    expect(ada.messenger.getState().backup).toMatchObject({ relay: false, lastBackupAt: expect.any(Number) });

    const restored = await fresh(r.url, r.http);
    await restored.messenger.restoreFromBackup(made.bytes, made.recoveryKey!.toLowerCase());
    const s = await until(restored, (st) => st.phase === 'ready' && st.contacts.length === 1);
    expect(s.me?.id).toBe(ada.messenger.getState().me?.id);
    expect(s.me?.displayName).toBe('Ada');
    expect(s.contacts[0]).toMatchObject({ id: aSeesB, displayName: 'Bo', verified: true });
    expect(await texts(restored, aSeesB)).toEqual(await texts(ada, aSeesB));
    const statuses = async (d: Device) => (await d.store.pageMessages(aSeesB, { limit: 10 })).messages.map((m) => m.status);
    expect(await statuses(restored)).toEqual(await statuses(ada));

    // A new device: its own id, in the list the relay now holds (which Ada's first device learns).
    const listed = await restored.messenger.listDevices();
    const self = listed.find((d) => d.thisDevice)!;
    expect(self).toBeDefined();
    await ada.messenger.listDevices();
    const onFirst = await until(ada, (st) => (st.devices ?? []).some((d) => d.id === self.id));
    expect(onFirst.devices?.find((d) => d.id === self.id)?.thisDevice).toBe(false);
  });

  it('a restored browser has the groups with their history, in the order it happened', async () => {
    const r = await relay();
    const { ada, bo } = await adaWithHistory(r.url, r.http);
    const g = await ada.messenger.createGroup('Family', [bo.messenger.getState().me!.id]);
    await until(bo, (st) => !!st.groups?.some((x) => x.id === g), 20_000);
    await ada.messenger.openChat(g);
    await bo.messenger.openChat(g);
    await ada.messenger.send(g, 'dinner at 8');
    await until(bo, (st) => (st.chat?.messages ?? []).some((m) => m.text === 'dinner at 8'), 20_000);
    await bo.messenger.send(g, 'on my way');
    const lines = (st: { chat?: { messages: readonly { text: string; direction: string; system?: true; senderName?: string }[] } }) =>
      (st.chat?.messages ?? []).map((m) => (m.system ? `system: ${m.text}` : m.direction === 'out' ? `me: ${m.text}` : `${m.senderName}: ${m.text}`));
    await until(ada, (st) => lines(st).includes('Bo: on my way'), 20_000);
    const expected = lines(ada.messenger.getState());
    const made = await ada.messenger.createBackup();

    const restored = await fresh(r.url, r.http);
    await restored.messenger.restoreFromBackup(made.bytes, made.recoveryKey!);
    await until(restored, (st) => st.phase === 'ready' && !!st.groups?.some((x) => x.id === g), 20_000);
    await restored.messenger.openChat(g);
    const s = await until(restored, (st) => lines(st).length === expected.length, 20_000);
    expect(lines(s)).toEqual(expected);
    expect(s.groups!.find((x) => x.id === g)).toMatchObject({ name: 'Family', unread: 0, lastMessage: { text: 'on my way' } });
  });

  it('a backup older than the relay\'s device list re-bases on it: the devices linked since stay listed', async () => {
    const r = await relay();
    const { ada } = await adaWithHistory(r.url, r.http);
    const made = await ada.messenger.createBackup();
    // After the backup, Ada links a second device: the relay's list is now newer than the backup's.
    const link = await ada.messenger.createDeviceLink();
    const second = await fresh(r.url, r.http);
    await second.messenger.linkThisDevice(link);
    await until(second, (st) => st.phase === 'ready');
    const before = (await ada.messenger.listDevices()).map((d) => d.id);
    expect(before).toHaveLength(2);

    const restored = await fresh(r.url, r.http);
    await restored.messenger.restoreFromBackup(made.bytes, made.recoveryKey!);
    await until(restored, (st) => st.phase === 'ready');
    const after = await restored.messenger.listDevices();
    expect(after).toHaveLength(3);
    expect(after.filter((d) => !d.thisDevice).map((d) => d.id).sort()).toEqual([...before].sort());
  });

  it('after a restore, Bo writes and the restored device reads it; the restored device writes and Bo reads it', async () => {
    const r = await relay();
    const { ada, bo, aSeesB } = await adaWithHistory(r.url, r.http);
    const made = await ada.messenger.createBackup();
    await ada.stop();
    const restored = await fresh(r.url, r.http);
    await restored.messenger.restoreFromBackup(made.bytes, made.recoveryKey!);
    await until(restored, (st) => st.phase === 'ready' && st.connection.kind === 'online');
    const bSeesA = bo.messenger.getState().contacts[0]!.id;
    await bo.messenger.send(bSeesA, 'welcome back, Ada');
    await until(restored, (st) => st.contacts.find((c) => c.id === aSeesB)?.lastMessage?.text === 'welcome back, Ada', 15_000);
    await restored.messenger.send(aSeesB, 'thanks, Bo');
    const seen = await until(bo, (st) => st.contacts[0]?.lastMessage?.text === 'thanks, Bo', 15_000);
    expect(seen.contacts[0]?.keyChanged).toBe(false);
  });

  it('a contact who only accepted Ada\'s message request also reaches the restored device', async () => {
    const r = await relay();
    const ada = track(device(r.url, undefined, { blobHttp: fetchBlobHttp(r.http) }));
    const bo = track(device(r.url));
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    const aSeesB = await ada.messenger.addContact(ada.messenger.parseInvite(bo.messenger.getState().me!.inviteUrl)!);
    await ada.messenger.send(aSeesB, 'hello Bo');
    const request = await until(bo, (s) => s.contacts.length === 1);
    const bSeesA = request.contacts[0]!.id;
    await bo.messenger.acceptRequest(bSeesA);
    const made = await ada.messenger.createBackup();
    await ada.stop();
    const restored = await fresh(r.url, r.http);
    await restored.messenger.restoreFromBackup(made.bytes, made.recoveryKey!);
    await until(restored, (st) => st.phase === 'ready' && st.connection.kind === 'online');
    await bo.messenger.send(bSeesA, 'welcome back');
    await until(restored, (st) => st.contacts.find((c) => c.id === aSeesB)?.lastMessage?.text === 'welcome back', 15_000);
  });

  it('a passphrase backup restores with its passphrase', async () => {
    const r = await relay();
    const { ada, aSeesB } = await adaWithHistory(r.url, r.http);
    const made = await ada.messenger.createBackup({ passphrase: 'correct horse battery staple' });
    expect(made.recoveryKey).toBeUndefined();
    const restored = await fresh(r.url, r.http);
    expect(await kindOf(restored.messenger.restoreFromBackup(made.bytes, 'wrong horse'))).toBe('wrong_key');
    await nothingKept(restored);
    await restored.messenger.restoreFromBackup(made.bytes, 'correct horse battery staple');
    await until(restored, (st) => st.phase === 'ready' && st.contacts.length === 1);
    expect(await texts(restored, aSeesB)).toEqual(await texts(ada, aSeesB));
  });

  it('a wrong recovery key, a mistyped one, a tampered or cut file are typed errors that keep nothing', async () => {
    const r = await relay();
    const { ada } = await adaWithHistory(r.url, r.http);
    const made = await ada.messenger.createBackup();
    const other = await ada.messenger.createBackup();
    const restored = await fresh(r.url, r.http);

    expect(await kindOf(restored.messenger.restoreFromBackup(made.bytes, other.recoveryKey!))).toBe('wrong_key');
    await nothingKept(restored);
    const typo = made.recoveryKey!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    expect(await kindOf(restored.messenger.restoreFromBackup(made.bytes, typo))).toBe('bad_recovery_key');
    await nothingKept(restored);
    // Tamper with the last record: every earlier one authenticates and is written, then discarded.
    const tampered = made.bytes.slice();
    const lastFrameByte = tampered.length - 1 - tampered.slice().reverse().findIndex((b) => b !== 0);
    tampered[lastFrameByte]! ^= 1;
    expect(await kindOf(restored.messenger.restoreFromBackup(tampered, made.recoveryKey!))).toBe('tampered');
    await nothingKept(restored);
    expect(await kindOf(restored.messenger.restoreFromBackup(made.bytes.slice(0, made.bytes.length >> 1), made.recoveryKey!))).toMatch(/truncated|tampered/);
    await nothingKept(restored);

    // And after all that, the right key still restores.
    await restored.messenger.restoreFromBackup(made.bytes, made.recoveryKey!);
    await until(restored, (st) => st.phase === 'ready' && st.contacts.length === 1);
  });

  it('a backup kept on the relay restores with the recovery key alone; turning it off removes it', async () => {
    const r = await relay();
    const { ada, aSeesB } = await adaWithHistory(r.url, r.http);
    const empty = await fresh(r.url, r.http);
    const made = await ada.messenger.createBackup();
    expect(await kindOf(empty.messenger.restoreFromRelay(made.recoveryKey!))).toBe('not_found');
    await nothingKept(empty);

    expect(await ada.messenger.setRelayBackup(true)).toEqual({});
    expect(ada.messenger.getState().backup).toMatchObject({ relay: true, lastUploadedAt: expect.any(Number) });
    await empty.messenger.restoreFromRelay(made.recoveryKey!);
    await until(empty, (st) => st.phase === 'ready' && st.contacts.length === 1);
    expect(await texts(empty, aSeesB)).toEqual(await texts(ada, aSeesB));

    await ada.messenger.setRelayBackup(false);
    expect(ada.messenger.getState().backup?.relay).toBe(false);
    const late = await fresh(r.url, r.http);
    expect(await kindOf(late.messenger.restoreFromRelay(made.recoveryKey!))).toBe('not_found');
    await nothingKept(late);
  });

  it('turning the relay copy on before any backup makes a recovery key, shown once', async () => {
    const r = await relay();
    const { ada } = await adaWithHistory(r.url, r.http);
    const { recoveryKey } = await ada.messenger.setRelayBackup(true);
    expect(recoveryKey).toMatch(/^([0-9A-Z]{4}-){8}[0-9A-Z]{4}$/);
    const restored = await fresh(r.url, r.http);
    await restored.messenger.restoreFromRelay(recoveryKey!);
    await until(restored, (st) => st.phase === 'ready' && st.me?.displayName === 'Ada');
  });
});
