import { useEffect, useId, useRef, useState, type ChangeEvent } from 'react';
import { qrReader, type QrReader } from './qr-reader.ts';
import './scan.css';

/** How often a camera frame is looked at. */
const FRAME_INTERVAL_MS = 250;

export interface QrScannerProps {
  /** What to point the camera at, e.g. "their invite QR code". */
  readonly target: string;
  /**
   * A code was read. Resolves to a problem to show (the scan goes on) or undefined when
   * the text was taken (the scan stops).
   */
  readonly onText: (text: string) => Promise<string | undefined>;
}

type Camera = 'starting' | 'on' | 'unavailable';

/**
 * Reads a QR code with the camera (getUserMedia; BarcodeDetector or jsQR, qr-reader.ts),
 * or from a picture the user chooses. The camera stops when the scanner goes away.
 */
export function QrScanner({ target, onText }: QrScannerProps) {
  const video = useRef<HTMLVideoElement>(null);
  const reader = useRef<Promise<QrReader> | undefined>(undefined);
  const busy = useRef(false);
  const [camera, setCamera] = useState<Camera>('starting');
  const [problem, setProblem] = useState('');
  const [done, setDone] = useState(false);
  const fileId = useId();
  const latestOnText = useRef(onText);
  useEffect(() => {
    latestOnText.current = onText;
  });

  const getReader = () => (reader.current ??= qrReader());

  /** Hands a read text over once at a time; returns whether it was taken. */
  const take = async (text: string | undefined): Promise<boolean> => {
    if (text === undefined) return false;
    const issue = await latestOnText.current(text);
    setProblem(issue ?? '');
    if (issue === undefined) setDone(true);
    return issue === undefined;
  };

  useEffect(() => {
    if (done) return;
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    let live = true;
    const media = navigator.mediaDevices;
    if (!media?.getUserMedia) {
      queueMicrotask(() => setCamera('unavailable'));
      return;
    }
    media.getUserMedia({ video: { facingMode: 'environment' }, audio: false }).then(
      async (s) => {
        if (!live) {
          for (const t of s.getTracks()) t.stop();
          return;
        }
        stream = s;
        const el = video.current;
        if (!el) return;
        el.srcObject = s;
        await el.play().catch(() => undefined);
        setCamera('on');
        timer = setInterval(() => {
          if (busy.current || el.readyState < 2) return;
          busy.current = true;
          void getReader()
            .then((r) => r.read(el))
            .then(take)
            .catch(() => false)
            .finally(() => {
              busy.current = false;
            });
        }, FRAME_INTERVAL_MS);
      },
      () => live && setCamera('unavailable'),
    );
    return () => {
      live = false;
      if (timer) clearInterval(timer);
      for (const t of stream?.getTracks() ?? []) t.stop();
    };
    // `take` reads the latest props through a ref: the camera starts once per scan.
  }, [done]);

  const fromPicture = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.currentTarget.files?.[0];
    e.currentTarget.value = '';
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      const text = await (await getReader()).read(bitmap);
      bitmap.close();
      if (text === undefined) setProblem('No QR code was found in that picture.');
      else await take(text);
    } catch {
      setProblem('That picture could not be read.');
    }
  };

  if (done) return null;
  return (
    <div className="qr-scanner">
      <p>Point the camera at {target}.</p>
      <video ref={video} className="qr-scanner-video" muted playsInline hidden={camera !== 'on'} aria-label="Camera view" />
      {camera === 'starting' && <p aria-busy="true">Starting the camera…</p>}
      {camera === 'unavailable' && <p>Petrel cannot use a camera here: allow it for this site, or choose a picture of the code.</p>}
      <label className="qr-scanner-file" htmlFor={fileId}>
        Choose a picture of the code
      </label>
      <input id={fileId} type="file" accept="image/*" onChange={(e) => void fromPicture(e)} />
      <p className="field-error" role="alert">
        {problem}
      </p>
    </div>
  );
}
