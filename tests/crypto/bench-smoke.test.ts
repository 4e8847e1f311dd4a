/**
 * Smoke run of bench/crypto.bench.ts with quick sizes: all three subjects really exchange
 * messages (each checks every plaintext), every primitive is measured on both backends, and
 * the result has the harness's shape.
 */
import { describe, expect, it } from 'vitest';
import crypto from '../../bench/crypto.bench.ts';
import { NOBLE, WEBCRYPTO } from '../../bench/crypto/primitives.ts';

const SESSION_SUBJECTS = ['petrel', 'libsignal-client', 'libsignal-protocol-typescript'];
const PRIMITIVES = ['X25519 DH', 'X25519 key generation', 'AES-256-GCM encrypt 100 B', 'AES-256-GCM encrypt 16 KiB', 'HMAC-SHA-256, 1-byte input', 'HKDF-SHA-256, 44-byte output'];

describe('crypto benchmark (quick)', () => {
  it('measures every subject and scenario, every primitive on both backends, and states the five goals', async () => {
    const result = await crypto.run({ quick: true });
    expect(result.name).toBe('crypto');
    const sessionRows = result.rows.filter((r) => SESSION_SUBJECTS.includes(r.subject));
    expect(new Set(sessionRows.map((r) => r.subject))).toEqual(new Set(SESSION_SUBJECTS));
    expect(sessionRows).toHaveLength(9);
    const primitiveRows = result.rows.filter((r) => r.unit === 'µs/op');
    expect(sessionRows.length + primitiveRows.length).toBe(result.rows.length);
    expect([...new Set(primitiveRows.map((r) => r.metric))].sort()).toEqual([...PRIMITIVES].sort());
    for (const p of PRIMITIVES) {
      const subjects = primitiveRows.filter((r) => r.metric === p).map((r) => r.subject);
      expect(subjects, p).toContain(NOBLE);
      expect(subjects, p).toContain(WEBCRYPTO);
    }
    for (const r of result.rows) {
      expect(r.samples.length).toBeGreaterThan(0);
      expect(r.median).toBeGreaterThan(0);
      expect(Number.isFinite(r.median)).toBe(true);
    }
    expect(result.goals).toHaveLength(5);
    expect(result.goals[0]!.description).toMatch(/^setup: Petrel ≥ 0.5× libsignal-client/);
    for (const g of result.goals) expect(g.measured).toMatch(/×/);
    expect(result.notes?.some((n) => n.startsWith('Primitive rows'))).toBe(true);
  }, 120_000);
});
