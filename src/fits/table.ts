/**
 * Binary table data units (FITS Standard 4.0 §7.3): fixed-width rows of NAXIS1 bytes, columns
 * described by TTYPEn / TFORMn. Supports the scalar and fixed-length-array types A, L, X, B, I,
 * J, K, E, D, C, M (variable-length P/Q descriptors are reported but not followed).
 */
import type { Hdu } from './hdu.js';
import type { ByteSource } from './source.js';
import { readDataBytes } from './image.js';
import { BadHeaderError, type FitsLocation } from './errors.js';

export type ColumnType = 'A' | 'L' | 'X' | 'B' | 'I' | 'J' | 'K' | 'E' | 'D' | 'C' | 'M' | 'P' | 'Q';

export interface Column {
  name: string;
  /** The TFORM text, e.g. `20A`. */
  format: string;
  type: ColumnType;
  /** Repeat count r of `rT`. */
  repeat: number;
  /** Byte offset of the field within a row. */
  offset: number;
  /** Field width in bytes. */
  width: number;
}

const TYPE_SIZE: Record<ColumnType, number> = {
  A: 1, L: 1, X: 0, B: 1, I: 2, J: 4, K: 8, E: 4, D: 8, C: 8, M: 16, P: 8, Q: 16,
};

export type CellValue = string | number | bigint | boolean | null | Array<number | bigint | boolean | null | [number, number]> | [number, number];

/** Parses TFORMn and lays the columns out within a row. */
export function tableColumns(hdu: Hdu, path?: string): Column[] {
  const loc: FitsLocation = { path, hduIndex: hdu.index };
  if (hdu.type !== 'BINTABLE') throw new BadHeaderError(`HDU ${hdu.index} is ${hdu.type}, not BINTABLE`, loc);
  const fields = hdu.header.number('TFIELDS');
  if (fields === undefined || !Number.isInteger(fields) || fields < 0 || fields > 999) {
    throw new BadHeaderError('TFIELDS is missing or not an integer in 0..999', { ...loc, keyword: 'TFIELDS' });
  }
  const columns: Column[] = [];
  let offset = 0;
  for (let i = 1; i <= fields; i++) {
    const format = hdu.header.string(`TFORM${i}`);
    const m = format === undefined ? null : /^\s*(\d*)([ALXBIJKEDCMPQ])/.exec(format);
    if (format === undefined || m === null) {
      throw new BadHeaderError(`TFORM${i} = ${JSON.stringify(format ?? null)} is not a binary table format`, { ...loc, keyword: `TFORM${i}` });
    }
    const repeat = m[1] === '' ? 1 : Number(m[1]);
    const type = m[2] as ColumnType;
    const width = type === 'X' ? Math.ceil(repeat / 8) : repeat * TYPE_SIZE[type];
    columns.push({ name: hdu.header.string(`TTYPE${i}`) ?? `COL${i}`, format, type, repeat, offset, width });
    offset += width;
  }
  const rowBytes = hdu.axes[0] ?? 0;
  if (offset !== rowBytes) {
    throw new BadHeaderError(`TFORMn add up to ${offset} bytes per row but NAXIS1 = ${rowBytes}`, { ...loc, keyword: 'NAXIS1' });
  }
  return columns;
}

/** Decodes one cell. Strings lose trailing NULs and spaces (as FITS readers conventionally do). */
export function readCell(view: DataView, rowOffset: number, col: Column): CellValue {
  const at = rowOffset + col.offset;
  if (col.type === 'A') {
    let s = '';
    for (let i = 0; i < col.repeat; i++) {
      const c = view.getUint8(at + i);
      if (c === 0) break; // a NUL ends the string (§7.3.3.1)
      s += String.fromCharCode(c);
    }
    return s.trimEnd();
  }
  if (col.type === 'X') {
    const bits: boolean[] = [];
    for (let i = 0; i < col.repeat; i++) bits.push(((view.getUint8(at + (i >> 3)) >> (7 - (i & 7))) & 1) === 1);
    return bits;
  }
  const size = TYPE_SIZE[col.type];
  const values: Array<number | bigint | boolean | null | [number, number]> = [];
  for (let i = 0; i < col.repeat; i++) {
    const o = at + i * size;
    switch (col.type) {
      case 'L': {
        const c = view.getUint8(o);
        values.push(c === 0x54 ? true : c === 0x46 ? false : null);
        break;
      }
      case 'B': values.push(view.getUint8(o)); break;
      case 'I': values.push(view.getInt16(o)); break;
      case 'J': values.push(view.getInt32(o)); break;
      case 'K': {
        const v = view.getBigInt64(o);
        values.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 'E': values.push(view.getFloat32(o)); break;
      case 'D': values.push(view.getFloat64(o)); break;
      case 'C': values.push([view.getFloat32(o), view.getFloat32(o + 4)]); break;
      case 'M': values.push([view.getFloat64(o), view.getFloat64(o + 8)]); break;
      case 'P': values.push([view.getInt32(o), view.getInt32(o + 4)]); break;
      case 'Q': values.push([Number(view.getBigInt64(o)), Number(view.getBigInt64(o + 8))]); break;
    }
  }
  return col.repeat === 1 ? values[0]! : values;
}

export interface TableData {
  columns: Column[];
  /** One object per row, keyed by column name. */
  rows: Array<Record<string, CellValue>>;
}

/** Reads a whole binary table (meant for small tables such as CONPARS). */
export async function readTable(source: ByteSource, hdu: Hdu): Promise<TableData> {
  const columns = tableColumns(hdu, source.path);
  const bytes = await readDataBytes(source, hdu);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rowBytes = hdu.axes[0] ?? 0;
  const nRows = hdu.axes[1] ?? 0;
  if (bytes.length < rowBytes * nRows) {
    throw new BadHeaderError(`NAXIS1 x NAXIS2 imply ${rowBytes * nRows} bytes of rows but the data unit holds ${bytes.length} (GCOUNT = ${hdu.gcount})`, {
      path: source.path, hduIndex: hdu.index,
    });
  }
  const rows: Array<Record<string, CellValue>> = [];
  for (let r = 0; r < nRows; r++) {
    const row: Record<string, CellValue> = {};
    for (const col of columns) row[col.name] = readCell(view, r * rowBytes, col);
    rows.push(row);
  }
  return { columns, rows };
}
