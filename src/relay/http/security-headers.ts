/**
 * Headers on everything the relay serves. Identity keys live in the page's storage, so
 * the Content-Security-Policy allows no third-party script, no inline script and no
 * framing; connections go only back to this origin (the relay's WebSocket).
 * 'wasm-unsafe-eval' lets the app's own scripts compile WebAssembly (Argon2id for passphrase
 * backups, hash-wasm: 3× faster than JavaScript, docs/PROTOCOL.md §16.2; ML-KEM-768 from
 * liboqs in the core's Worker, about 5× faster, src/core/crypto/ml-kem-wasm.ts); it allows no
 * JavaScript eval and no script from anywhere but this origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // The camera for this origin only: Scan QR code (invites, safety numbers).
  'Permissions-Policy': 'camera=(self), microphone=(), geolocation=(), payment=()',
};
