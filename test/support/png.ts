// Decodes 8-bit RGB/RGBA PNGs (what Chromium's screenshots are) far enough to check a picture in a
// test: its size, and its pixels after undoing the five PNG row filters.
import { inflateSync } from 'node:zlib';

export interface Picture {
  width: number;
  height: number;
  /** The RGB colour of a pixel as 0xRRGGBB. */
  rgb(x: number, y: number): number;
  /** How many colours the picture uses (a blank page has one or two). */
  distinctColours(): number;
}

export function decodePng(png: Buffer): Picture {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const [depth, colourType, , , interlace] = [png[24], png[25], png[26], png[27], png[28]];
  const channels = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
  if (depth !== 8 || !channels || interlace !== 0) throw new Error(`unsupported PNG (depth ${depth}, colour type ${colourType}, interlace ${interlace})`);
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.toString('ascii', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rowBytes = width * channels;
  const pixels = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)]!;
    const line = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    const out = pixels.subarray(y * rowBytes, (y + 1) * rowBytes);
    const up = y > 0 ? pixels.subarray((y - 1) * rowBytes, y * rowBytes) : Buffer.alloc(rowBytes);
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= channels ? out[i - channels]! : 0;
      const b = up[i]!;
      const c = i >= channels ? up[i - channels]! : 0;
      const predictor = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
      out[i] = (line[i]! + predictor) & 0xff;
    }
  }
  const rgb = (x: number, y: number) => pixels.readUIntBE(y * rowBytes + x * channels, 3);
  return {
    width, height, rgb,
    distinctColours() {
      const seen = new Set<number>();
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) seen.add(rgb(x, y));
      return seen.size;
    },
  };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
