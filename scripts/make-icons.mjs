// Draws Petrel's icons (a seabird gliding over a wave on the theme colour) and writes
// them as PNGs into public/icons/. No image tool is needed: the shapes are signed
// distance fields evaluated per pixel (one-pixel ramps give the anti-aliasing) and the
// PNG container is assembled here with zlib. Run `node scripts/make-icons.mjs` after
// changing the drawing; the generated files are committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const OUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');

/** Theme colours, shared with public/manifest.webmanifest and index.html. */
const SKY_TOP = [0x0b, 0x39, 0x54];
const SKY_BOTTOM = [0x12, 0x55, 0x7a];
const BIRD = [0xff, 0xff, 0xff];
const WAVE = [0x5c, 0xd6, 0xc4];

/** Corner radius of the rounded-square "any" icon, as a fraction of its size. */
const CORNER_RADIUS = 0.22;
/** Maskable icons must keep their content inside the central 80 % circle. */
const MASKABLE_CONTENT_SCALE = 0.74;
/** Points per curve when flattening Béziers into capsules. */
const CURVE_STEPS = 48;

const ICONS = [
  { file: 'icon-192.png', size: 192, maskable: false },
  { file: 'icon-512.png', size: 512, maskable: false },
  { file: 'icon-maskable-512.png', size: 512, maskable: true },
  { file: 'apple-touch-icon.png', size: 180, maskable: true },
  { file: 'favicon-32.png', size: 32, maskable: false },
];

// ---------------------------------------------------------------- geometry (unit square)

function cubic(p0, p1, p2, p3, t) {
  const u = 1 - t;
  const a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
  return [a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]];
}

/** A stroke whose half-width follows `radius(t)`: a chain of tapered capsules. */
function taperedCurve(points, radius) {
  const segs = [];
  let prev = cubic(...points, 0);
  for (let i = 1; i <= CURVE_STEPS; i++) {
    const t0 = (i - 1) / CURVE_STEPS, t1 = i / CURVE_STEPS;
    const next = cubic(...points, t1);
    segs.push({ a: prev, b: next, ra: radius(t0), rb: radius(t1) });
    prev = next;
  }
  return segs;
}

function mirror(segs) {
  return segs.map(({ a, b, ra, rb }) => ({ a: [1 - a[0], a[1]], b: [1 - b[0], b[1]], ra, rb }));
}

/** Signed distance from p to the union of tapered capsules (negative inside). */
function distanceToStroke(segs, p) {
  let best = Infinity;
  for (const { a, b, ra, rb } of segs) {
    const abx = b[0] - a[0], aby = b[1] - a[1];
    const apx = p[0] - a[0], apy = p[1] - a[1];
    const len2 = abx * abx + aby * aby;
    const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, (apx * abx + apy * aby) / len2));
    const dx = apx - abx * t, dy = apy - aby * t;
    const d = Math.hypot(dx, dy) - (ra + (rb - ra) * t);
    if (d < best) best = d;
  }
  return best;
}

// A gull-winged petrel: each wing rises from a slim tip and dips into the body.
const wingThickness = (t) => 0.006 + 0.036 * Math.sin(Math.PI * Math.min(1, t * 0.85 + 0.1)) ** 0.8;
const LEFT_WING = taperedCurve([[0.13, 0.47], [0.24, 0.22], [0.39, 0.24], [0.5, 0.45]], wingThickness);
const BIRD_STROKE = [...LEFT_WING, ...mirror(LEFT_WING)];

// One long swell beneath it, thinning towards both ends.
const swell = (from, to) => (t) => 0.012 + 0.016 * (from + (to - from) * t);
const WAVE_STROKE = [
  ...taperedCurve([[0.17, 0.73], [0.29, 0.63], [0.39, 0.63], [0.5, 0.71]], swell(0, 1)),
  ...taperedCurve([[0.5, 0.71], [0.61, 0.79], [0.71, 0.79], [0.83, 0.69]], swell(1, 0)),
];

function roundedSquareDistance(p, r) {
  const qx = Math.abs(p[0] - 0.5) - (0.5 - r);
  const qy = Math.abs(p[1] - 0.5) - (0.5 - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

// ---------------------------------------------------------------- rasterising

/** Coverage of a shape at signed distance d, with a one-pixel anti-aliasing ramp. */
const coverage = (d, pixel) => Math.min(1, Math.max(0, 0.5 - d / pixel));

function blend(under, over, alpha) {
  return under.map((c, i) => c + (over[i] - c) * alpha);
}

function render(size, maskable) {
  const rgba = Buffer.alloc(size * size * 4);
  const pixel = 1 / size;
  const scale = maskable ? MASKABLE_CONTENT_SCALE : 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = [(x + 0.5) / size, (y + 0.5) / size];
      // Content is drawn in its own unit square, shrunk about the centre for maskable icons.
      const c = [(p[0] - 0.5) / scale + 0.5, (p[1] - 0.5) / scale + 0.5];
      const contentPixel = pixel / scale;
      let colour = blend(SKY_TOP, SKY_BOTTOM, p[1]);
      colour = blend(colour, WAVE, coverage(distanceToStroke(WAVE_STROKE, c), contentPixel));
      colour = blend(colour, BIRD, coverage(distanceToStroke(BIRD_STROKE, c), contentPixel));
      const alpha = maskable ? 1 : coverage(roundedSquareDistance(p, CORNER_RADIUS), pixel);
      const o = (y * size + x) * 4;
      rgba[o] = Math.round(colour[0]);
      rgba[o + 1] = Math.round(colour[1]);
      rgba[o + 2] = Math.round(colour[2]);
      rgba[o + 3] = Math.round(alpha * 255);
    }
  }
  return rgba;
}

// ---------------------------------------------------------------- PNG container

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  // compression, filter and interlace methods stay 0
  const stride = size * 4;
  const raw = Buffer.alloc((stride + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    rgba.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

mkdirSync(OUT_DIR, { recursive: true });
for (const { file, size, maskable } of ICONS) {
  const png = encodePng(size, render(size, maskable));
  writeFileSync(join(OUT_DIR, file), png);
  process.stdout.write(`${file}: ${size}x${size}${maskable ? ' maskable' : ''}, ${png.length} bytes\n`);
}
