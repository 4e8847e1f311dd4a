/**
 * What the safety-number QR code holds: text a person can read (a camera app shows the
 * safety number in words, not bytes), ending with the binary payload of
 * crypto/safety-number.ts in base64url after a fixed marker, which Petrel's scanner
 * reads back and hands to `compareSafetyNumber`.
 *
 *   Petrel safety number: 12345 67890 … (12 blocks)
 *   petrel-sn:<base64url of the 65-byte payload>
 */
import { fromBase64Url, toBase64Url } from '../bytes.ts';

const MARKER = 'petrel-sn:';
const BLOCK = 5;

/** The QR text for a safety number (`digits`, 60) and its payload (`qr`). */
export function safetyQrText(number: { readonly digits: string; readonly qr: Uint8Array }): string {
  const blocks = number.digits.match(new RegExp(`.{1,${BLOCK}}`, 'g')) ?? [];
  return `Petrel safety number: ${blocks.join(' ')}\n${MARKER}${toBase64Url(number.qr)}`;
}

/** The payload in scanned text, or undefined when the text is not a Petrel safety-number code. */
export function parseSafetyQrText(text: string): Uint8Array | undefined {
  const at = text.lastIndexOf(MARKER);
  if (at < 0) return undefined;
  try {
    return fromBase64Url(text.slice(at + MARKER.length).trim());
  } catch {
    return undefined;
  }
}
