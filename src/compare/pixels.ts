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
  const taken = [takeBuffer(), takeBuffer(), takeBuffer(), takeBuffer()] as const;
  try {
    return await compareChunks(name, { ...a, decode: decoder(a.hdu) }, { ...b, decode: decoder(b.hdu) }, taken);
  } finally {
    giveBack(taken);
  }
}

interface Side { source: ByteSource; hdu: Hdu; decode: Decoder }

/** The chunk loop: one chunk compared while the next is read (the thread pool reads ahead). */
async function compareChunks(name: string, a: Side, b: Side, buffers: readonly [Buffer, Buffer, Buffer, Buffer]): Promise<PixelComparison> {
  const sameEncoding = a.hdu.bitpix === b.hdu.bitpix && a.decode.scale === b.decode.scale && a.decode.zero === b.decode.zero;
  const bytesA = Math.abs(a.hdu.bitpix) / 8;
  const bytesB = Math.abs(b.hdu.bitpix) / 8;
  const total = a.hdu.dataBytes / bytesA;
  const width = a.hdu.axes[0] ?? 1;
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(bytesA, bytesB)));
  const result: PixelComparison = { hdu: name, equal: true, differing: 0 };
  const [a0, b0, a1, b1] = buffers;
  const read = (first: number, k: number) => {
    const n = Math.min(perChunk, total - first);
    const [intoA, intoB] = k % 2 === 0 ? [a0, b0] : [a1, b1];
    return Promise.all([
      a.source.read(a.hdu.dataOffset + first * bytesA, n * bytesA, intoA.subarray(0, n * bytesA)),
      b.source.read(b.hdu.dataOffset + first * bytesB, n * bytesB, intoB.subarray(0, n * bytesB)),
    ]);
  };
  let pending = total > 0 ? read(0, 0) : undefined;
  try {
    for (let first = 0, k = 0; pending !== undefined; first += perChunk, k++) {
      const [chunkA, chunkB] = await pending;
      const next = first + perChunk;
      pending = next < total ? read(next, k + 1) : undefined;
      pending?.catch(() => undefined); // awaited on the next turn or below; must not go unhandled meanwhile
      const n = Math.min(perChunk, total - first);
      if (chunkA.length < n * bytesA || chunkB.length < n * bytesB) {
        return { ...result, equal: false, problem: 'the data unit ends early (file truncated?)' };
      }
      if (sameEncoding && chunkA.equals(chunkB)) continue;
      for (let i = 0; i < n; i++) {
        const x = a.decode.value(chunkA, i);
        const y = b.decode.value(chunkB, i);
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
  } finally {
    // No read may still be landing in a buffer once it is given back.
    await pending?.catch(() => undefined);
  }
}

/**
 * Chunk buffers, reused from pair to pair: a night of thousands of images allocates a few, and
 * the peak memory does not wait on the garbage collector.
 */
const spare: Buffer[] = [];

function takeBuffer(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

function giveBack(buffers: readonly Buffer[]): void {
  spare.push(...buffers);
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
