/**
 * Argon2id for passphrase backups: hash-wasm and @noble/hashes agree (RFC 9106 output), and
 * where WebAssembly may not be compiled (a CSP without 'wasm-unsafe-eval') the JavaScript one
 * takes over; any other failure is not hidden.
 */
import { describe, expect, it } from 'vitest';
import { argon2idPreferring, hashWasmArgon2id, nobleArgon2id, type Argon2idFn } from '../../src/core/backup/backup-key.ts';

const small = { memoryKiB: 256, passes: 3, lanes: 1 };
const password = new TextEncoder().encode('password');
const salt = new Uint8Array(16).fill(2);

describe('Argon2id', () => {
  it('hash-wasm and @noble/hashes give the same bytes', async () => {
    expect(await hashWasmArgon2id(password, salt, small)).toEqual(await nobleArgon2id(password, salt, small));
  });

  it('falls back to the JavaScript Argon2id when WebAssembly is refused, and stays there', async () => {
    let primaryCalls = 0;
    const refused: Argon2idFn = async () => {
      primaryCalls++;
      throw Object.assign(new Error('WebAssembly.compile(): violates the Content Security Policy'), { name: 'CompileError' });
    };
    const argon2id = argon2idPreferring(refused, nobleArgon2id);
    const expected = await hashWasmArgon2id(password, salt, small);
    expect(await argon2id(password, salt, small)).toEqual(expected);
    expect(await argon2id(password, salt, small)).toEqual(expected);
    expect(primaryCalls).toBe(1);
    const broken = argon2idPreferring(async () => {
      throw new RangeError('out of memory');
    }, nobleArgon2id);
    await expect(broken(password, salt, small)).rejects.toThrow(RangeError);
  });
});
