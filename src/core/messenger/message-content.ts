/**
 * The content frame of one of our own messages, from what its row keeps: a `msg`, a
 * `reply` when the row quotes another message, or a
 * `file` when the row carries an uploaded attachment (its body is then the caption). Used
 * when composing and when a waiting job's plaintext must be rebuilt from the row.
 */
import { fromHex } from '../bytes.ts';
import type { AttachmentRef, Quote } from '../store/index.ts';
import { encodeContent } from '../wire/index.ts';
import { fallbackText } from './action-content.ts';

export function outgoingContent(m: { readonly id: string; readonly sentAt: number; readonly body: string; readonly attachment?: AttachmentRef; readonly quote?: Quote }): Uint8Array {
  const id = fromHex(m.id);
  const a = m.attachment;
  const q = m.quote;
  if (q && !a) return encodeContent({ t: 'reply', id, ts: m.sentAt, text: m.body, to: fromHex(q.id), quote: q.text, fallback: fallbackText.reply(q.text, m.body) });
  if (!a) return encodeContent({ t: 'msg', id, ts: m.sentAt, text: m.body });
  return encodeContent({
    t: 'file',
    id,
    ts: m.sentAt,
    ...(m.body ? { text: m.body } : {}),
    blob: fromHex(a.blobId),
    key: a.key,
    size: a.size,
    digest: a.digest,
    mime: a.mime,
    name: a.name,
    ...(a.preview ? { preview: a.preview } : {}),
  });
}
