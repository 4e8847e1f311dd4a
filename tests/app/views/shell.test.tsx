// @vitest-environment happy-dom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionState } from '../../../src/core/messenger/messenger-api.ts';
import { FakeMessenger, SAFETY_DIGITS, contact, fakeInviteUrl, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

afterEach(() => {
  window.history.replaceState(null, '', '/');
  vi.useRealTimers();
});

describe('phases', () => {
  it('onboarding: "Display name" and "Create identity" create the identity, then the conversations show', async () => {
    const fake = new FakeMessenger(readyState({ phase: 'onboarding', me: undefined }));
    renderShell(fake);
    fireEvent.change(screen.getByLabelText('Display name'), { target: { value: '  Alice ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create identity' }));
    expect(fake.callsOf('createIdentity')).toEqual([['Alice']]);
    expect(await screen.findByLabelText('Your invite link')).toBeTruthy();
  });

  it('onboarding: a failure is shown and the user may try again', async () => {
    const fake = new FakeMessenger(readyState({ phase: 'onboarding', me: undefined }));
    fake.failing.add('createIdentity');
    renderShell(fake);
    fireEvent.change(screen.getByLabelText('Display name'), { target: { value: 'Alice' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create identity' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/could not be created/);
    expect((screen.getByRole('button', { name: 'Create identity' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('loading says so and offers no onboarding yet', () => {
    renderShell(new FakeMessenger(readyState({ phase: 'loading', me: undefined })));
    expect(screen.getByText('Opening Petrel…')).toBeTruthy();
    expect(screen.queryByLabelText('Display name')).toBeNull();
  });

  it('failed explains the storage problem in plain words', () => {
    renderShell(new FakeMessenger(readyState({ phase: 'failed', storage: { state: 'quota_exceeded' } })));
    expect(screen.getByRole('heading', { name: 'Petrel cannot use its storage' })).toBeTruthy();
    expect(screen.getByText(/run out of storage space/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Reload' })).toBeTruthy();
  });

  it('follower says another tab runs Petrel, still shows the conversations, and does not send', () => {
    const bob = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });
    renderShell(new FakeMessenger(readyState({ phase: 'follower', contacts: [bob], chat: { contactId: bob.id, messages: [], hasOlder: false } })));
    expect(screen.getByText('Petrel is open in another tab.')).toBeTruthy();
    expect(screen.getByRole('button', { name: /^Bob/ })).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('storage trouble', () => {
  it('failed says what happened and what to do, per storage state', () => {
    const cases = [
      ['blocked', /Close the other Petrel tabs/],
      ['quota_exceeded', /Free up space/],
      ['version_changed', /updated in another tab/],
      ['ok', /could not open its storage/],
    ] as const;
    for (const [state, todo] of cases) {
      const { unmount } = renderShell(new FakeMessenger(readyState({ phase: 'failed', me: undefined, storage: { state } })));
      expect(screen.getByRole('heading', { name: 'Petrel cannot use its storage' })).toBeTruthy();
      expect(document.body.textContent).toMatch(todo);
      expect(screen.getByText('What to do:')).toBeTruthy();
      expect(screen.getByRole('button', { name: 'Reload' })).toBeTruthy();
      // The failed screen is the explanation: no banner repeating it, no onboarding.
      expect(screen.queryByRole('alert')).toBeNull();
      expect(screen.queryByLabelText('Display name')).toBeNull();
      unmount();
    }
  });

  it('a full disk while running: an alert says new messages cannot be saved, the conversations stay usable', () => {
    const bob = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });
    const fake = new FakeMessenger(readyState({ contacts: [bob] }));
    renderShell(fake);
    expect(screen.queryByRole('alert')).toBeNull();
    act(() => fake.set({ storage: { state: 'quota_exceeded' } }));
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(/Storage is full — new messages can’t be saved/);
    expect(alert.textContent).toMatch(/Free up space/);
    expect(within(alert).queryByRole('button', { name: 'Reload' })).toBeNull();
    expect(screen.getByRole('button', { name: /^Bob/ })).toBeTruthy();
    // Space freed: the next write succeeds and the core reports ok again.
    act(() => fake.set({ storage: { state: 'ok' } }));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  for (const [state, text] of [
    ['version_changed', /updated in another tab/],
    ['closed', /closed by the browser/],
  ] as const) {
    it(`${state} while running: an alert with Reload, and sending is blocked`, () => {
      const bob = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });
      const reload = vi.spyOn(window.location, 'reload').mockImplementation(() => undefined);
      const fake = new FakeMessenger(readyState({ contacts: [bob], chat: { contactId: bob.id, messages: [], hasOlder: false } }));
      renderShell(fake);
      fireEvent.click(screen.getByRole('button', { name: /^Bob/ }));
      act(() => fake.set({ storage: { state } }));
      const alert = screen.getByRole('alert');
      expect(alert.textContent).toMatch(text);
      fireEvent.click(within(alert).getByRole('button', { name: 'Reload' }));
      expect(reload).toHaveBeenCalledOnce();
      reload.mockRestore();
      expect((screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement).disabled).toBe(true);
      expect(screen.getByText(/reload the page to send again/)).toBeTruthy();
    });
  }

  it('a blocked open while loading: says to close the other tabs', () => {
    renderShell(new FakeMessenger(readyState({ phase: 'loading', me: undefined, storage: { state: 'blocked' } })));
    expect(screen.getByText('Opening Petrel…')).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toMatch(/Close the other Petrel tabs/);
  });

  it('a follower whose leader has no identity yet shows the notice, not onboarding', () => {
    renderShell(new FakeMessenger(readyState({ phase: 'follower', me: undefined })));
    expect(screen.getByText('Petrel is open in another tab.')).toBeTruthy();
    expect(screen.queryByLabelText('Display name')).toBeNull();
  });
});

describe('your invite', () => {
  it('shows the invite URL in a read-only field labelled "Your invite link", and as a QR code', async () => {
    const fake = new FakeMessenger();
    renderShell(fake);
    const field = screen.getByLabelText('Your invite link') as HTMLInputElement;
    expect(field.readOnly).toBe(true);
    expect(field.value).toBe(fake.getState().me!.inviteUrl);
    // The QR encoder is loaded after the first screen.
    const qr = await screen.findByRole('img', { name: 'QR code of the invite link' });
    expect(qr.querySelectorAll('rect').length).toBeGreaterThan(20);
  });

  it('copies the link to the clipboard', async () => {
    const writeText = vi.fn(async (_text: string) => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const fake = new FakeMessenger();
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Copy invite link' }));
    expect(writeText).toHaveBeenCalledWith(fake.getState().me!.inviteUrl);
    expect(await screen.findByText('Invite link copied.')).toBeTruthy();
  });
});

describe('opening an invite', () => {
  it('from the address bar: shows the name and safety number, clears the URL, "Add contact" adds and opens the chat', async () => {
    window.history.replaceState(null, '', fakeInviteUrl('Bob').replace('https://petrel.test', ''));
    const fake = new FakeMessenger();
    const parse = fake.parseInvite.bind(fake);
    fake.parseInvite = (url) => parse(url.replace(window.location.origin, 'https://petrel.test'));
    renderShell(fake);
    expect(screen.getByRole('heading', { name: 'Add Bob?' })).toBeTruthy();
    expect(window.location.hash).toBe('');
    const preview = await screen.findByLabelText('Safety number preview');
    expect(preview.textContent!.replace(/\s/g, '')).toBe(SAFETY_DIGITS);

    fireEvent.click(screen.getByRole('button', { name: 'Add contact' }));
    await waitFor(() => expect(fake.callsOf('openChat')).toEqual([['bb'.repeat(32)]]));
    expect(fake.callsOf('addContact')).toHaveLength(1);
    expect(await screen.findByRole('heading', { name: 'Bob' })).toBeTruthy();
    expect(screen.getByLabelText('Message')).toBeTruthy();
  });

  it('a damaged or garbage invite link in the address bar says so plainly instead of doing nothing', async () => {
    window.history.replaceState(null, '', '/#invite=not-an-invite!!');
    const fake = new FakeMessenger();
    renderShell(fake);
    const alert = screen.getByRole('alert', { name: 'Invite link' });
    expect(within(alert).getByRole('heading', { name: 'This invite link does not work' })).toBeTruthy();
    expect(alert.textContent).toMatch(/damaged or incomplete/);
    expect(window.location.hash).toBe('');
    fireEvent.click(within(alert).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert', { name: 'Invite link' })).toBeNull();
    expect(fake.callsOf('addContact')).toHaveLength(0);
  });

  it('an invite under the name of a contact with another key says it is not that contact, and adds a separate one', async () => {
    window.history.replaceState(null, '', fakeInviteUrl('Bob', 0xcc).replace('https://petrel.test', ''));
    const fake = new FakeMessenger(readyState({ contacts: [contact({ id: 'bb'.repeat(32), displayName: 'Bob' })] }));
    const parse = fake.parseInvite.bind(fake);
    fake.parseInvite = (url) => parse(url.replace(window.location.origin, 'https://petrel.test'));
    renderShell(fake);
    expect(screen.getByRole('heading', { name: 'Add Bob?' })).toBeTruthy();
    expect(screen.getByRole('note').textContent).toMatch(/This is not the Bob in your contacts\..*your conversation with Bob stays as it is/s);
    fireEvent.click(screen.getByRole('button', { name: 'Add as a separate contact' }));
    await waitFor(() => expect(fake.callsOf('addContact')).toHaveLength(1));
  });

  it('an invite opened into an already running tab (fragment change) is reviewed too', async () => {
    const fake = new FakeMessenger();
    const parse = fake.parseInvite.bind(fake);
    fake.parseInvite = (url) => parse(url.replace(window.location.origin, 'https://petrel.test'));
    renderShell(fake);
    expect(screen.queryByRole('button', { name: 'Add contact' })).toBeNull();
    act(() => {
      window.history.replaceState(null, '', fakeInviteUrl('Dora', 0xdd).replace('https://petrel.test', ''));
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
    expect(screen.getByRole('heading', { name: 'Add Dora?' })).toBeTruthy();
    expect(window.location.hash).toBe('');
  });

  it('before onboarding, the invite waits: onboarding says who invited, then the review shows', async () => {
    window.history.replaceState(null, '', fakeInviteUrl('Bob').replace('https://petrel.test', ''));
    const fake = new FakeMessenger(readyState({ phase: 'onboarding', me: undefined }));
    const parse = fake.parseInvite.bind(fake);
    fake.parseInvite = (url) => parse(url.replace(window.location.origin, 'https://petrel.test'));
    renderShell(fake);
    expect(screen.getByText(/invited you/).textContent).toContain('Bob');
    fireEvent.change(screen.getByLabelText('Display name'), { target: { value: 'Alice' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create identity' }));
    expect(await screen.findByRole('button', { name: 'Add contact' })).toBeTruthy();
  });

  it('a pasted invite link is reviewed the same way; a wrong one is refused', async () => {
    const fake = new FakeMessenger();
    renderShell(fake);
    const field = screen.getByLabelText('Paste an invite link');
    fireEvent.change(field, { target: { value: 'https://example.com/not-an-invite' } });
    fireEvent.click(screen.getByRole('button', { name: 'Open invite link' }));
    expect(screen.getByRole('alert').textContent).toBe('That is not a Petrel invite link.');
    fireEvent.change(field, { target: { value: fakeInviteUrl('Carol', 0xcc) } });
    fireEvent.click(screen.getByRole('button', { name: 'Open invite link' }));
    expect(screen.getByRole('heading', { name: 'Add Carol?' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Not now' }));
    expect(screen.queryByRole('heading', { name: 'Add Carol?' })).toBeNull();
    expect(fake.callsOf('addContact')).toEqual([]);
  });

  it('shows the relay the invite names, and warns when it is not the relay this app uses', () => {
    const me = { displayName: 'Alice', id: 'aa'.repeat(32), inviteUrl: fakeInviteUrl('Alice', 0xaa, 'wss://petrel.example/ws') };
    const fake = new FakeMessenger(readyState({ me }));
    renderShell(fake);
    const open = (url: string) => {
      fireEvent.change(screen.getByLabelText('Paste an invite link'), { target: { value: url } });
      fireEvent.click(screen.getByRole('button', { name: 'Open invite link' }));
    };
    // Same relay (the path may differ: the relay answers on / and /ws): shown, no warning.
    open(fakeInviteUrl('Bob', 0xbb, 'wss://petrel.example/'));
    expect(screen.getByText('Relay:').textContent).toBe('Relay: wss://petrel.example/');
    expect(screen.queryByText(/different relay/)).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Not now' }));

    open(fakeInviteUrl('Mallory', 0xcc, 'wss://elsewhere.example:8443/ws'));
    expect(screen.getByText('Relay:').textContent).toBe('Relay: wss://elsewhere.example:8443/ws');
    const warning = screen.getByRole('note');
    expect(warning.textContent).toMatch(/This invite is for a different relay \(elsewhere\.example:8443\) than the one this app uses \(petrel\.example\)/);
    expect(warning.textContent).toMatch(/Mallory will not get your messages/);
    // A warning, not a refusal: the user may still add them.
    expect(screen.getByRole('button', { name: 'Add contact' })).toBeTruthy();
  });

  it('your own invite is recognised and cannot be added', () => {
    const fake = new FakeMessenger();
    renderShell(fake);
    fireEvent.change(screen.getByLabelText('Paste an invite link'), { target: { value: fakeInviteUrl('Alice', 0xaa) } });
    fireEvent.click(screen.getByRole('button', { name: 'Open invite link' }));
    expect(screen.getByRole('heading', { name: 'This is your own invite link' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Add contact' })).toBeNull();
  });
});

describe('connection status', () => {
  const cases: Array<[ConnectionState, number, string]> = [
    [{ kind: 'online', direct: 0 }, 0, 'Online via relay'],
    [{ kind: 'online', direct: 2 }, 0, 'Online · direct to 2'],
    [{ kind: 'offline' }, 3, 'Offline — messages will be sent when you reconnect · 3 queued'],
    [{ kind: 'connecting' }, 0, 'Connecting…'],
  ];
  it.each(cases)('%o with %i queued reads "%s"', (connection, queueDepth, text) => {
    renderShell(new FakeMessenger(readyState({ connection, queueDepth })));
    expect(screen.getByRole('status', { name: 'Connection' }).textContent).toBe(text);
  });

  it('counts down to the next reconnect attempt', () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    renderShell(new FakeMessenger(readyState({ connection: { kind: 'reconnecting', at: 1_800_000_005_000 } })));
    const status = screen.getByRole('status', { name: 'Connection' });
    expect(status.textContent).toBe('Reconnecting in 5 s');
    act(() => {
      vi.advanceTimersByTime(2000);
    });
    expect(status.textContent).toBe('Reconnecting in 3 s');
    act(() => {
      vi.advanceTimersByTime(3000);
    });
    expect(status.textContent).toBe('Reconnecting…');
  });

  it('offers Retry now while reconnecting, which asks the messenger to reconnect at once', async () => {
    const fake = new FakeMessenger(readyState({ connection: { kind: 'reconnecting', at: Date.now() + 30_000 } }));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Retry now' }));
    expect(fake.callsOf('reconnectNow')).toEqual([[]]);
    act(() => fake.set({ connection: { kind: 'connecting' } }));
    expect(screen.queryByRole('button', { name: 'Retry now' })).toBeNull();
    act(() => fake.set({ connection: { kind: 'online', direct: 0 } }));
    expect(screen.queryByRole('button', { name: 'Retry now' })).toBeNull();
    act(() => fake.set({ connection: { kind: 'offline' } }));
    expect(screen.queryByRole('button', { name: 'Retry now' })).toBeNull();
  });

  it('announces changes of state, not the countdown ticks', () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    const fake = new FakeMessenger(readyState({ connection: { kind: 'online', direct: 0 } }));
    renderShell(fake);
    const status = screen.getByRole('status', { name: 'Connection' });
    // The visible line counts down, so it must not be live itself.
    expect(status.getAttribute('aria-live')).toBe('off');
    const live = screen.getByTestId('connection-announcement');
    expect(live.getAttribute('aria-live')).toBe('polite');
    expect(live.textContent).toBe('Connected.');
    const seen: string[] = [live.textContent ?? ''];
    const step = (change: () => void) => {
      act(change);
      if (seen.at(-1) !== live.textContent) seen.push(live.textContent ?? '');
    };
    step(() => fake.set({ connection: { kind: 'reconnecting', at: 1_800_000_010_000 } }));
    for (let i = 0; i < 8; i++) step(() => vi.advanceTimersByTime(1000));
    expect(status.textContent).toBe('Reconnecting in 2 s');
    step(() => fake.set({ queueDepth: 2 }));
    // Failed attempts: connecting, waiting again, connecting… one announcement for all of them.
    for (let i = 0; i < 3; i++) {
      step(() => fake.set({ connection: { kind: 'connecting' } }));
      step(() => fake.set({ connection: { kind: 'reconnecting', at: 1_800_000_020_000 + i * 1000 } }));
    }
    step(() => fake.set({ connection: { kind: 'connecting' } }));
    step(() => fake.set({ connection: { kind: 'online', direct: 0 } }));
    expect(seen).toEqual(['Connected.', 'Connection lost. Reconnecting.', 'Connected.']);
  });

  it('a brand-new user sees "Not connected yet" (nothing connects before there is an account), not Offline nor Connecting…', () => {
    const fake = new FakeMessenger(readyState({ phase: 'onboarding', me: undefined, connection: { kind: 'connecting' } }));
    renderShell(fake);
    expect(screen.getByRole('status', { name: 'Connection' }).textContent).toBe('Not connected yet');
    // Once the account exists and the core connects, it says so.
    act(() => fake.set({ phase: 'ready', me: readyState().me }));
    expect(screen.getByRole('status', { name: 'Connection' }).textContent).toBe('Connecting…');
  });

  it('is there in every phase and follows state changes', () => {
    const fake = new FakeMessenger(readyState({ phase: 'onboarding', me: undefined, connection: { kind: 'connecting' } }));
    renderShell(fake);
    act(() => fake.set({ connection: { kind: 'online', direct: 0 } }));
    expect(screen.getByRole('status', { name: 'Connection' }).textContent).toBe('Online via relay');
  });
});

describe('diagnostics', () => {
  it('shows queue depth, breakers, sends, retries, failovers, failures by reason, latency, storage and logs; refreshes every second', () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    const fake = new FakeMessenger(readyState({ queueDepth: 4, storage: { state: 'ok', persisted: true, usage: 1536, quota: 10 * 1024 * 1024 } }));
    fake.diagnosticsValue = {
      breakers: { relay: 'closed', direct: 'open' },
      metrics: {
        counters: {
          'send.success{transport="relay"}': 17,
          'send.failure{transport="relay"}': 2,
          'send.success{transport="direct"}': 5,
          'retry.count': 9,
          'transport.failover': 3,
          'packet.validation.failure{reason="too_large"}': 6,
          'crypto.failure{reason="bad_mac"}': 1,
        },
        gauges: { 'queue.depth': 4 },
        histograms: { 'delivery.latency': { count: 20, sum: 4000, p50: 120, p95: 480, p99: 910, max: 1000 } },
      },
      logs: [{ time: 1_800_000_000_000, level: 'warn', scope: 'core.router', msg: 'breaker opened', fields: { transport: 'direct', failures: 5 } }],
    };
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Diagnostics' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Diagnostics' }));
    const text = screen.getByRole('dialog').textContent!;
    expect(dialog.getByText('Queue depth').nextElementSibling!.textContent).toBe('4');
    expect(dialog.getByText('Retries').nextElementSibling!.textContent).toBe('9');
    expect(dialog.getByText('Failovers').nextElementSibling!.textContent).toBe('3');
    const relayRow = dialog.getAllByRole('row').find((r) => r.textContent?.startsWith('relay') && r.textContent.includes('17'))!;
    expect(within(relayRow).getAllByRole('cell').map((c) => c.textContent)).toEqual(['17', '2']);
    expect(text).toContain('open');
    expect(text).toContain('too_large');
    expect(text).toContain('bad_mac');
    for (const v of ['120 ms', '480 ms', '910 ms']) expect(text).toContain(v);
    expect(text).toContain('persistent');
    expect(text).toContain('1.5 KB used of 10.0 MB');
    expect(dialog.getByRole('list', { name: 'Recent log lines' }).textContent).toContain('breaker opened transport=direct failures=5');

    const reads = fake.callsOf('diagnostics').length;
    fake.diagnosticsValue = { ...fake.diagnosticsValue, metrics: { ...fake.diagnosticsValue.metrics, counters: { 'retry.count': 10 } } };
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(fake.callsOf('diagnostics').length).toBe(reads + 1);
    expect(dialog.getByText('Retries').nextElementSibling!.textContent).toBe('10');
  });

  it("shows this device's id, the account's devices and the devices.* counters (issue 16)", async () => {
    const fake = new FakeMessenger(readyState({}));
    fake.devices = [
      { id: '01'.repeat(16), thisDevice: true, name: 'Chromium on Linux' },
      { id: 'ab'.repeat(16), thisDevice: false, name: 'Device 2' },
    ];
    fake.diagnosticsValue = { breakers: {}, logs: [], metrics: { counters: { 'devices.transcript_received': 3, 'retry.count': 1 }, gauges: {}, histograms: {} } };
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Diagnostics' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Diagnostics' }));
    await waitFor(() => expect(dialog.getByText('This device').nextElementSibling!.textContent).toBe('01'.repeat(16)));
    expect(dialog.getByText('Devices of this account').nextElementSibling!.textContent).toBe('2: 01010101, abababab');
    const row = dialog.getAllByRole('row').find((r) => r.textContent?.startsWith('devices.transcript_received'))!;
    expect(within(row).getByRole('cell').textContent).toBe('3');
    expect(fake.callsOf('listDevices').length).toBeGreaterThanOrEqual(1);
  });

  it('shows replays and exports the metrics as a JSON file (Blob URL download) and to the clipboard', async () => {
    const fake = new FakeMessenger(readyState({ queueDepth: 2 }));
    fake.diagnosticsValue = {
      breakers: { relay: 'closed' },
      metrics: {
        counters: { 'packet.replay{transport="relay"}': 3, 'packet.replay{transport="direct"}': 1, 'send.success{transport="relay"}': 5 },
        gauges: {},
        histograms: { 'delivery.latency': { count: 1, sum: 80, p50: 80, p95: 80, p99: 80, max: 80 } },
      },
      logs: [],
    };
    const blobs: Blob[] = [];
    const createObjectURL = vi.fn((b: Blob | MediaSource) => {
      if (b instanceof Blob) blobs.push(b);
      return 'blob:petrel/metrics';
    });
    const revokeObjectURL = vi.fn();
    vi.spyOn(URL, 'createObjectURL').mockImplementation(createObjectURL);
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(revokeObjectURL);
    const clicked: { href: string; download: string }[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download });
    });
    const writeText = vi.fn(async (_text: string) => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });

    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Diagnostics' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Diagnostics' }));
    expect(dialog.getByText('Replays dropped').nextElementSibling!.textContent).toBe('4');

    fireEvent.click(dialog.getByRole('button', { name: 'Export metrics (JSON)' }));
    click.mockRestore();
    expect(clicked).toEqual([{ href: 'blob:petrel/metrics', download: expect.stringMatching(/^petrel-metrics-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/) }]);
    expect(blobs[0]!.type).toBe('application/json');
    const exported = JSON.parse(await blobs[0]!.text());
    expect(exported).toMatchObject({
      format: 'petrel.metrics.v1',
      queueDepth: 2,
      storage: { state: 'ok' },
      breakers: { relay: 'closed' },
      metrics: fake.diagnosticsValue.metrics,
    });
    expect(dialog.getByRole('status').textContent).toBe(`Saved ${clicked[0]!.download}.`);
    // The temporary link is gone again.
    expect(document.querySelector('a[download]')).toBeNull();

    fireEvent.click(dialog.getByRole('button', { name: 'Copy metrics' }));
    expect(await dialog.findByText('Metrics copied.')).toBeTruthy();
    expect(JSON.parse(writeText.mock.calls[0]![0])).toMatchObject({ metrics: fake.diagnosticsValue.metrics });
    vi.restoreAllMocks();
  });

  it('Escape closes the dialog and focus returns to the Diagnostics button', async () => {
    renderShell(new FakeMessenger());
    const button = screen.getByRole('button', { name: 'Diagnostics' });
    button.focus();
    fireEvent.click(button);
    const dialog = screen.getByRole('dialog', { name: 'Diagnostics' });
    expect(document.activeElement).toBe(dialog);
    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    // Once the render that removed the dialog is over (the page behind is no longer inert).
    await waitFor(() => expect(document.activeElement).toBe(button));
  });
});

describe('unmounting', () => {
  it('leaves no subscription to the messenger behind', async () => {
    const fake = new FakeMessenger(readyState({ contacts: [contact({ id: 'bb'.repeat(32), displayName: 'Bob' })], chat: { contactId: 'bb'.repeat(32), messages: [], hasOlder: false } }));
    const { unmount } = renderShell(fake);
    expect(fake.listenerCount).toBeGreaterThan(0);
    // As React Testing Library does: unmount inside act, so deferred effect cleanups run.
    act(() => {
      unmount();
    });
    expect(fake.listenerCount).toBe(0);
  });
});
