/**
 * A minimal PNG encoder: 8-bit greyscale, non-interlaced, with node:zlib only.
 *
 * Layout (PNG specification, 3rd edition, W3C 2025 / ISO/IEC 15948): the 8-byte signature, then
 * chunks of length (4 bytes, big-endian), type (4 ASCII), data, CRC-32 of type + data:
 * IHDR (width, height, bit depth 8, colour type 0 = greyscale, compression 0, filter 0,
 * interlace 0), one IDAT with the zlib stream of the filtered scanlines, IEND.
 *
 * Each scanline is preceded by its filter type (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth),
 * chosen per line by the usual heuristic (smallest sum of absolute values of the filtered bytes
 * taken as signed), which shrinks smooth images such as a sky background by a third or more.
 */
import { crc32, deflateSync } from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The five PNG filter types. */
export const PngFilter = { None: 0, Sub: 1, Up: 2, Average: 3, Paeth: 4 } as const;

export interface PngOptions {
  /** zlib compression level 0–9. @default 6 */
  level?: number;
}

/**
 * Encodes an 8-bit greyscale image.
 *
 * @param pixels one byte per pixel, `width` per row, the TOP row first (PNG order).
 */
export function encodeGrayPng(width: number, height: number, pixels: Uint8Array, options: PngOptions = {}): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new RangeError(`PNG size must be 1..2^31-1 pixels each way, got ${width}x${height}`);
  }
  if (pixels.length < width * height) throw new RangeError(`${width}x${height} PNG needs ${width * height} pixels, got ${pixels.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: greyscale
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0 (the five adaptive filters)
  ihdr[12] = 0; // no interlace
  const raw = filterScanlines(width, height, pixels);
  const idat = deflateSync(raw, { level: options.level ?? 6 });
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Filter-type byte + filtered bytes for every row, one filter per row (PNG §7.3, §9). */
function filterScanlines(width: number, height: number, pixels: Uint8Array): Buffer {
  const stride = width + 1;
  const out = Buffer.alloc(stride * height);
  const zero = new Uint8Array(width);
  const candidates = [0, 1, 2, 3, 4].map(() => new Uint8Array(width));
  for (let y = 0; y < height; y++) {
    const line = pixels.subarray(y * width, (y + 1) * width);
    const prior = y === 0 ? zero : pixels.subarray((y - 1) * width, y * width);
    let best = 0;
    let bestCost = Infinity;
    for (let f = 0; f < 5; f++) {
      const filtered = candidates[f]!;
      applyFilter(f, line, prior, filtered);
      let cost = 0;
      for (let x = 0; x < width; x++) {
        const b = filtered[x]!;
        cost += b < 128 ? b : 256 - b;
      }
      if (cost < bestCost) {
        bestCost = cost;
        best = f;
      }
    }
    out[y * stride] = best;
    out.set(candidates[best]!, y * stride + 1);
  }
  return out;
}

/** One byte per pixel, so the "left" byte is the previous pixel (bpp = 1). */
function applyFilter(filter: number, line: Uint8Array, prior: Uint8Array, out: Uint8Array): void {
  const n = line.length;
  for (let x = 0; x < n; x++) {
    const a = x > 0 ? line[x - 1]! : 0;
    const b = prior[x]!;
    const c = x > 0 ? prior[x - 1]! : 0;
    const v = line[x]!;
    let predicted: number;
    switch (filter) {
      case PngFilter.None: predicted = 0; break;
      case PngFilter.Sub: predicted = a; break;
      case PngFilter.Up: predicted = b; break;
      case PngFilter.Average: predicted = (a + b) >> 1; break;
      default: predicted = paeth(a, b, c);
    }
    out[x] = (v - predicted) & 0xff;
  }
}

/** The Paeth predictor (PNG §9.4): the neighbour closest to a + b − c, ties a, b, c. */
export function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}
