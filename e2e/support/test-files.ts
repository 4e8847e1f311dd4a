/** Deterministic file contents for attachment tests: pseudo-random bytes and a real PNG of noise. */
import { crc32, deflateSync } from 'node:zlib';

/** `size` bytes from an xorshift generator seeded with `seed` (the same bytes every run). */
export function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A real PNG of noise (so the browser decodes it and makes a preview); 64×48 is about 9 KiB. */
export function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const noise = bytes(height * (1 + width * 3), 7);
  for (let y = 0; y < height; y++) noise[y * (1 + width * 3)] = 0; // filter: none
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', header), chunk('IDAT', deflateSync(noise)), chunk('IEND', Buffer.alloc(0))]);
}
