/**
 * Contacts people manage (issue 20), between complete cores over the real relay on
 * loopback: message requests (no read receipts, no replies until accepted), a local name,
 * blocking (messages dropped after the relay's ack, nothing sent back), and deleting a
 * conversation (everything goes; the next message starts over as a request).
 */
import { describe, expect, it } from 'vitest';
import type { TestRelay } from '../relay/helpers/relay-harness.ts';
import { device, introduce, onboard, testWorld, texts, until, type Device } from './harness.ts';

const { relay, track } = testWorld();

/** Envelopes waiting in the relay's mailboxes (0 once every deposited one was acknowledged). */
async function queuedAtRelay(r: TestRelay): Promise<number> {
  return (await r.relay.metrics.queueDepth.get()).values[0]?.value ?? 0;
}

function counter(d: Device, key: string): number {
  return d.metrics.snapshot().counters[key] ?? 0;
}

/** Ada and Bo, both online; Bo added Ada from her invite (Ada did not add Bo). */
async function boAddsAda(r: TestRelay) {
  const ada = track(device(r.url));
  const bo = track(device(r.url));
  await onboard(ada, 'Ada');
  await onboard(bo, 'Bo');
  const boSeesAda = await bo.messenger.addContact(bo.messenger.parseInvite(ada.messenger.getState().me!.inviteUrl)!);
  return { ada, bo, boSeesAda };
}

/** Ada and Bo introduced both ways and one message each way delivered. */
async function friends(r: TestRelay) {
  const ada = track(device(r.url));
  const bo = track(device(r.url));
  await onboard(ada, 'Ada');
  await onboard(bo, 'Bo');
  const { aSeesB, bSeesA } = await introduce(ada, bo);
  await bo.messenger.openChat(bSeesA);
  await ada.messenger.send(aSeesB, 'hi Bo');
  await until(bo, (s) => s.chat?.messages.length === 1);
  await bo.messenger.send(bSeesA, 'hi Ada');
  await until(ada, (s) => s.contacts.find((c) => c.id === aSeesB)?.lastMessage?.text === 'hi Ada');
  await until(bo, (s) => s.chat?.messages.find((m) => m.text === 'hi Ada')?.status === 'delivered');
  return { ada, bo, aSeesB, bSeesA };
}

