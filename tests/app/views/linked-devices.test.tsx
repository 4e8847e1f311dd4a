// @vitest-environment happy-dom
/**
 * Linked devices in the UI (issue 16's UI contract), over the fake messenger: the Linked
 * devices view (one listitem per device, this one marked, Unlink on each, Link a new
 * device showing the read-only Device link field and its QR code), onboarding's Link to
 * an existing account (Device link, Link this device; a refusal is shown and nothing
 * else happens; a #link= address fills it in), and the unlinked device saying so.
 */
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { deviceLinkFromInput, deviceLinkFromUrl, deviceLinkUrl } from '../../../src/app/views/devices/device-link-url.ts';
import { FakeMessenger, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

const ONBOARDING = { phase: 'onboarding' as const, me: undefined };

describe('the Linked devices view', () => {
  it('lists the devices with this one marked, unlinks one, and shows a new link with its QR code', async () => {
    const fake = new FakeMessenger(readyState());
    fake.devices = [
      { id: '01'.repeat(16), thisDevice: true, name: 'Chromium on Linux' },
      { id: '02'.repeat(16), thisDevice: false, name: 'Device 2' },
    ];
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Linked devices' }));
    const dialog = await screen.findByRole('dialog', { name: 'Linked devices' });
    await waitFor(() => expect(within(dialog).getAllByRole('listitem')).toHaveLength(2));
    const items = within(dialog).getAllByRole('listitem');
    expect(items[0]!.textContent).toContain('This device');
    expect(items[0]!.textContent).toContain('Chromium on Linux');
    expect(items[1]!.textContent).not.toContain('This device');
    expect(items[1]!.textContent).toContain('Device 2');
    // Only this device is renamed here: Rename, the Device name field, Save name.
    expect(within(items[1]!).queryByRole('button', { name: 'Rename' })).toBeNull();
    fireEvent.click(within(items[0]!).getByRole('button', { name: 'Rename' }));
    const name = within(dialog).getByLabelText('Device name') as HTMLInputElement;
    expect(name.value).toBe('Chromium on Linux');
    fireEvent.change(name, { target: { value: '  ' } });
    expect((within(dialog).getByRole('button', { name: 'Save name' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(name, { target: { value: ' Work laptop ' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save name' }));
    expect(fake.callsOf('renameThisDevice')).toEqual([[' Work laptop ']]);
    await waitFor(() => expect(within(dialog).getAllByRole('listitem')[0]!.textContent).toContain('Work laptop'));
    expect(within(dialog).queryByLabelText('Device name')).toBeNull();

    fireEvent.click(within(items[1]!).getByRole('button', { name: 'Unlink' }));
    expect(fake.callsOf('unlinkDevice')).toEqual([['02'.repeat(16)]]);
    await waitFor(() => expect(within(dialog).getAllByRole('listitem')).toHaveLength(1));

    fireEvent.click(within(dialog).getByRole('button', { name: 'Link a new device' }));
    const field = (await within(dialog).findByLabelText('Device link')) as HTMLInputElement;
    expect(field.readOnly).toBe(true);
    expect(field.value).toMatch(/#link=petrel-link:AQ/);
    const offered = fake.getState().deviceLink;
    expect(deviceLinkFromUrl(field.value)).toBe(offered?.status === 'waiting' ? offered.link : 'none');
    expect(within(dialog).getByRole('status').textContent).toMatch(/works once/);
  });

  it('says when a link cannot be made, and when linking failed on the other side', async () => {
    const fake = new FakeMessenger(readyState());
    fake.failing.add('createDeviceLink');
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Linked devices' }));
    const dialog = await screen.findByRole('dialog', { name: 'Linked devices' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Link a new device' }));
    expect((await within(dialog).findByRole('alert')).textContent).toMatch(/No link could be made/);
    expect(within(dialog).queryByLabelText('Device link')).toBeNull();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Link a new device' }));
    await within(dialog).findByLabelText('Device link');
    fake.set({ deviceLink: { status: 'failed', kind: 'too_many_devices', error: 'This account already has 10 devices. Unlink one first.' } });
    expect((await within(dialog).findByRole('status')).textContent).toBe('This account already has 10 devices. Unlink one first.');
  });

  it('is not offered before there is an account', () => {
    renderShell(new FakeMessenger(readyState(ONBOARDING)));
    expect(screen.queryByRole('button', { name: 'Linked devices' })).toBeNull();
  });
});

describe('Link to an existing account', () => {
  it('takes the Device link field to linkThisDevice, the link URL reduced to the link', async () => {
    const fake = new FakeMessenger(readyState(ONBOARDING));
    renderShell(fake);
    const form = screen.getByRole('form', { name: 'Link to an existing account' });
    const button = within(form).getByRole('button', { name: 'Link this device' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.input(within(form).getByLabelText('Device link'), { target: { value: ' https://petrel.test/#link=petrel-link:AQxyz ' } });
    fireEvent.click(button);
    expect(fake.callsOf('linkThisDevice')).toEqual([['petrel-link:AQxyz']]);
  });

  it('shows a refusal plainly and stays on onboarding', async () => {
    const fake = new FakeMessenger(readyState(ONBOARDING));
    fake.linkThisDevice = async () => {
      throw Object.assign(new Error('this link has expired; make a new one on your other device'), { kind: 'link_expired' });
    };
    renderShell(fake);
    const form = screen.getByRole('form', { name: 'Link to an existing account' });
    fireEvent.input(within(form).getByLabelText('Device link'), { target: { value: 'petrel-link:AQold' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Link this device' }));
    expect((await within(form).findByRole('alert')).textContent).toBe('This device could not be linked: this link has expired; make a new one on your other device.');
    expect(screen.getByRole('button', { name: 'Create identity' })).toBeTruthy();
  });

  it('a #link= address fills the field and leaves the address', () => {
    window.history.replaceState(null, '', '/#link=petrel-link:AQfromurl');
    renderShell(new FakeMessenger(readyState(ONBOARDING)));
    expect((screen.getByLabelText('Device link') as HTMLInputElement).value).toBe('petrel-link:AQfromurl');
    expect(window.location.hash).toBe('');
  });

  it('shows progress while the history arrives', async () => {
    const fake = new FakeMessenger(readyState(ONBOARDING));
    fake.linkThisDevice = () => new Promise<void>(() => {});
    renderShell(fake);
    const form = screen.getByRole('form', { name: 'Link to an existing account' });
    fireEvent.input(within(form).getByLabelText('Device link'), { target: { value: 'petrel-link:AQ' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Link this device' }));
    fake.set({ linking: { status: 'receiving', contacts: 2, messages: 300 } });
    expect((await within(form).findByRole('status')).textContent).toBe('Receiving your account: 2 contacts, 300 messages…');
  });
});

describe('an unlinked device', () => {
  it('says so plainly', () => {
    renderShell(new FakeMessenger(readyState({ unlinked: true })));
    expect(screen.getByRole('alert').textContent).toMatch(/^This device was unlinked from your account\. It no longer sends or receives messages/);
  });
});

describe('device link URLs', () => {
  it('round-trip the link and accept the bare text', () => {
    const url = deviceLinkUrl('petrel-link:AQ-_x', 'https://petrel.test/app?x=1#/chat/ab');
    expect(url).toBe('https://petrel.test/app?x=1#link=petrel-link:AQ-_x');
    expect(deviceLinkFromUrl(url)).toBe('petrel-link:AQ-_x');
    expect(deviceLinkFromUrl('https://petrel.test/#link=nonsense')).toBeUndefined();
    expect(deviceLinkFromInput('  petrel-link:AQ ')).toBe('petrel-link:AQ');
  });
});
