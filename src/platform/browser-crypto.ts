/**
 * The crypto core's runtime in a browser. The core's defaults are measured in Node;
 * Chromium's WebCrypto is native Blink code with a much smaller per-call cost, so AES-GCM of
 * chat-sized messages is cheaper there than @noble/ciphers' JavaScript (measured in the
 * catch-up benchmark's page: ~20 µs versus ~45 µs of CPU for a 150-byte message): every
 * size goes through WebCrypto. Randomness is the platform's CSPRNG, so X25519 key pairs
 * may be generated natively, ahead of time.
 *
 * One runtime per running core: its key-handle caches and pregenerated keys live and die
 * with that Messenger.
 */
import { CryptoRuntime } from '../core/crypto/index.ts';
import { secureRandom } from '../core/random.ts';

export function createBrowserCryptoRuntime(): CryptoRuntime {
  return new CryptoRuntime(secureRandom, { aeadWebCryptoThresholdBytes: 0, nativeKeyGeneration: true });
}
