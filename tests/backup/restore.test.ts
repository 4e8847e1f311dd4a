/**
 * A backup made from a store (the link export's records) and restored through the link
 * import: every contact with its verification and every message come back to the sink, in
 * order, as a new device of the same account whose list names it; a backup whose records do
 * not make a valid link transfer is refused typed, and the sink never sees `complete`.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { restoreBackup } from '../../src/core/backup/backup-restore.ts';
import { sealBackup } from '../../src/core/backup/backup-stream.ts';
import type { BackupSecret } from '../../src/core/backup/backup-key.ts';
import { BackupContentError, BackupWrongKeyError } from '../../src/core/backup/errors.ts';
import { generateRecoveryKey, parseRecoveryKey } from '../../src/core/backup/recovery-key.ts';
import { CryptoRuntime } from '../../src/core/crypto/crypto-runtime.ts';
import { signDeviceList } from '../../src/core/devices/device-list.ts';
import type { LinkImportStep } from '../../src/core/devices/link-import.ts';
import { makeBackup, singleDeviceBackupList } from '../../src/core/messenger/backup-commands.ts';
import { seededRandom } from '../../src/core/random.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { encodeLinkRecord } from '../../src/core/wire/index.ts';
import { device, identity } from '../devices/fixtures.ts';

const runtime = new CryptoRuntime(seededRandom(3));

async function adaStore() {
  const store = createMemoryStore({ now: () => 0 });
  const people = [identity(2), identity(3)];
  for (const [i, p] of people.entries()) {
    await store.putContact({ id: toHex(p.publicKey), displayName: `P${i}`, identityKey: p.publicKey, verification: i ? 'unverified' : 'verified', addedAt: 10 + i });
  }
  for (const [i, p] of people.entries()) {
    for (let n = 0; n < (i ? 3 : 600); n++) {
      const id = `${i.toString(16).padStart(2, '0')}${n.toString(16).padStart(30, '0')}`;
      await store.commitIncoming({ envelopeId: id, from: toHex(p.publicKey), receivedAt: 1_000 + n, message: { id, contactId: toHex(p.publicKey), body: `m${i}.${n}`, sentAt: 1_000 + n } });
    }
  }
  return { store, people };
}

describe('backup and restore', () => {
  it('restores the account, contacts with verification and every message, as a new device one list version up', async () => {
    const { store, people } = await adaStore();
    const ada = identity(1);
    const key = generateRecoveryKey(runtime.random);
    const secret: BackupSecret = { kind: 'recovery_key', key: key.bytes };
    const list = signDeviceList(ada, { version: 4, issuedAt: 5, devices: [device(1)] });
    const backup = await makeBackup(store, { identity: ada, name: 'Ada', list }, secret, { runtime });
    const steps: LinkImportStep[] = [];
    const result = await restoreBackup(backup, { kind: 'recovery_key', key: parseRecoveryKey(key.text) }, { runtime, device: device(7), now: 99, sink: (s) => void steps.push(s) });
    expect(result).toEqual({ contacts: 2, messages: 603 });
    const account = steps[0]!;
    if (account.kind !== 'account') throw new Error('account first');
    expect(account.identity.publicKey).toEqual(ada.publicKey);
    expect(account.name).toBe('Ada');
    expect(account.list.version).toBe(5);
    expect(account.list.devices).toEqual([device(1), device(7)]);
    const contacts = steps.flatMap((s) => (s.kind === 'contacts' ? s.contacts : []));
    expect(contacts.map((c) => [c.name, c.verified])).toEqual([
      ['P0', true],
      ['P1', false],
    ]);
    const texts = (ik: Uint8Array) => steps.flatMap((s) => (s.kind === 'messages' && toHex(s.contact) === toHex(ik) ? s.messages.map((m) => m.text) : []));
    expect(texts(people[0]!.publicKey)).toEqual(Array.from({ length: 600 }, (_, n) => `m0.${n}`));
    expect(texts(people[1]!.publicKey)).toEqual(['m1.0', 'm1.1', 'm1.2']);
    expect(steps.at(-1)).toEqual({ kind: 'complete', contacts: 2, messages: 603 });
    await expect(restoreBackup(backup, { kind: 'recovery_key', key: new Uint8Array(20) }, { runtime, device: device(7), now: 99, sink: () => {} })).rejects.toBeInstanceOf(BackupWrongKeyError);
  });

  it("gives a single-device account's restored browser the account's first list, naming only itself", async () => {
    const ada = identity(1);
    const secret: BackupSecret = { kind: 'recovery_key', key: new Uint8Array(20).fill(1) };
    const backup = await makeBackup(createMemoryStore({ now: () => 0 }), { identity: ada, name: 'Ada', list: singleDeviceBackupList(ada, 1) }, secret, { runtime });
    const steps: LinkImportStep[] = [];
    await restoreBackup(backup, secret, { runtime, device: device(3), now: 2, sink: (s) => void steps.push(s) });
    expect(steps[0]).toMatchObject({ kind: 'account', list: { version: 1, devices: [device(3)] } });
    expect(steps[1]).toEqual({ kind: 'complete', contacts: 0, messages: 0 });
  });

  it('refuses, typed, records that are not a whole link transfer, and never tells the sink it is complete', async () => {
    const ada = identity(1);
    const secret: BackupSecret = { kind: 'recovery_key', key: new Uint8Array(20).fill(2) };
    const account = encodeLinkRecord({ t: 'link.account', seed: new Uint8Array(32).fill(1), name: 'Ada', list: singleDeviceBackupList(ada, 1) });
    const foreignList = encodeLinkRecord({ t: 'link.account', seed: new Uint8Array(32).fill(1), name: 'Ada', list: singleDeviceBackupList(identity(9), 1) });
    const cases: Uint8Array[][] = [
      [account], // no totals
      [account, encodeLinkRecord({ t: 'link.end', contacts: 1, messages: 0 })], // totals that do not match
      [encodeLinkRecord({ t: 'link.end', contacts: 0, messages: 0 })], // no account
      [foreignList, encodeLinkRecord({ t: 'link.end', contacts: 0, messages: 0 })], // a list another identity signed
      [account, Uint8Array.of(0xa0)], // not a link record
    ];
    for (const records of cases) {
      const steps: LinkImportStep[] = [];
      const backup = await sealBackup(records, secret, { runtime });
      await expect(restoreBackup(backup, secret, { runtime, device: device(3), now: 2, sink: (s) => void steps.push(s) })).rejects.toBeInstanceOf(BackupContentError);
      expect(steps.some((s) => s.kind === 'complete')).toBe(false);
    }
  });
});
