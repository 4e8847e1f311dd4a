/**
 * The tiny preview sent inside a picture's message (docs/PROTOCOL.md §14.6): the picture
 * scaled to at most 32 px on its longer side as a JPEG of at most 2 KiB. Made only where the
 * browser can decode off-screen (createImageBitmap + OffscreenCanvas); otherwise, or for a
 * picture it cannot decode, the file goes without one.
 */
import { MAX_ATTACHMENT_PREVIEW_BYTES } from '../../../core/wire/attachment-layout.ts';

const MAX_SIDE = 32;

export async function picturePreview(file: Blob): Promise<Uint8Array | undefined> {
  // SVG is not decoded here (and not shown in the app's origin anyway).
  if (!file.type.startsWith('image/') || file.type === 'image/svg+xml') return undefined;
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') return undefined;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
    const g = canvas.getContext('2d');
    if (!g) return undefined;
    g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    for (const quality of [0.7, 0.4, 0.1]) {
      const jpeg = await canvas.convertToBlob({ type: 'image/jpeg', quality });
      if (jpeg.size <= MAX_ATTACHMENT_PREVIEW_BYTES) return new Uint8Array(await jpeg.arrayBuffer());
    }
  } catch {
    // Not a picture this browser can decode: no preview.
  }
  return undefined;
}
