/**
 * Crypto tuning for browsers. The core's defaults are measured in Node; Chromium's
 * WebCrypto is native Blink code with a much smaller per-call cost, so AES-GCM of chat-sized
 * messages is cheaper there than @noble/ciphers' JavaScript (measured in the catch-up
 * benchmark's page: ~20 µs versus ~45 µs of CPU for a 150-byte message).
 */
import { setAeadWebCryptoThreshold } from '../core/crypto/index.ts';

export function tuneCryptoForBrowser(): void {
  setAeadWebCryptoThreshold(0);
}
