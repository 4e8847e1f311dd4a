/**
 * The contact list never shows two identical names (issue 20): whatever the names, keys
 * and states, the labels the list shows differ as a person reads them, and a name nobody
 * else has gets no detail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelOf, nameDetails, type NamedEntry } from '../../src/core/messenger/distinct-names.ts';

const norm = (s: string) => s.normalize('NFKC').trim().toLocaleLowerCase();
const NAMES = ['Bob', 'bob ', 'Ｂｏｂ', 'Bob (new)', 'Bob (ended)', 'Bob (key 1a2b3c4d)', 'Bob (ended, key 1a2b3c4d)', 'Ann', ''];
// Ids that often share their first 8 or 16 hex digits, as an attacker could grind for.
const id = fc
  .tuple(fc.constantFrom('1a2b3c4d', '1a2b3c4e', 'ffffffff'), fc.constantFrom('00000000', '11111111'), fc.stringMatching(/^[0-9a-f]{48}$/))
  .map(([a, b, c]) => a + b + c);
const entry = fc.record({ id, name: fc.constantFrom(...NAMES), ended: fc.boolean(), claimant: fc.boolean() });

describe('distinct names', () => {
  it('tells a contact reset apart: the old one ended, the newcomer new', () => {
    const d = nameDetails([
      { id: 'aa'.repeat(32), name: 'Bob', ended: true, claimant: false },
      { id: 'bb'.repeat(32), name: 'bob', ended: false, claimant: true },
      { id: 'cc'.repeat(32), name: 'Carol', ended: false, claimant: false },
    ]);
    expect(Object.fromEntries(d)).toEqual({ ['aa'.repeat(32)]: 'ended', ['bb'.repeat(32)]: 'new' });
  });

  it('labels always differ, and a name nobody else has gets no detail (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.id, maxLength: 12 }), (entries: NamedEntry[]) => {
        const details = nameDetails(entries);
        const labels = entries.map((e) => norm(labelOf(e.name, details.get(e.id))));
        expect(new Set(labels).size).toBe(labels.length);
        for (const e of entries) {
          // A name without "(" can only read like another contact's name, never like a label with a detail.
          const alone = !e.name.includes('(') && entries.every((o) => o === e || norm(o.name) !== norm(e.name));
          if (alone) expect(details.get(e.id)).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });
});
