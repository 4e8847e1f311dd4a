import { useMemo } from 'react';
import { QR_QUIET_ZONE, qrMatrix } from './qr-modules.ts';
import './QrCode.css';

export interface QrCodeProps {
  readonly data: string | Uint8Array;
  /** What the code holds, for people who cannot see it. */
  readonly label: string;
}

/** A QR code drawn as SVG rectangles (no canvas, no HTML strings). */
export function QrCode({ data, label }: QrCodeProps) {
  const matrix = useMemo(() => qrMatrix(data), [data]);
  if (!matrix) return <p className="qr-missing">This is too long for a QR code.</p>;
  const side = matrix.size + 2 * QR_QUIET_ZONE;
  return (
    <svg className="qr-code" role="img" aria-label={label} viewBox={`0 0 ${side} ${side}`} shapeRendering="crispEdges">
      <rect width={side} height={side} fill="#fff" />
      {matrix.runs.map((r) => (
        <rect key={`${r.row}:${r.col}`} x={r.col + QR_QUIET_ZONE} y={r.row + QR_QUIET_ZONE} width={r.length} height={1} fill="#000" />
      ))}
    </svg>
  );
}
