// @oqs/liboqs-js exports its wrapper only, which loads its WebAssembly through an import
// with a computed path that bundlers cannot follow; src/core/crypto/ml-kem-wasm.ts imports
// the ML-KEM-768 module factory itself, and this alias (the build, the tests, esbuild
// bundles; tsx reads the same path from tsconfig.json) says where the file is.
import { fileURLToPath } from 'node:url';

export const oqsAliases = {
  '@oqs/liboqs-js/dist/ml-kem-768.min.js': fileURLToPath(new URL('../node_modules/@oqs/liboqs-js/dist/ml-kem-768.min.js', import.meta.url)),
};
