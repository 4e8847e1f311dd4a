import { useEffect, useMemo, useState } from 'react';
import type * as QrModules from './qr-modules.ts';
import './QrCode.css';

type QrEncoder = typeof QrModules;

export interface QrCodeProps {
  readonly data: string | Uint8Array;
  /** What the code holds, for people who cannot see it. */
  readonly label: string;
}

/**
 * A QR code drawn as SVG rectangles (no canvas, no HTML strings). The encoder is its
 * own chunk, loaded after the first screen is up: it is not needed to show it.
 */
export function QrCode({ data, label }: QrCodeProps) {
  const [encoder, setEncoder] = useState<QrEncoder>();
  useEffect(() => {
    let live = true;
    void import('./qr-modules.ts').then((m) => {
      if (live) setEncoder(m);
    });
    return () => {
      live = false;
    };
  }, []);
  const matrix = useMemo(() => encoder?.qrMatrix(data), [encoder, data]);
  if (!encoder) return <p className="qr-missing" aria-busy="true">Drawing the QR code…</p>;
  if (!matrix) return <p className="qr-missing">This is too long for a QR code.</p>;
  const quiet = encoder.QR_QUIET_ZONE;
  const side = matrix.size + 2 * quiet;
  return (
    <svg className="qr-code" role="img" aria-label={label} viewBox={`0 0 ${side} ${side}`} shapeRendering="crispEdges">
      <rect width={side} height={side} fill="#fff" />
      {matrix.runs.map((r) => (
        <rect key={`${r.row}:${r.col}`} x={r.col + quiet} y={r.row + quiet} width={r.length} height={1} fill="#000" />
      ))}
    </svg>
  );
}
