import { create } from 'qrcode';

/** Light modules around the symbol that scanners need (the QR "quiet zone"). */
export const QR_QUIET_ZONE = 4;

export interface QrRun {
  readonly row: number;
  readonly col: number;
  readonly length: number;
}

export interface QrMatrix {
  /** Modules per side, without the quiet zone. */
  readonly size: number;
  /** Dark modules merged into horizontal runs (far fewer SVG elements than one per module). */
  readonly runs: readonly QrRun[];
}

/** The QR symbol for `data` (text, or raw bytes in byte mode); undefined when it does not fit. */
export function qrMatrix(data: string | Uint8Array): QrMatrix | undefined {
  let modules;
  try {
    modules = create(typeof data === 'string' ? data : [{ data, mode: 'byte' }], { errorCorrectionLevel: 'M' }).modules;
  } catch {
    return undefined;
  }
  const { size } = modules;
  const runs: QrRun[] = [];
  for (let row = 0; row < size; row++) {
    let start = -1;
    for (let col = 0; col <= size; col++) {
      const dark = col < size && modules.data[row * size + col] === 1;
      if (dark && start < 0) start = col;
      else if (!dark && start >= 0) {
        runs.push({ row, col: start, length: col - start });
        start = -1;
      }
    }
  }
  return { size, runs };
}
