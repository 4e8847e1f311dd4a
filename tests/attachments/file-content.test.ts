/** The `file` content frame that carries an attachment's descriptor inside the Double Ratchet (docs/PROTOCOL.md §14.6). */
import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent, isWireError, type FileContent } from '../../src/core/wire/index.ts';
import { MAX_ATTACHMENT_PLAINTEXT_BYTES } from '../../src/core/wire/attachment-layout.ts';

const file: FileContent = {
  t: 'file',
  id: new Uint8Array(16).fill(1),
  ts: 1_700_000_000_000,
  blob: new Uint8Array(16).fill(2),
  key: new Uint8Array(32).fill(3),
  size: 12_345,
  digest: new Uint8Array(32).fill(4),
  mime: 'image/jpeg',
  name: 'harbour.jpg',
  preview: new Uint8Array(2048).fill(5),
};

const reason = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isWireError(e) ? e.reason : 'other';
  }
  return 'none';
};

describe('file content', () => {
  it('round-trips with and without its optional caption and preview', () => {
    expect(decodeContent(encodeContent(file))).toEqual(file);
    const { preview: _p, ...bare } = file;
    expect(decodeContent(encodeContent({ ...bare, text: 'the harbour at dawn' }))).toEqual({ ...bare, text: 'the harbour at dawn' });
  });

  it('refuses a size over 100 MiB, a preview over 2 KiB, and keys or digests of the wrong length', () => {
    expect(reason(() => encodeContent({ ...file, size: MAX_ATTACHMENT_PLAINTEXT_BYTES + 1 }))).not.toBe('none');
    expect(reason(() => encodeContent({ ...file, preview: new Uint8Array(2049) }))).not.toBe('none');
    expect(reason(() => encodeContent({ ...file, key: new Uint8Array(31) }))).not.toBe('none');
    expect(reason(() => encodeContent({ ...file, digest: new Uint8Array(33) }))).not.toBe('none');
    expect(reason(() => encodeContent({ ...file, blob: new Uint8Array(15) }))).not.toBe('none');
  });
});
