/**
 * The content of one of our messages rebuilt from its row (message-content.ts): a `file`
 * when the row keeps an attachment — so a job put back to wait for a new session after a
 * key change still sends the file, not its caption as text — and a `msg` otherwise.
 */
import { describe, expect, it } from 'vitest';
import { outgoingContent } from '../../src/core/messenger/message-content.ts';
import { decodeContent } from '../../src/core/wire/index.ts';

const id = '0f'.repeat(16);
const attachment = { blobId: 'ab'.repeat(16), key: new Uint8Array(32).fill(1), digest: new Uint8Array(32).fill(2), size: 3_000, mime: 'image/png', name: 'cat.png', preview: new Uint8Array([9, 9]) };

describe('outgoingContent', () => {
  it('a row with an attachment is a file content carrying the whole descriptor and the caption', () => {
    expect(decodeContent(outgoingContent({ id, sentAt: 42, body: 'look', attachment }))).toEqual({
      t: 'file',
      id: Uint8Array.from(Array(16).fill(0x0f)),
      ts: 42,
      text: 'look',
      blob: Uint8Array.from(Array(16).fill(0xab)),
      key: attachment.key,
      size: 3_000,
      digest: attachment.digest,
      mime: 'image/png',
      name: 'cat.png',
      preview: attachment.preview,
    });
  });

  it('no caption: no text key; no attachment: a msg', () => {
    expect(decodeContent(outgoingContent({ id, sentAt: 1, body: '', attachment }))).not.toHaveProperty('text');
    expect(decodeContent(outgoingContent({ id, sentAt: 1, body: 'hi' }))).toEqual({ t: 'msg', id: Uint8Array.from(Array(16).fill(0x0f)), ts: 1, text: 'hi' });
  });
});
