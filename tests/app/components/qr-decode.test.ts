/**
 * The jsQR path of the scanner on a still image: a code drawn by the app's own encoder
 * (qr-modules.ts), rendered to pixels at a few scales, reads back as the same text; an
 * image with no code reads as nothing.
 */
import { describe, expect, it } from 'vitest';
import { QR_QUIET_ZONE, qrMatrix } from '../../../src/app/components/qr-modules.ts';
import { decodeQr } from '../../../src/app/views/scan/qr-decode.ts';
import { safetyQrText } from '../../../src/core/messenger/safety-qr-text.ts';

/** RGBA pixels of `text`'s QR code, `scale` pixels a module, quiet zone included. */
function render(text: string, scale: number): ImageData {
  const m = qrMatrix(text)!;
  const side = (m.size + 2 * QR_QUIET_ZONE) * scale;
  const data = new Uint8ClampedArray(side * side * 4).fill(255);
  for (const r of m.runs) {
    for (let y = (r.row + QR_QUIET_ZONE) * scale; y < (r.row + QR_QUIET_ZONE + 1) * scale; y++) {
      for (let x = (r.col + QR_QUIET_ZONE) * scale; x < (r.col + QR_QUIET_ZONE + r.length) * scale; x++) data.fill(0, (y * side + x) * 4, (y * side + x) * 4 + 3);
    }
  }
  return { data, width: side, height: side, colorSpace: 'srgb' } as ImageData;
}

describe('decodeQr (jsQR)', () => {
  it('reads an invite link and a safety-number code back', () => {
    const invite = 'https://petrel.example/#invite=AbCdEf0123456789_-AbCdEf0123456789_-AbCdEf0123456789';
    const safety = safetyQrText({ digits: '0123456789'.repeat(6), qr: new Uint8Array(65).map((_, i) => (i * 37) & 0xff) });
    for (const scale of [3, 5]) {
      expect(decodeQr(render(invite, scale))).toBe(invite);
      expect(decodeQr(render(safety, scale))).toBe(safety);
    }
  });

  it('finds nothing in a blank picture', () => {
    const data = new Uint8ClampedArray(200 * 200 * 4).fill(255);
    expect(decodeQr({ data, width: 200, height: 200, colorSpace: 'srgb' } as ImageData)).toBeUndefined();
  });
});
