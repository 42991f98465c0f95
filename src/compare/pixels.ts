/**
 * The pixels of one image HDU in A and B, compared in chunks (memory stays flat whatever the
 * frame size): equal, or the largest difference of the physical values (BZERO/BSCALE applied)
 * and where it is. Equal bytes under equal scaling are skipped without decoding, so a night of
 * identical images is compared at the disk's speed.
 */
import type { ByteSource, Hdu } from '../fits/index.js';

export interface PixelComparison {
  hdu: string;
  equal: boolean;
  /** Pixels that differ. */
  differing: number;
  /** The largest |B − A|, its pixel (FITS 1-based x, y) and both values; absent when equal. */
  largest?: { difference: number; x: number; y: number; a: number; b: number };
  /** Why the pixels could not be compared (shapes differ...): then `equal` is false. */
  problem?: string;
}

/** Bytes per read: a few MB keeps the reads large and the memory small. */
const CHUNK_BYTES = 4 * 1024 * 1024;

export async function comparePixels(name: string, a: { source: ByteSource; hdu: Hdu }, b: { source: ByteSource; hdu: Hdu }): Promise<PixelComparison> {
  const shapeA = a.hdu.axes.join('×');
  const shapeB = b.hdu.axes.join('×');
  if (shapeA !== shapeB) return { hdu: name, equal: false, differing: 0, problem: `shape ${shapeA || 'none'} in A, ${shapeB || 'none'} in B` };
  const decodeA = decoder(a.hdu);
  const decodeB = decoder(b.hdu);
  const sameEncoding = a.hdu.bitpix === b.hdu.bitpix && decodeA.scale === decodeB.scale && decodeA.zero === decodeB.zero;
  const bytesA = Math.abs(a.hdu.bitpix) / 8;
  const bytesB = Math.abs(b.hdu.bitpix) / 8;
  const total = a.hdu.dataBytes / bytesA;
  const width = a.hdu.axes[0] ?? 1;
  // A small image needs no more than its own size (a night of 1k frames allocates little).
  const perChunk = Math.max(1, Math.min(total, Math.floor(CHUNK_BYTES / Math.max(bytesA, bytesB))));
  const result: PixelComparison = { hdu: name, equal: true, differing: 0 };
  const buffers = [0, 1].map(() => ({ a: Buffer.allocUnsafe(perChunk * bytesA), b: Buffer.allocUnsafe(perChunk * bytesB) }));
  const read = (first: number, k: number) => {
    const n = Math.min(perChunk, total - first);
    const buf = buffers[k % 2]!;
    return Promise.all([
      a.source.read(a.hdu.dataOffset + first * bytesA, n * bytesA, buf.a.subarray(0, n * bytesA)),
      b.source.read(b.hdu.dataOffset + first * bytesB, n * bytesB, buf.b.subarray(0, n * bytesB)),
    ]);
  };
  // One chunk compared while the next is read (the thread pool reads ahead).
  let pending = total > 0 ? read(0, 0) : undefined;
  for (let first = 0, k = 0; pending !== undefined; first += perChunk, k++) {
    const [chunkA, chunkB] = await pending;
    const next = first + perChunk;
    pending = next < total ? read(next, k + 1) : undefined;
    pending?.catch(() => undefined); // awaited on the next turn; an early failure must not go unhandled
    const n = Math.min(perChunk, total - first);
    if (chunkA.length < n * bytesA || chunkB.length < n * bytesB) {
      await pending?.catch(() => undefined);
      return { ...result, equal: false, problem: 'the data unit ends early (file truncated?)' };
    }
    if (sameEncoding && chunkA.equals(chunkB)) continue;
    for (let i = 0; i < n; i++) {
      const x = decodeA.value(chunkA, i);
      const y = decodeB.value(chunkB, i);
      if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
      result.equal = false;
      result.differing++;
      const difference = Number.isNaN(x) || Number.isNaN(y) ? Infinity : Math.abs(y - x);
      if (result.largest === undefined || difference > result.largest.difference) {
        const index = first + i;
        result.largest = { difference, x: (index % width) + 1, y: Math.floor(index / width) + 1, a: x, b: y };
      }
    }
  }
  return result;
}

interface Decoder { scale: number; zero: number; value(bytes: Buffer, i: number): number }

function decoder(hdu: Hdu): Decoder {
  const scale = hdu.header.number('BSCALE') ?? 1;
  const zero = hdu.header.number('BZERO') ?? 0;
  const raw = rawReader(hdu.bitpix);
  const plain = scale === 1 && zero === 0;
  return { scale, zero, value: plain ? raw : (bytes, i) => raw(bytes, i) * scale + zero };
}

function rawReader(bitpix: number): (bytes: Buffer, i: number) => number {
  switch (bitpix) {
    case 8: return (b, i) => b.readUInt8(i);
    case 16: return (b, i) => b.readInt16BE(i * 2);
    case 32: return (b, i) => b.readInt32BE(i * 4);
    case 64: return (b, i) => Number(b.readBigInt64BE(i * 8));
    case -32: return (b, i) => b.readFloatBE(i * 4);
    case -64: return (b, i) => b.readDoubleBE(i * 8);
    default: throw new Error(`internal: BITPIX ${bitpix}`);
  }
}
