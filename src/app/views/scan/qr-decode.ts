import jsQR from 'jsqr';

/**
 * Reads a QR code from pixels with jsQR (pinned; only for browsers without
 * BarcodeDetector). Its own chunk, loaded when a scan starts: never on the first screen.
 */
export function decodeQr(image: ImageData): string | undefined {
  return jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' })?.data;
}
