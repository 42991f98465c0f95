/**
 * Image data units (FITS Standard 4.0 §5, §7.1): big-endian values of BITPIX 8/16/32/64/−32/−64,
 * scaled to physical values by BZERO and BSCALE.
 */
import type { Hdu } from './hdu.js';
import type { ByteSource } from './source.js';
import { BadHeaderError, TruncatedFitsError } from './errors.js';

export interface ImageData {
  /** NAXIS1…NAXISn. */
  axes: number[];
  /** Physical values (BZERO + BSCALE × stored), first axis varying fastest. */
  values: Float64Array;
}

/** The stored bytes of an HDU's data unit (without padding). */
export async function readDataBytes(source: ByteSource, hdu: Hdu): Promise<Buffer> {
  const bytes = await source.read(hdu.dataOffset, hdu.dataBytes);
  if (bytes.length < hdu.dataBytes) {
    throw new TruncatedFitsError(`data unit is ${hdu.dataBytes - bytes.length} bytes short`, {
      path: source.path, hduIndex: hdu.index, offset: hdu.dataOffset + bytes.length,
    });
  }
  return bytes;
}

/** Decodes stored big-endian values to physical values. */
export function decodeImage(hdu: Hdu, bytes: Uint8Array): Float64Array {
  const count = hdu.axes.reduce((a, b) => a * b, hdu.axes.length === 0 ? 0 : 1);
  const size = Math.abs(hdu.bitpix) / 8;
  if (bytes.byteLength < count * size) {
    throw new BadHeaderError(`NAXISn imply ${count * size} bytes of image data but the data unit holds ${bytes.byteLength} (GCOUNT = ${hdu.gcount})`, { hduIndex: hdu.index });
  }
  const bzero = hdu.header.number('BZERO') ?? 0;
  const bscale = hdu.header.number('BSCALE') ?? 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  const read = storedValueReader(hdu.bitpix, hdu.index);
  for (let i = 0; i < count; i++) out[i] = bzero + bscale * read(view, i * size);
  return out;
}

/** Reads one stored (unscaled) big-endian value of the given BITPIX at a byte offset. */
export function storedValueReader(bitpix: number, hduIndex?: number): (view: DataView, offset: number) => number {
  switch (bitpix) {
    case 8: return (v, o) => v.getUint8(o);
    case 16: return (v, o) => v.getInt16(o);
    case 32: return (v, o) => v.getInt32(o);
    case 64: return (v, o) => Number(v.getBigInt64(o));
    case -32: return (v, o) => v.getFloat32(o);
    case -64: return (v, o) => v.getFloat64(o);
    default: throw new BadHeaderError(`BITPIX = ${bitpix} is not one of 8, 16, 32, 64, -32, -64`, { hduIndex });
  }
}

/** Reads and decodes an image HDU. */
export async function readImage(source: ByteSource, hdu: Hdu): Promise<ImageData> {
  return { axes: hdu.axes, values: decodeImage(hdu, await readDataBytes(source, hdu)) };
}

/** Encodes float32 values big-endian, as a BITPIX −32 data unit needs. */
export function encodeFloat32BigEndian(values: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (!little) return Buffer.from(bytes);
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3]!;
    out[i + 1] = bytes[i + 2]!;
    out[i + 2] = bytes[i + 1]!;
    out[i + 3] = bytes[i]!;
  }
  return out;
}
