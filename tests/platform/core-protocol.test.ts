/**
 * The UI↔core protocol against a real core (in-memory store, real relay): bad input of
 * every kind is a typed error that changes nothing; resent command ids run once; a
 * client's unanswered commands survive a change of host.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { storeChatReader } from '../../src/platform/core-protocol/chat-reader.ts';
import { CoreClient } from '../../src/platform/core-protocol/core-client.ts';
import { CoreHost } from '../../src/platform/core-protocol/core-host.ts';
import { PROTOCOL_VERSION, type HostMessage } from '../../src/platform/core-protocol/protocol.ts';
import { toHex } from '../../src/core/bytes.ts';
import { adaOnTwoDevices } from '../messenger/ada-on-two-devices.ts';
import { device, introduce, onboard, testWorld, texts, until as untilState, type Device } from '../messenger/harness.ts';

const { relay, track } = testWorld();

async function hosted(): Promise<{ alice: Device; aSeesB: string; host: CoreHost; out: HostMessage[] }> {
  const r = await relay();
  const alice = track(device(r.url));
  const bob = track(device(r.url));
  await onboard(alice, 'Alice');
  await onboard(bob, 'Bob');
  const { aSeesB } = await introduce(alice, bob);
  const out: HostMessage[] = [];
  const host = new CoreHost({ core: alice.messenger, readChat: storeChatReader(alice.store), post: (m) => out.push(m) });
  return { alice, aSeesB, host, out };
}

const cmd = (client: string, id: number, name: string, args: unknown[]) => ({ v: PROTOCOL_VERSION, t: 'cmd', client, id, name, args });
const answers = (out: HostMessage[], client: string) => out.filter((m) => m.t !== 'changed' && m.client === client);

async function until(predicate: () => boolean): Promise<void> {
  const { vi } = await import('vitest');
  await vi.waitFor(() => expect(predicate()).toBe(true), { timeout: 5_000, interval: 5 });
}

describe('UI↔core protocol', () => {
  it('refuses an unknown command, a malformed message, another version and bad arguments with typed errors; nothing changes', async () => {
    const { alice, aSeesB, host, out } = await hosted();
    const before = await alice.store.listConversations();
    host.receive(cmd('t1', 1, 'dropDatabase', []));
    host.receive({ v: PROTOCOL_VERSION, t: 'cmd', client: 't1', id: 2, name: 'send' }); // no args
    host.receive(cmd('t1', 3, 'send', [aSeesB, 42, undefined])); // text not a string
    host.receive({ ...cmd('t1', 4, 'send', [aSeesB, 'hi', undefined]), v: PROTOCOL_VERSION + 1 }); // a newer tab
    host.receive({ ...cmd('t1', 5, 'send', [aSeesB, 'hi', undefined]), v: 0 }); // an older tab
    host.receive(cmd('t1', 6, 'addContact', [{ displayName: 'x' }]));
    // Nobody to answer: dropped, counted.
    host.receive(null);
    host.receive('send');
    host.receive({ v: PROTOCOL_VERSION, t: 'cmd', id: 7, name: 'send', args: [] });
    await until(() => answers(out, 't1').length === 6);
    expect(
      answers(out, 't1')
        .sort((a, b) => (a.t === 'changed' || b.t === 'changed' ? 0 : a.id - b.id))
        .map((m) => (m.t === 'err' ? m.error.kind : m.t)),
    ).toEqual(['unknown_command', 'malformed', 'malformed', 'version_mismatch', 'version_mismatch', 'malformed']);
    expect(host.refused).toBe(9);
    expect(await texts(alice, aSeesB)).toEqual([]);
    expect(await alice.store.listConversations()).toEqual(before);
  });

  it('file commands: a Blob crosses as itself, anything else is malformed; the core’s own refusals keep their kinds', async () => {
    const { aSeesB, host, out } = await hosted();
    const id = 'ab'.repeat(16);
    host.receive(cmd('t1', 1, 'sendFile', [aSeesB, { size: 3, stream: 'no' }, 'a.txt', undefined, id])); // not a Blob
    host.receive(cmd('t1', 2, 'sendFile', [aSeesB, new Blob(['abc']), 7, undefined, id])); // name not a string
    host.receive(cmd('t1', 3, 'sendFile', [aSeesB, new Blob(['abc']), 'a.txt', undefined, id])); // this core has no blob HTTP
    host.receive(cmd('t1', 4, 'downloadAttachment', [id]));
    host.receive(cmd('t1', 5, 'cancelTransfer', [42]));
    await until(() => answers(out, 't1').length === 5);
    expect(
      answers(out, 't1')
        .sort((a, b) => (a.t === 'changed' || b.t === 'changed' ? 0 : a.id - b.id))
        .map((m) => (m.t === 'err' ? m.error.kind : m.t)),
    ).toEqual(['malformed', 'malformed', 'attachments_unavailable', 'no_attachment', 'malformed']);
  });

  it('message actions: ids must be 32 lowercase hex, a refused action keeps its kind, a resent id acts once', async () => {
    const { alice, aSeesB, host, out } = await hosted();
    const M = 'a1'.repeat(16);
    await alice.messenger.send(aSeesB, 'hello', { id: M });
    const E = 'e1'.repeat(16);
    host.receive(cmd('t1', 1, 'editMessage', [M, 'hi', 'not-an-id'])); // action id malformed
    host.receive(cmd('t1', 2, 'editMessage', ['A1'.repeat(16), 'hi', E])); // upper-case message id
    host.receive(cmd('t1', 3, 'react', [M, 7, E])); // emoji not a string
    host.receive(cmd('t1', 4, 'deleteForMe', [42]));
    host.receive(cmd('t1', 5, 'react', [M, 'not an emoji', 'e2'.repeat(16)])); // the core refuses
    host.receive(cmd('t1', 6, 'editMessage', [M, 'hi', E]));
    host.receive(cmd('t2', 1, 'editMessage', [M, 'hi', E])); // another tab resends the same action id
    host.receive(cmd('t1', 7, 'send', [aSeesB, 'a reply', 'b1'.repeat(16), M]));
    await until(() => answers(out, 't1').length === 7 && answers(out, 't2').length === 1);
    expect(
      answers(out, 't1')
        .sort((a, b) => (a.t === 'changed' || b.t === 'changed' ? 0 : a.id - b.id))
        .map((m) => (m.t === 'err' ? m.error.kind : m.t)),
    ).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'action_refused', 'ok', 'ok']);
    expect(answers(out, 't2').map((m) => m.t)).toEqual(['ok']);
    expect((await alice.store.getMessage(M))?.versions).toHaveLength(2);
    expect((await alice.store.getMessage('b1'.repeat(16)))?.quote).toEqual({ id: M, text: 'hello' });
  });

  it('refuses commands from a tab that said goodbye', async () => {
    const { alice, aSeesB, host, out } = await hosted();
    host.receive({ v: PROTOCOL_VERSION, t: 'bye', client: 'gone' });
    host.receive(cmd('gone', 1, 'send', [aSeesB, 'from a closed tab', undefined]));
    host.receive(cmd('alive', 1, 'send', [aSeesB, 'from an open tab', undefined]));
    await until(() => answers(out, 'gone').length === 1 && answers(out, 'alive').length === 1);
    expect(answers(out, 'gone')[0]).toMatchObject({ t: 'err', error: { kind: 'client_gone' } });
    expect(answers(out, 'alive')[0]).toMatchObject({ t: 'ok' });
    expect(await texts(alice, aSeesB)).toEqual(['out:from an open tab']);
  });

  it('runs a resent command id once and answers it again', async () => {
    const { alice, aSeesB, host, out } = await hosted();
    const send = cmd('t', 9, 'send', [aSeesB, 'once', undefined]);
    host.receive(send);
    host.receive(send); // while the first still runs
    await until(() => answers(out, 't').length === 2);
    host.receive(send); // after it answered
    await until(() => answers(out, 't').length === 3);
    expect(answers(out, 't').map((m) => m.t)).toEqual(['ok', 'ok', 'ok']);
    expect(await texts(alice, aSeesB)).toEqual(['out:once']);
  });

  it('a read resent after its answer is read again (its answer is not kept), while a write is not run again', async () => {
    const { alice, aSeesB, host, out } = await hosted();
    const { vi } = await import('vitest');
    const diagnostics = vi.spyOn(alice.messenger, 'diagnostics');
    const read = cmd('r', 1, 'diagnostics', []);
    host.receive(read);
    host.receive(read); // while the first still runs: the same answer
    await until(() => answers(out, 'r').length === 2);
    expect(diagnostics).toHaveBeenCalledTimes(1);
    host.receive(read); // after it answered: read again, fresh
    await until(() => answers(out, 'r').length === 3);
    expect(diagnostics).toHaveBeenCalledTimes(2);
    const markRead = vi.spyOn(alice.messenger, 'markRead');
    const write = cmd('r', 2, 'markRead', [aSeesB]);
    host.receive(write);
    await until(() => answers(out, 'r').length === 4);
    host.receive(write);
    await until(() => answers(out, 'r').length === 5);
    expect(markRead).toHaveBeenCalledTimes(1);
  });

  it('reconnectNow reaches the host’s core and is answered', async () => {
    const { alice, host, out } = await hosted();
    const { vi } = await import('vitest');
    const spy = vi.spyOn(alice.messenger, 'reconnectNow');
    host.receive(cmd('t', 1, 'reconnectNow', []));
    await until(() => answers(out, 't').length === 1);
    expect(answers(out, 't')[0]).toMatchObject({ t: 'ok' });
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('contact commands (issue 20): checked arguments, typed errors, and a resend to a second host applied once', async () => {
    const { alice, aSeesB, host, out } = await hosted();
    const contactsBefore = await alice.store.listContacts();
    host.receive(cmd('t', 1, 'renameContact', [aSeesB, 42]));
    host.receive(cmd('t', 2, 'renameContact', [aSeesB]));
    host.receive(cmd('t', 3, 'setBlocked', [aSeesB, 'yes']));
    host.receive(cmd('t', 4, 'deleteConversation', [7]));
    host.receive(cmd('t', 5, 'acceptRequest', [null]));
    host.receive(cmd('t', 6, 'setBlocked', ['ff'.repeat(32), true]));
    host.receive(cmd('t', 7, 'renameContact', [aSeesB, 'x'.repeat(65)]));
    await until(() => answers(out, 't').length === 7);
    const kinds = answers(out, 't')
      .flatMap((m) => (m.t === 'changed' ? [] : [[m.id, m.t === 'err' ? m.error.kind : m.t] as const]))
      .sort((a, b) => a[0] - b[0])
      .map(([, k]) => k);
    expect(kinds).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'unknown_contact', 'invalid_contact_change']);
    expect(await alice.store.listContacts()).toEqual(contactsBefore);

    // The same commands through a client; each resent to a second host (its first answer lost) lands once.
    const client = new CoreClient({ clientId: 'tab-c', post: (m) => current.receive(m) });
    let current = new CoreHost({ core: alice.messenger, readChat: storeChatReader(alice.store), post: () => {} });
    const renaming = client.call('renameContact', aSeesB, 'Bobby');
    const blocking = client.call('setBlocked', aSeesB, true);
    await until(() => alice.messenger.getState().contacts[0]?.blocked === true);
    current = new CoreHost({ core: alice.messenger, readChat: storeChatReader(alice.store), post: (m) => client.receive(m) });
    client.resend();
    await Promise.all([renaming, blocking]);
    expect(alice.messenger.getState().contacts[0]).toMatchObject({ displayName: 'Bobby', profileName: 'Bob', blocked: true });
    await client.call('setBlocked', aSeesB, false);
    await client.call('acceptRequest', aSeesB);
    const deleting = client.call('deleteConversation', aSeesB);
    await deleting;
    await client.call('deleteConversation', aSeesB);
    expect(alice.metrics.snapshot().counters['contacts.conversation_deleted']).toBe(1);
    expect(alice.messenger.getState().contacts).toEqual([]);
  });

  it('passes a command’s own failure through with its kind', async () => {
    const { host, out } = await hosted();
    host.receive(cmd('t', 1, 'send', ['ff'.repeat(32), 'to nobody', undefined]));
    await until(() => answers(out, 't').length === 1);
    expect(answers(out, 't')[0]).toMatchObject({ t: 'err', error: { kind: 'unknown_contact' } });
  });

  it('a client’s command in flight when its host vanished is answered by the next host, applied once', async () => {
    const { alice, aSeesB } = await hosted();
    // Host 1 takes the command but its tab dies before the answer gets out.
    let deliver = true;
    let toClient: (m: unknown) => void = () => {};
    const host1 = new CoreHost({ core: alice.messenger, readChat: storeChatReader(alice.store), post: (m) => deliver && toClient(m) });
    const client = new CoreClient({ clientId: 'tab-b', post: (m) => current.receive(m) });
    let current: CoreHost = host1;
    toClient = (m) => client.receive(m);
    deliver = false;
    const id = 'c3'.repeat(16);
    const sending = client.call('send', aSeesB, 'in flight', id);
    await until(() => client.inFlight === 1);
    // Host 2 (the next tab) takes over; the client resends under the same command id.
    current = new CoreHost({ core: alice.messenger, readChat: storeChatReader(alice.store), post: (m) => client.receive(m) });
    client.resend();
    await sending;
    expect(client.inFlight).toBe(0);
    expect(await texts(alice, aSeesB)).toEqual(['out:in flight']);
    // The window the client asks for shows it once.
    const window = await client.call('chatWindow', aSeesB, 50);
    expect(window.messages.map((m) => m.text)).toEqual(['in flight']);
  });

  it("another tab's chat window names a multi-device contact's devices as the core's own does (a message's Details); one device: none", async () => {
    const { bo, bSeesA, one, two, r } = await adaOnTwoDevices({ relay, track });
    await bo.messenger.send(bSeesA, 'to both of you');
    await bo.messenger.openChat(bSeesA);
    const own = await untilState(bo, (s) => (s.chat?.devices?.length ?? 0) === 2);
    const client = new CoreClient({ clientId: 'tab-2', post: (m) => host.receive(m) });
    const host = new CoreHost({ core: bo.messenger, readChat: storeChatReader(bo.store, Date.now, (id) => bo.messenger.chatDevices(id)), post: (m) => client.receive(m) });
    const window = await client.call('chatWindow', bSeesA, 50);
    expect(window.devices).toEqual(own.chat!.devices);
    expect(window.devices!.map((d) => d.id).sort()).toEqual([toHex(one.id), toHex(two.id)].sort());
    expect(window.messages.map((m) => m.text)).toContain('to both of you');
    // A contact of one device: no device list, in either window.
    const carol = track(device(r.url));
    await onboard(carol, 'Carol');
    const { aSeesB: bSeesC } = await introduce(bo, carol);
    expect((await client.call('chatWindow', bSeesC, 50)).devices).toBeUndefined();
    // Without the core's device source (the reader as before this fix) the window could not name them.
    expect((await storeChatReader(bo.store)(bSeesA, 50)).devices).toBeUndefined();
  });

  it('never throws and changes nothing on arbitrary input', async () => {
    const { alice, aSeesB, host } = await hosted();
    fc.assert(
      fc.property(fc.anything(), (junk) => {
        host.receive(junk);
        host.receive({ v: PROTOCOL_VERSION, t: 'cmd', client: 'f', id: 1, name: 'nope', args: [junk] });
      }),
      { numRuns: 300 },
    );
    expect(await texts(alice, aSeesB)).toEqual([]);
  });
});
