/**
 * The client side of the relay's backup vault (docs/PROTOCOL.md §16.4), over the same
 * injected HTTP as attachments (`attachments/blob-http.ts`; the browser passes
 * src/platform/fetch-blob-http.ts). Nothing is signed by the account: the vault id and the
 * write token come from the recovery key alone, so the key is all a new browser needs.
 */
import { concatBytes, toBase64Url } from '../bytes.ts';
import type { BlobHttp, BlobHttpResponse } from '../attachments/blob-http.ts';
import { vaultCredentials } from './backup-key.ts';

/** The relay refused (`status`, its `code`: too_soon, forbidden, too_large, rate_limited, …; `retryAfterMs` when it said), or no answer arrived (`network`). */
export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly kind: 'refused' | 'network',
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const vaultPath = (id: Uint8Array) => `/vault/${toBase64Url(id)}`;

async function send(http: BlobHttp, request: Parameters<BlobHttp['send']>[0]): Promise<BlobHttpResponse> {
  try {
    return await http.send(request);
  } catch (err) {
    throw new VaultError('network', `the relay did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function refusal(res: BlobHttpResponse): Promise<VaultError> {
  let text = '';
  for await (const piece of res.body) text += new TextDecoder().decode(piece, { stream: true });
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: string }).error;
  } catch {
    // Not the relay's JSON (a proxy's page): the status says enough.
  }
  const retry = Number(res.header('retry-after'));
  return new VaultError('refused', `the relay refused the backup request: ${res.status} ${code ?? ''}`.trim(), res.status, code, Number.isFinite(retry) && retry > 0 ? retry * 1000 : undefined);
}

/** Stores `backup` (made under `recoveryKey`) in the vault; `stored` the first time, `replaced` after. VaultError otherwise. */
export async function putVaultBackup(http: BlobHttp, recoveryKey: Uint8Array, backup: Uint8Array): Promise<'stored' | 'replaced'> {
  const { id, writeToken } = vaultCredentials(recoveryKey);
  const res = await send(http, { method: 'PUT', path: vaultPath(id), headers: { Authorization: `PetrelVault ${toBase64Url(writeToken)}`, 'Content-Type': 'application/octet-stream' }, body: backup });
  if (res.status === 201 || res.status === 204) {
    await res.discard();
    return res.status === 201 ? 'stored' : 'replaced';
  }
  throw await refusal(res);
}

/** The backup kept under `recoveryKey`, or undefined if the vault holds none. VaultError otherwise. */
export async function getVaultBackup(http: BlobHttp, recoveryKey: Uint8Array): Promise<Uint8Array | undefined> {
  const { id } = vaultCredentials(recoveryKey);
  const res = await send(http, { method: 'GET', path: vaultPath(id), headers: {} });
  if (res.status === 404) {
    await res.discard();
    return undefined;
  }
  if (res.status !== 200) throw await refusal(res);
  const pieces: Uint8Array[] = [];
  for await (const piece of res.body) pieces.push(piece);
  return concatBytes(...pieces);
}

/** Removes the backup kept under `recoveryKey` (the user turned "Keep a backup on the relay" off); false if there was none. */
export async function deleteVaultBackup(http: BlobHttp, recoveryKey: Uint8Array): Promise<boolean> {
  const { id, writeToken } = vaultCredentials(recoveryKey);
  const res = await send(http, { method: 'DELETE', path: vaultPath(id), headers: { Authorization: `PetrelVault ${toBase64Url(writeToken)}` } });
  if (res.status === 204 || res.status === 404) {
    await res.discard();
    return res.status === 204;
  }
  throw await refusal(res);
}
