/**
 * Each difference is one of three things: a deliberate difference (a §9 row whose rule explains
 * it), bookkeeping (cards only dataman writes, or that depend on when the file was processed),
 * or unexpected. Pure: the tables in deliberate-differences.ts and here decide.
 */
import { numberOf } from './card-values.js';
import { DELIBERATE_DIFFERENCES, rowsForKeyword, TIME_AGREEMENT_DAYS, type CardDifference, type PairHeaders } from './deliberate-differences.js';

export type Classification =
  | { kind: 'deliberate'; row: number }
  | { kind: 'bookkeeping'; why: string }
  | { kind: 'unexpected' };

/**
 * Cards that differ on every file by design. CHECKSUM/DATASUM: dataman writes them into every
 * HDU (behaviour.md §6), the reference none; UNIQNAME: the local clock at processing time
 * (raw-format.md §10.2), which two services never share to the second.
 */
export const BOOKKEEPING: Readonly<Record<string, string>> = {
  CHECKSUM: 'HDU checksum (dataman writes it, behaviour.md §6)',
  DATASUM: 'data checksum (dataman writes it, behaviour.md §6)',
  UNIQNAME: 'the processing time (local clock)',
};

/** Time keywords agree to within a few microseconds (behaviour.md §4): closer is no difference. */
const TIME_KEYWORDS = new Set(['MJD-OBS', 'HJD-OBS', 'BJD-OBS']);

export function isAgreement(d: CardDifference): boolean {
  if (!TIME_KEYWORDS.has(d.keyword)) return false;
  const a = numberOf(d.a);
  const b = numberOf(d.b);
  return a !== undefined && b !== undefined && Math.abs(a - b) <= TIME_AGREEMENT_DAYS && (d.a?.comment ?? '').trim() === (d.b?.comment ?? '').trim();
}

export function classifyCard(d: CardDifference, headers: PairHeaders): Classification {
  const bookkeeping = BOOKKEEPING[d.keyword];
  if (bookkeeping !== undefined) return { kind: 'bookkeeping', why: bookkeeping };
  for (const row of rowsForKeyword(d.keyword)) {
    if (row.cards!.rule(d, headers)) return { kind: 'deliberate', row: row.row };
  }
  return { kind: 'unexpected' };
}

/** An HDU only the reference has: a §9 row may explain it (a second MERGED, row 8). */
export function classifyExtraReferenceHdu(name: string): Classification {
  const row = DELIBERATE_DIFFERENCES.find((r) => r.extraHduInReference?.(name));
  return row === undefined ? { kind: 'unexpected' } : { kind: 'deliberate', row: row.row };
}
