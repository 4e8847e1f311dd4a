// @vitest-environment happy-dom
/**
 * Share invite (Web Share API, else a copy) and Scan QR code (issue 20): an invite QR
 * opens the same review as the link; a safety-number QR goes to the core's comparison
 * and a match marks the contact verified. The reader is the browser's BarcodeDetector,
 * stubbed here (jsQR's path is tested on pixels in qr-decode.test.ts and in Chromium).
 */
import { createEvent, fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { safetyQrText } from '../../../src/core/messenger/safety-qr-text.ts';
import { FakeMessenger, SAFETY_DIGITS, contact, fakeInviteUrl, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });

/** A BarcodeDetector that "sees" `text` in whatever it is shown, and a picture to show it. */
function seeing(text: string) {
  class FakeDetector {
    static getSupportedFormats = async () => ['qr_code'];
    detect = async () => [{ rawValue: text }];
  }
  vi.stubGlobal('BarcodeDetector', FakeDetector);
  vi.stubGlobal('createImageBitmap', async () => ({ width: 10, height: 10, close() {} }));
}
function choosePicture(scope: HTMLElement) {
  const input = within(scope).getByLabelText('Choose a picture of the code');
  fireEvent(input, createEvent.change(input, { target: { files: [new File(['x'], 'code.png', { type: 'image/png' })] } }));
}

afterEach(() => vi.unstubAllGlobals());

describe('Share invite', () => {
  it('uses the Web Share API with the invite link', async () => {
    const share = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, share });
    renderShell(new FakeMessenger(readyState()));
    fireEvent.click(screen.getByRole('button', { name: 'Share invite' }));
    expect(share).toHaveBeenCalledWith(expect.objectContaining({ url: 'https://petrel.test/#invite=alice' }));
    expect(await screen.findByText('Invite shared.')).toBeTruthy();
  });

  it('copies the link where the browser cannot share', async () => {
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, share: undefined, clipboard: { writeText } });
    renderShell(new FakeMessenger(readyState()));
    fireEvent.click(screen.getByRole('button', { name: 'Share invite' }));
    expect(writeText).toHaveBeenCalledWith('https://petrel.test/#invite=alice');
    expect(await screen.findByText('Invite link copied.')).toBeTruthy();
  });
});

describe('Scan QR code', () => {
  it('an invite QR code opens the review of that invite', async () => {
    seeing(fakeInviteUrl('Carol', 3));
    renderShell(new FakeMessenger(readyState()));
    fireEvent.click(screen.getByRole('button', { name: 'Scan QR code' }));
    const dialog = screen.getByRole('dialog', { name: 'Scan an invite QR code' });
    // No camera in this browser: it says so and offers a picture.
    expect(await within(dialog).findByText(/cannot use a camera here/)).toBeTruthy();
    choosePicture(dialog);
    expect(await screen.findByRole('heading', { name: 'Add Carol?' })).toBeTruthy();
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('any other code is refused with a reason, and the dialog stays', async () => {
    seeing('just some text');
    renderShell(new FakeMessenger(readyState()));
    fireEvent.click(screen.getByRole('button', { name: 'Scan QR code' }));
    const dialog = screen.getByRole('dialog', { name: 'Scan an invite QR code' });
    choosePicture(dialog);
    await waitFor(() => expect(within(dialog).getByRole('alert').textContent).toMatch(/not a Petrel invite/));
  });

  it("the other person's safety-number code is compared by the core; a match marks them verified", async () => {
    seeing(safetyQrText({ digits: SAFETY_DIGITS, qr: new Uint8Array(64).fill(7) }));
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [], hasOlder: false } }));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Verify safety number' }));
    const dialog = screen.getByRole('dialog', { name: 'Verify Bob’s identity' });
    fireEvent.click(await within(dialog).findByRole('button', { name: 'Scan QR code' }));
    choosePicture(dialog);
    expect((await within(dialog).findByRole('status')).textContent).toMatch(/The safety numbers match/);
    expect(fake.callsOf('compareSafetyNumber')).toEqual([[BOB.id, new Uint8Array(64).fill(7)]]);
    expect(fake.callsOf('setVerified')).toEqual([[BOB.id, true]]);
  });

  it('a code that does not match warns and does not verify', async () => {
    seeing(safetyQrText({ digits: SAFETY_DIGITS, qr: new Uint8Array(64).fill(9) }));
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [], hasOlder: false } }));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Verify safety number' }));
    const dialog = screen.getByRole('dialog', { name: 'Verify Bob’s identity' });
    fireEvent.click(await within(dialog).findByRole('button', { name: 'Scan QR code' }));
    choosePicture(dialog);
    await waitFor(() => expect(within(dialog).getByRole('alert').textContent).toMatch(/do not match/));
    expect(fake.callsOf('setVerified')).toEqual([]);
  });

  it('the safety-number QR code holds the number in words and the payload the scan reads', async () => {
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [], hasOlder: false } }));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Verify safety number' }));
    // What the code encodes is the text safetyQrText makes (decoded from pixels in qr-decode.test.ts).
    expect(safetyQrText({ digits: SAFETY_DIGITS, qr: new Uint8Array(64).fill(7) })).toMatch(/^Petrel safety number: (\d{5} ){11}\d{5}\npetrel-sn:/);
    expect(await screen.findByRole('img', { name: 'QR code to scan on Bob’s device' })).toBeTruthy();
  });
});
