/**
 * Saves a downloaded file the way the issue demands: as a download, never rendered in the
 * app's origin. The bytes are re-typed as application/octet-stream before the object URL
 * is made, so even a browser ignoring `download` could not show an HTML or SVG file here.
 */
export function saveFile(doc: Document, blob: Blob, name: string): void {
  const url = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
  const a = doc.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  doc.body.append(a);
  try {
    a.click();
  } finally {
    a.remove();
    // Revoked after the click has been handed to the browser's download.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}
