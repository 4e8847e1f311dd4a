import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { verifyEd25519 } from '../../src/relay/crypto/ed25519-verify.ts';
import { originAllowed } from '../../src/relay/http/origin-policy.ts';
import { ConnectionLimiter } from '../../src/relay/limits/connection-limiter.ts';
import { openDatabase } from '../../src/relay/storage/sqlite-database.ts';
import { tempDataDir } from './helpers/relay-harness.ts';

describe('connection caps', () => {
  it('count per IP and in total, and release slots', () => {
    const l = new ConnectionLimiter(3, 2);
    expect(l.acquire('a')).toBeUndefined();
    expect(l.acquire('a')).toBeUndefined();
    expect(l.acquire('a')).toBe('per_ip');
    expect(l.acquire('b')).toBeUndefined();
    expect(l.acquire('c')).toBe('capacity');
    l.release('a');
    expect(l.acquire('c')).toBeUndefined();
    expect(l.count()).toBe(3);
  });
});

describe('origin policy', () => {
  it('defaults to the relay host, accepts clients without Origin, and honours an allow-list', () => {
    expect(originAllowed('http://localhost:8787', 'localhost:8787', [])).toBe(true);
    expect(originAllowed('https://evil.example', 'localhost:8787', [])).toBe(false);
    expect(originAllowed('null', 'localhost:8787', [])).toBe(false);
    expect(originAllowed(undefined, 'localhost:8787', [])).toBe(true);
    expect(originAllowed('https://a.example', 'relay:8787', ['https://a.example'])).toBe(true);
    expect(originAllowed('http://relay:8787', 'relay:8787', ['https://a.example'])).toBe(false);
  });
});

describe('Ed25519 verification through node:crypto', () => {
  it('agrees with @noble/curves and never throws on garbage', () => {
    const seed = new Uint8Array(32).fill(5);
    const pub = ed25519.getPublicKey(seed);
    const msg = new Uint8Array([1, 2, 3]);
    const sig = ed25519.sign(msg, seed);
    expect(verifyEd25519(pub, msg, sig)).toBe(true);
    expect(verifyEd25519(pub, new Uint8Array([1, 2, 4]), sig)).toBe(false);
    expect(verifyEd25519(pub, msg, sig.slice(0, 63))).toBe(false);
    expect(verifyEd25519(new Uint8Array(31), msg, sig)).toBe(false);
    expect(verifyEd25519(new Uint8Array(32).fill(0xff), msg, sig)).toBe(false);
  });
});

describe('SQLite database', () => {
  it('runs in WAL mode with the configured synchronous level, and reopens without re-migrating', () => {
    const dir = tempDataDir();
    try {
      const db = openDatabase(dir, 'FULL');
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      const version = db.pragma('user_version', { simple: true });
      db.close();
      const again = openDatabase(dir, 'NORMAL');
      expect(again.pragma('synchronous', { simple: true })).toBe(1);
      expect(again.pragma('user_version', { simple: true })).toBe(version);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
