/**
 * A strict little PNG reader for tests, written independently of the encoder: its own CRC-32
 * table (ISO 3309 polynomial 0xEDB88320), chunk walk, inflate, and the five unfilters.
 * Greyscale 8-bit, non-interlaced only — anything else is an error.
 */
import { inflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32Table(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface DecodedPng {
  width: number;
  height: number;
  chunkTypes: string[];
  /** Filter type of each scanline. */
  filters: number[];
  /** Top row first. */
  pixels: Uint8Array;
}

export function decodePng(png: Buffer): DecodedPng {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  signature.forEach((b, i) => {
    if (png[i] !== b) throw new Error(`bad signature byte ${i}`);
  });
  let offset = 8;
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const crc = png.readUInt32BE(offset + 8 + length);
    if (crc !== crc32Table(png.subarray(offset + 4, offset + 8 + length))) throw new Error(`CRC mismatch in ${type}`);
    chunkTypes.push(type);
    if (type === 'IHDR') {
      if (length !== 13) throw new Error('IHDR length');
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, compression, filter, interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || colour !== 0 || compression !== 0 || filter !== 0 || interlace !== 0) {
        throw new Error(`unsupported IHDR ${depth}/${colour}/${compression}/${filter}/${interlace}`);
      }
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  if (offset !== png.length) throw new Error(`${png.length - offset} bytes after IEND`);
  if (chunkTypes[0] !== 'IHDR' || chunkTypes[chunkTypes.length - 1] !== 'IEND') throw new Error(`chunk order ${chunkTypes.join(',')}`);
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length !== (width + 1) * height) throw new Error(`inflated ${raw.length} bytes, expected ${(width + 1) * height}`);
  const pixels = new Uint8Array(width * height);
  const filters: number[] = [];
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (width + 1)]!;
    filters.push(filter);
    for (let x = 0; x < width; x++) {
      const v = raw[y * (width + 1) + 1 + x]!;
      const a = x > 0 ? pixels[y * width + x - 1]! : 0;
      const b = y > 0 ? pixels[(y - 1) * width + x]! : 0;
      const c = x > 0 && y > 0 ? pixels[(y - 1) * width + x - 1]! : 0;
      let p: number;
      if (filter === 0) p = 0;
      else if (filter === 1) p = a;
      else if (filter === 2) p = b;
      else if (filter === 3) p = Math.floor((a + b) / 2);
      else if (filter === 4) {
        const e = a + b - c;
        const pa = Math.abs(e - a);
        const pb = Math.abs(e - b);
        const pc = Math.abs(e - c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else throw new Error(`filter type ${filter} on row ${y}`);
      pixels[y * width + x] = (v + p) & 0xff;
    }
  }
  return { width, height, chunkTypes, filters, pixels };
}

/** A Python (zlib + struct + binascii) reader: per file argument, width, height and the pixels' SHA-256 (a JSON list). */
export const PYTHON_PNG_READER = String.raw`
import sys, zlib, struct, binascii, hashlib, json
def read(path):
  data = open(path, 'rb').read()
  assert data[:8] == b'\x89PNG\r\n\x1a\n', 'signature'
  pos = 8; idat = b''; types = []
  while pos < len(data):
      (n,) = struct.unpack('>I', data[pos:pos+4]); t = data[pos+4:pos+8]; body = data[pos+8:pos+8+n]
      (crc,) = struct.unpack('>I', data[pos+8+n:pos+12+n])
      assert binascii.crc32(t + body) & 0xffffffff == crc, 'crc ' + t.decode()
      types.append(t.decode())
      if t == b'IHDR': w, h, depth, colour, comp, filt, inter = struct.unpack('>IIBBBBB', body)
      if t == b'IDAT': idat += body
      pos += 12 + n
  raw = zlib.decompress(idat)
  out = bytearray(w * h); prev = bytearray(w)
  for y in range(h):
      f = raw[y*(w+1)]; line = bytearray(raw[y*(w+1)+1:(y+1)*(w+1)])
      for x in range(w):
          a = line[x-1] if x else 0; b = prev[x]; c = prev[x-1] if x else 0
          if f == 0: p = 0
          elif f == 1: p = a
          elif f == 2: p = b
          elif f == 3: p = (a + b) // 2
          else:
              e = a + b - c; pa, pb, pc = abs(e-a), abs(e-b), abs(e-c)
              p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
          line[x] = (line[x] + p) & 255
      out[y*w:(y+1)*w] = line; prev = line
  return {'width': w, 'height': h, 'depth': depth, 'colour': colour, 'interlace': inter, 'types': types, 'sha256': hashlib.sha256(bytes(out)).hexdigest()}
print(json.dumps([read(p) for p in sys.argv[1:]]))
`;
