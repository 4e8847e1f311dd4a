/**
 * The Emscripten module factory @oqs/liboqs-js builds for ML-KEM-768 (dist/ml-kem-768.min.js,
 * the WebAssembly inlined): only what ml-kem-wasm.ts calls. The package exports no types for
 * this file, nor the file itself; scripts/oqs-aliases.mjs points the path at it.
 */
declare module '@oqs/liboqs-js/dist/ml-kem-768.min.js' {
  interface OqsModule {
    readonly HEAPU8: Uint8Array;
    _malloc(size: number): number;
    _free(ptr: number): void;
    _OQS_init(): void;
    _OQS_KEM_new(namePtr: number): number;
    _OQS_KEM_encaps(kem: number, ciphertextPtr: number, sharedSecretPtr: number, publicKeyPtr: number): number;
    _OQS_KEM_decaps(kem: number, sharedSecretPtr: number, ciphertextPtr: number, secretKeyPtr: number): number;
    stringToUTF8(text: string, ptr: number, maxBytes: number): void;
  }
  const createModule: (moduleArg?: object) => Promise<OqsModule>;
  export default createModule;
}
