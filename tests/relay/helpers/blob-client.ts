import { blobRequestPayload } from '../../../src/core/wire/blob-request-auth.ts';
import type { TestIdentity } from './identity.ts';

/** Signs blob requests as `id` (docs/PROTOCOL.md §14.5), independent of any core uploader. */
export function blobAuth(id: TestIdentity, method: string, path: string, headers: Record<string, string> = {}, timestamp = Date.now()): string {
  const sig = id.sign(blobRequestPayload({ timestamp, method, path, uploadOffset: headers['Upload-Offset'], uploadLength: headers['Upload-Length'], recipientAccounts: headers['Petrel-Recipient-Accounts'] }));
  return `Petrel ik=${Buffer.from(id.ik).toString('base64url')}, ts=${timestamp}, sig=${Buffer.from(sig).toString('base64url')}`;
}

export class BlobClient {
  constructor(
    public http: string,
    readonly id: TestIdentity,
  ) {}

  request(method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array): Promise<Response> {
    return fetch(`${this.http}${path}`, {
      method,
      headers: { ...headers, Authorization: blobAuth(this.id, method, path, headers) },
      ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
    });
  }

  async create(size: number, recipients = 1): Promise<{ status: number; path: string; body: { id?: string; error?: string } }> {
    const res = await this.request('POST', '/blobs', { 'Upload-Length': String(size), 'Petrel-Recipients': String(recipients) });
    return { status: res.status, path: res.headers.get('location') ?? '', body: (await res.json()) as { id?: string; error?: string } };
  }

  async offset(path: string): Promise<number> {
    const res = await this.request('HEAD', path);
    if (res.status !== 200) throw new Error(`HEAD ${path}: ${res.status}`);
    return Number(res.headers.get('upload-offset'));
  }

  patch(path: string, offset: number, chunk: Uint8Array): Promise<Response> {
    return this.request('PATCH', path, { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, chunk);
  }

  async download(path: string, range?: string): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
    const res = await this.request('GET', path, range ? { Range: range } : {});
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  }
}
