import type { Header } from '../fits/index.js';

export interface Binning {
  columns: number;
  rows: number;
}

/**
 * The binning of a MODS image from `CCDSUM = '<colbin> <rowbin>'` of the given headers (first
 * that has a readable one), or `undefined` when none has.
 */
export function readBinning(...headers: Header[]): Binning | undefined {
  for (const header of headers) {
    const text = header.string('CCDSUM');
    const m = text === undefined ? null : /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
    if (m) {
      const columns = Number(m[1]);
      const rows = Number(m[2]);
      if (columns >= 1 && rows >= 1) return { columns, rows };
    }
  }
  return undefined;
}
