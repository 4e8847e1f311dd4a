/**
 * Finds the text of a QR code in a video frame or a picture: the browser's
 * BarcodeDetector where it reads QR codes, otherwise jsQR (qr-decode.ts, loaded lazily)
 * on the pixels drawn into a canvas.
 */
export type QrSource = HTMLVideoElement | ImageBitmap;

export interface QrReader {
  /** The text of a QR code in `source`, or undefined when none is found. */
  read(source: QrSource): Promise<string | undefined>;
}

interface BarcodeDetectorLike {
  detect(source: QrSource): Promise<readonly { readonly rawValue: string }[]>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

/** Largest side a frame is scaled down to before jsQR reads it (its cost grows with pixels). */
const MAX_SIDE_PX = 800;

function sizeOf(source: QrSource): { width: number; height: number } {
  return source instanceof HTMLVideoElement ? { width: source.videoWidth, height: source.videoHeight } : { width: source.width, height: source.height };
}

async function nativeReader(): Promise<QrReader | undefined> {
  const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (!Detector) return undefined;
  try {
    if (!(await Detector.getSupportedFormats()).includes('qr_code')) return undefined;
  } catch {
    return undefined;
  }
  const detector = new Detector({ formats: ['qr_code'] });
  return { read: async (source) => (await detector.detect(source))[0]?.rawValue };
}

async function pixelReader(): Promise<QrReader> {
  const { decodeQr } = await import('./qr-decode.ts');
  const canvas = document.createElement('canvas');
  return {
    read: async (source) => {
      const { width, height } = sizeOf(source);
      if (!width || !height) return undefined;
      const scale = Math.min(1, MAX_SIDE_PX / Math.max(width, height));
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      const g = canvas.getContext('2d', { willReadFrequently: true });
      if (!g) return undefined;
      g.drawImage(source, 0, 0, canvas.width, canvas.height);
      return decodeQr(g.getImageData(0, 0, canvas.width, canvas.height));
    },
  };
}

/** The best reader this browser has. */
export async function qrReader(): Promise<QrReader> {
  return (await nativeReader()) ?? pixelReader();
}