describe('message requests', () => {
  it('someone who adds you from your invite is a request: no read receipt and no reply until accepted; then both work', async () => {
    const r = await relay();
    const { ada, bo, boSeesAda } = await boAddsAda(r);
    await bo.messenger.openChat(boSeesAda);
    await bo.messenger.send(boSeesAda, 'hello Ada, it is Bo');
    const s = await until(ada, (st) => st.contacts.some((c) => c.displayName === 'Bo'));
    const request = s.contacts.find((c) => c.displayName === 'Bo')!;
    expect(request).toMatchObject({ request: true, unread: 1, keyChanged: false });
    // Delivered (the message reached the device) but never read while it is a request.
    await until(bo, (st) => st.chat?.messages[0]?.status === 'delivered');
    await ada.messenger.openChat(request.id);
    await ada.messenger.markRead(request.id);
    expect(ada.messenger.getState().contacts.find((c) => c.id === request.id)!.unread).toBe(1);
    expect(await ada.store.queueDepth()).toBe(0);
    await expect(ada.messenger.send(request.id, 'who is this?')).rejects.toMatchObject({ kind: 'message_request_pending' });
    expect(await texts(ada, request.id)).toEqual(['in:hello Ada, it is Bo']);

    await ada.messenger.acceptRequest(request.id);
    expect(ada.messenger.getState().contacts.find((c) => c.id === request.id)!.request).toBeUndefined();
    expect(counter(ada, 'contacts.request_accepted')).toBe(1);
    await ada.messenger.markRead(request.id);
    await until(bo, (st) => st.chat?.messages[0]?.status === 'read');
    await ada.messenger.send(request.id, 'hi Bo');
    await until(bo, (st) => st.chat?.messages.some((m) => m.text === 'hi Bo') ?? false);
    // Accepting again changes nothing.
    await ada.messenger.acceptRequest(request.id);
    expect(counter(ada, 'contacts.request_accepted')).toBe(1);
  });

  it('blocking a request takes it out of the requests and drops what it sends next', async () => {
    const r = await relay();
    const { ada, bo, boSeesAda } = await boAddsAda(r);
    await bo.messenger.send(boSeesAda, 'first');
    const s = await until(ada, (st) => st.contacts.some((c) => c.displayName === 'Bo'));
    const id = s.contacts.find((c) => c.displayName === 'Bo')!.id;
    await ada.messenger.setBlocked(id, true);
    const blocked = ada.messenger.getState().contacts.find((c) => c.id === id)!;
    expect(blocked).toMatchObject({ blocked: true });
    expect(blocked.request).toBeUndefined();
    await bo.messenger.send(boSeesAda, 'second');
    await until(ada, () => counter(ada, 'receive.blocked_dropped') === 1);
    await expect.poll(() => queuedAtRelay(r)).toBe(0);
    expect(await texts(ada, id)).toEqual(['in:first']);
  });

  it('unknown contacts and bad arguments are typed errors that change nothing', async () => {
    const r = await relay();
    const { ada } = await boAddsAda(r);
    const before = ada.messenger.getState().contacts;
    const nobody = 'ab'.repeat(32);
    await expect(ada.messenger.acceptRequest(nobody)).rejects.toMatchObject({ kind: 'unknown_contact' });
    await expect(ada.messenger.setBlocked(nobody, true)).rejects.toMatchObject({ kind: 'unknown_contact' });
    await expect(ada.messenger.renameContact(nobody, 'X')).rejects.toMatchObject({ kind: 'unknown_contact' });
    await expect(ada.messenger.deleteConversation(nobody)).rejects.toMatchObject({ kind: 'unknown_contact' });
    await expect(ada.messenger.deleteConversation(42 as never)).rejects.toMatchObject({ kind: 'unknown_contact' });
    expect(ada.messenger.getState().contacts).toEqual(before);
  });
});

describe('rename', () => {
  it('a local name overrides the contact’s own; clearing it restores theirs; a bad name changes nothing', async () => {
    const r = await relay();
    const { ada, aSeesB } = await friends(r);
    const bo = () => ada.messenger.getState().contacts.find((c) => c.id === aSeesB)!;
    await ada.messenger.renameContact(aSeesB, '  Bo from work  ');
    expect(bo()).toMatchObject({ displayName: 'Bo from work', profileName: 'Bo' });
    expect((await ada.store.getContact(aSeesB))!.localName).toBe('Bo from work');
    await expect(ada.messenger.renameContact(aSeesB, 'x'.repeat(65))).rejects.toMatchObject({ kind: 'invalid_contact_change' });
    await expect(ada.messenger.renameContact(aSeesB, 7 as never)).rejects.toMatchObject({ kind: 'invalid_contact_change' });
    expect(bo()).toMatchObject({ displayName: 'Bo from work' });
    await ada.messenger.renameContact(aSeesB, '   ');
    expect(bo().displayName).toBe('Bo');
    expect(bo().profileName).toBeUndefined();
    expect((await ada.store.getContact(aSeesB))!.localName).toBeUndefined();
  });

  it('two contacts with the same shown name are told apart by a key fingerprint', async () => {
    const r = await relay();
    const { ada, aSeesB } = await friends(r);
    const carol = track(device(r.url));
    await onboard(carol, 'Carol');
    const aSeesC = await ada.messenger.addContact(ada.messenger.parseInvite(carol.messenger.getState().me!.inviteUrl)!);
    await ada.messenger.renameContact(aSeesC, 'bo');
    const list = ada.messenger.getState().contacts;
    expect(list.find((c) => c.id === aSeesB)!.nameDetail).toBe(`key ${aSeesB.slice(0, 8)}`);
    expect(list.find((c) => c.id === aSeesC)!.nameDetail).toBe(`key ${aSeesC.slice(0, 8)}`);
    await ada.messenger.renameContact(aSeesC, 'Carol');
    expect(ada.messenger.getState().contacts.every((c) => c.nameDetail === undefined)).toBe(true);
  });
});

