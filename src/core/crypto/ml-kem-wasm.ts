/**
 * ML-KEM-768 from liboqs (Open Quantum Safe), compiled to WebAssembly by @oqs/liboqs-js:
 * the FIPS 203 implementation liboqs ships (mlkem-native), about five times faster than
 * JavaScript. Only ml-kem.ts uses this file; it does the input checks first and keeps
 * @noble/post-quantum where this cannot serve (see there).
 *
 * What liboqs offers and what it does not: Encaps and Decaps, and KeyGen with randomness it
 * draws itself from the platform (Node's randomFillSync, crypto.getRandomValues in a
 * browser). It exports no KeyGen_internal(d, z) or Encaps_internal(ek, m), so nothing here
 * takes a seed or a message m: callers that need those (a seeded runtime, published
 * vectors) use noble. Decaps is deterministic and needs no choice.
 *
 * The package's own wrapper loads its WebAssembly file through an import with a computed
 * path, which no bundler can follow; this file imports the module factory directly (the
 * build, the tests and tsx alias the path: scripts/oqs-aliases.mjs) and calls the four C
 * functions itself. Every buffer that held a secret (dk, K) is zeroed in the WebAssembly
 * heap before it is freed.
 *
 * One loaded module serves the whole process: it is a library (code and a scratch heap that
 * keeps nothing between calls), like an import, not state of a runtime. Loading it compiles
 * WebAssembly, which the app's Content-Security-Policy allows ('wasm-unsafe-eval', see
 * src/relay/http/security-headers.ts); where it is refused, `loadMlKemWasm` resolves to
 * undefined and ml-kem.ts stays on noble.
 */
import createModule from '@oqs/liboqs-js/dist/ml-kem-768.min.js';
import { ML_KEM_768_CIPHERTEXT_BYTES } from './limits.ts';

const SECRET_KEY_BYTES = 2400;
const SHARED_SECRET_BYTES = 32;

/** liboqs's OQS_KEM_* for ML-KEM-768, called synchronously. `undefined`: liboqs refused the input (its own FIPS 203 checks). */
export interface MlKemWasm {
  encapsulate(ek: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } | undefined;
  decapsulate(dk: Uint8Array, cipherText: Uint8Array): Uint8Array | undefined;
}

let loading: Promise<MlKemWasm | undefined> | undefined;
let state: 'not_loaded' | 'liboqs' | 'noble' = 'not_loaded';

/** The process's liboqs ML-KEM-768, loaded on first use; undefined where WebAssembly cannot be compiled. */
export function loadMlKemWasm(): Promise<MlKemWasm | undefined> {
  loading ??= instantiate().then(
    (wasm) => ((state = 'liboqs'), wasm),
    () => ((state = 'noble'), undefined),
  );
  return loading;
}

/** Which implementation serves Decaps and device Encaps (diagnostics): liboqs, or noble because WebAssembly was refused. */
export function mlKemImplementation(): 'not_loaded' | 'liboqs' | 'noble' {
  return state;
}

async function instantiate(): Promise<MlKemWasm> {
  const m = await createModule();
  m._OQS_init();
  const name = 'ML-KEM-768';
  const namePtr = m._malloc(name.length + 1);
  m.stringToUTF8(name, namePtr, name.length + 1);
  const kem = m._OQS_KEM_new(namePtr);
  m._free(namePtr);
  if (!kem) throw new Error('liboqs has no ML-KEM-768');

  const put = (bytes: Uint8Array): number => {
    const ptr = m._malloc(bytes.length);
    m.HEAPU8.set(bytes, ptr);
    return ptr;
  };
  const take = (ptr: number, length: number): Uint8Array => m.HEAPU8.slice(ptr, ptr + length);
  const wipe = (ptr: number, length: number): void => {
    m.HEAPU8.fill(0, ptr, ptr + length);
    m._free(ptr);
  };

  return {
    encapsulate(ek) {
      const ekPtr = put(ek);
      const ctPtr = m._malloc(ML_KEM_768_CIPHERTEXT_BYTES);
      const ssPtr = m._malloc(SHARED_SECRET_BYTES);
      try {
        if (m._OQS_KEM_encaps(kem, ctPtr, ssPtr, ekPtr) !== 0) return undefined;
        return { cipherText: take(ctPtr, ML_KEM_768_CIPHERTEXT_BYTES), sharedSecret: take(ssPtr, SHARED_SECRET_BYTES) };
      } finally {
        m._free(ekPtr);
        m._free(ctPtr);
        wipe(ssPtr, SHARED_SECRET_BYTES);
      }
    },
    decapsulate(dk, cipherText) {
      const dkPtr = put(dk);
      const ctPtr = put(cipherText);
      const ssPtr = m._malloc(SHARED_SECRET_BYTES);
      try {
        if (m._OQS_KEM_decaps(kem, ssPtr, ctPtr, dkPtr) !== 0) return undefined;
        return take(ssPtr, SHARED_SECRET_BYTES);
      } finally {
        wipe(dkPtr, SECRET_KEY_BYTES);
        m._free(ctPtr);
        wipe(ssPtr, SHARED_SECRET_BYTES);
      }
    },
  };
}

