/**
 * The backup vault's endpoints (issue 17, docs/PROTOCOL.md §16.4) against a real relay: a
 * backup stored under the id its recovery key derives is fetched with that key alone and
 * opens; replacing it needs the key's write token and waits out the interval; every refusal
 * is typed, counted, and stores nothing; reads (guesses at ids) are rate-limited per IP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/core/bytes.ts';
import { vaultCredentials } from '../../src/core/backup/backup-key.ts';
import { openBackup, sealBackup } from '../../src/core/backup/backup-stream.ts';
import { generateRecoveryKey } from '../../src/core/backup/recovery-key.ts';
import { deleteVaultBackup, getVaultBackup, putVaultBackup, VaultError } from '../../src/core/backup/vault-client.ts';
import { fetchBlobHttp } from '../../src/platform/fetch-blob-http.ts';
import { CryptoRuntime } from '../../src/core/crypto/crypto-runtime.ts';
import { secureRandom } from '../../src/core/random.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { scrape } from './helpers/wait-for.ts';

const runtime = new CryptoRuntime(secureRandom);
const READ_BURST = 12;
let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({ PETREL_VAULT_MAX_BYTES: String(64 * 1024), PETREL_IP_VAULT_READS_PER_MIN: '1', PETREL_IP_VAULT_READ_BURST: String(READ_BURST), PETREL_IP_VAULT_WRITE_BURST: '100' });
});
afterAll(async () => {
  await relay.stop();
});

const counted = (op: string, result: string) => scrape(relay.http, new RegExp(`petrel_vault_requests_total\\{op="${op}",result="${result}"\\} (\\d+)`));

function put(id: Uint8Array, token: Uint8Array | undefined, body: Uint8Array) {
  return fetch(`${relay.http}/vault/${toBase64Url(id)}`, { method: 'PUT', body: body as Uint8Array<ArrayBuffer>, headers: token ? { Authorization: `PetrelVault ${toBase64Url(token)}` } : {} });
}
const get = (id: Uint8Array) => fetch(`${relay.http}/vault/${toBase64Url(id)}`);

describe('backup vault', () => {
  it('keeps a backup under the recovery key\'s id; the key alone fetches and opens it; a replacement waits out the day', async () => {
    const key = generateRecoveryKey(secureRandom);
    const { id, writeToken } = vaultCredentials(key.bytes);
    const records = [Uint8Array.of(1, 2, 3)];
    const backup = await sealBackup(records, { kind: 'recovery_key', key: key.bytes }, { runtime });
    expect((await put(id, writeToken, backup)).status).toBe(201);

    const fetched = await get(id);
    expect(fetched.status).toBe(200);
    const bytes = new Uint8Array(await fetched.arrayBuffer());
    expect(bytes).toEqual(backup);
    const opened: Uint8Array[] = [];
    for await (const r of openBackup(bytes, { kind: 'recovery_key', key: key.bytes }, { runtime })) opened.push(r);
    expect(opened).toEqual(records);

    const again = await put(id, writeToken, await sealBackup([Uint8Array.of(4)], { kind: 'recovery_key', key: key.bytes }, { runtime }));
    expect(again.status).toBe(429);
    expect(await again.json()).toMatchObject({ error: 'too_soon' });
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(86_000);
    expect(new Uint8Array(await (await get(id)).arrayBuffer())).toEqual(backup);
    expect(await counted('put', 'too_soon')).toBe(1);
  });

  it('refuses a write without the token, with another token, too large, or empty: typed, counted, nothing stored', async () => {
    const { id, writeToken } = vaultCredentials(generateRecoveryKey(secureRandom).bytes);
    const other = vaultCredentials(generateRecoveryKey(secureRandom).bytes).writeToken;
    const noToken = await put(id, undefined, Uint8Array.of(1));
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toMatchObject({ error: 'unauthenticated' });
    const big = await put(id, writeToken, new Uint8Array(64 * 1024 + 1));
    expect(big.status).toBe(413);
    expect((await put(id, writeToken, new Uint8Array(0))).status).toBe(400);
    expect((await put(id, writeToken, Uint8Array.of(9))).status).toBe(201);
    const foreign = await put(id, other, Uint8Array.of(7));
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: 'forbidden' });
    const del = (token: Uint8Array) => fetch(`${relay.http}/vault/${toBase64Url(id)}`, { method: 'DELETE', headers: { Authorization: `PetrelVault ${toBase64Url(token)}` } });
    expect((await del(other)).status).toBe(403);
    expect(new Uint8Array(await (await get(id)).arrayBuffer())).toEqual(Uint8Array.of(9));
    expect((await del(writeToken)).status).toBe(204);
    expect(await counted('put', 'unauthenticated')).toBe(1);
    expect(await counted('put', 'too_large')).toBe(1);
    expect(await counted('put', 'forbidden')).toBe(1);
    expect(await counted('delete', 'forbidden')).toBe(1);
  });
});

describe('vault client (core, over the browser adapter)', () => {
  it('stores, fetches with the key alone, reports a too-early replacement typed with its wait, and deletes', async () => {
    const http = fetchBlobHttp(relay.http);
    const key = generateRecoveryKey(secureRandom).bytes;
    expect(await getVaultBackup(http, key)).toBeUndefined();
    const backup = await sealBackup([Uint8Array.of(5)], { kind: 'recovery_key', key }, { runtime });
    expect(await putVaultBackup(http, key, backup)).toBe('stored');
    expect(await getVaultBackup(http, key)).toEqual(backup);
    const early = await putVaultBackup(http, key, backup).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(VaultError);
    expect(early).toMatchObject({ kind: 'refused', status: 429, code: 'too_soon' });
    expect((early as VaultError).retryAfterMs).toBeGreaterThan(86_000_000);
    expect(await deleteVaultBackup(http, key)).toBe(true);
    expect(await deleteVaultBackup(http, key)).toBe(false);
    const down = await getVaultBackup(fetchBlobHttp('http://127.0.0.1:1'), key).catch((e: unknown) => e);
    expect(down).toMatchObject({ kind: 'network' });
  });
});

// Last: it empties this address's read bucket.
describe('read limit', () => {
  it('answers a guessed id 404 and rate-limits reads per IP (429 with Retry-After), counted', async () => {
    const before = await counted('get', 'ok').catch(() => 0);
    let status = 0;
    let reads = 0;
    for (; reads < 3 * READ_BURST && status !== 429; reads++) {
      const res = await get(vaultCredentials(generateRecoveryKey(secureRandom).bytes).id);
      status = res.status;
      if (status !== 429) expect(await res.json()).toMatchObject({ error: 'not_found' });
      else expect(Number(res.headers.get('retry-after'))).toBe(60);
    }
    expect(status).toBe(429);
    expect(reads).toBeLessThanOrEqual(READ_BURST + 1);
    expect(await counted('get', 'rate_limited')).toBe(1);
    expect(await counted('get', 'ok').catch(() => 0)).toBe(before);
    expect(await scrape(relay.http, /petrel_rate_limited_total\{bucket="ip_vault_read"\} (\d+)/)).toBe(1);
  });
});