describe('block', () => {
  it('a blocked contact’s message is acknowledged and dropped, no receipt goes back, and sending to it is refused until unblocked', async () => {
    const r = await relay();
    const { ada, bo, aSeesB, bSeesA } = await friends(r);
    await ada.messenger.setBlocked(aSeesB, true);
    expect(ada.messenger.getState().contacts.find((c) => c.id === aSeesB)).toMatchObject({ blocked: true });
    await expect(ada.messenger.send(aSeesB, 'hello?')).rejects.toMatchObject({ kind: 'contact_blocked' });

    await bo.messenger.send(bSeesA, 'are you there?');
    await until(ada, () => counter(ada, 'receive.blocked_dropped') === 1);
    // The relay deleted it (acknowledged), Ada kept nothing and queued nothing for Bo.
    await expect.poll(() => queuedAtRelay(r)).toBe(0);
    expect(await texts(ada, aSeesB)).toEqual(['out:hi Bo', 'in:hi Ada']);
    expect(await ada.store.queueDepth()).toBe(0);
    // Bo's message stays "sent": no delivery receipt ever came back.
    await until(bo, (s) => s.chat?.messages.find((m) => m.text === 'are you there?')?.status === 'sent');
    expect(bo.messenger.getState().chat!.messages.find((m) => m.text === 'are you there?')!.status).toBe('sent');

    await ada.messenger.setBlocked(aSeesB, false);
    expect(ada.messenger.getState().contacts.find((c) => c.id === aSeesB)!.blocked).toBeUndefined();
    await bo.messenger.send(bSeesA, 'now?');
    await until(ada, (s) => s.contacts.find((c) => c.id === aSeesB)?.lastMessage?.text === 'now?');
    await ada.messenger.send(aSeesB, 'yes');
    await until(bo, (s) => s.chat?.messages.some((m) => m.text === 'yes') ?? false);
    // Receipts to Bo leave in order: once 'now?' is delivered, one for the dropped message would have come first.
    await until(bo, (s) => s.chat?.messages.find((m) => m.text === 'now?')?.status === 'delivered');
    expect(bo.messenger.getState().chat!.messages.find((m) => m.text === 'are you there?')!.status).toBe('sent');
    expect(await texts(ada, aSeesB)).toEqual(['out:hi Bo', 'in:hi Ada', 'in:now?', 'out:yes']);
  });
});

describe('delete conversation', () => {
  it('removes the messages, outbox and list entry together; the next message from the contact starts fresh as a request', async () => {
    const r = await relay();
    const { ada, bo, aSeesB, bSeesA } = await friends(r);
    await ada.messenger.renameContact(aSeesB, 'Bobo');
    await ada.messenger.deleteConversation(aSeesB);
    expect(ada.messenger.getState().contacts.find((c) => c.id === aSeesB)).toBeUndefined();
    expect(await texts(ada, aSeesB)).toEqual([]);
    expect(await ada.store.getConversation(aSeesB)).toBeUndefined();
    expect(counter(ada, 'contacts.conversation_deleted')).toBe(1);
    // A resend of the command (e.g. reaching a new host) changes nothing.
    await ada.messenger.deleteConversation(aSeesB);
    expect(counter(ada, 'contacts.conversation_deleted')).toBe(1);
    await expect(ada.messenger.send(aSeesB, 'still there?')).rejects.toMatchObject({ kind: 'message_request_pending' });

    await bo.messenger.send(bSeesA, 'hello again');
    const s = await until(ada, (st) => st.contacts.some((c) => c.id === aSeesB));
    expect(s.contacts.find((c) => c.id === aSeesB)).toMatchObject({ displayName: 'Bo', request: true, unread: 1 });
    expect(await texts(ada, aSeesB)).toEqual(['in:hello again']);
  });
});
