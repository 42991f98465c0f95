/**
 * What `dataman compare` prints: one line per file (its verdict and why), a summary for folders,
 * or with --json one JSON object per file and one for the summary.
 */
import type { Finding, PairReport } from './compare-pair.js';

export type FileOutcome =
  | { kind: 'pair'; report: PairReport }
  | { kind: 'error'; name: string; message: string }
  | { kind: 'only-in-a' | 'only-in-b'; name: string; path: string };

export interface Summary {
  files: number;
  identical: number;
  expectedOnly: number;
  unexpected: number;
  /** Pairs that could not be compared (not FITS): counted in `unexpected` as well. */
  unreadable: number;
  onlyInA: number;
  onlyInB: number;
}

export function summarise(outcomes: readonly FileOutcome[]): Summary {
  const s: Summary = { files: 0, identical: 0, expectedOnly: 0, unexpected: 0, unreadable: 0, onlyInA: 0, onlyInB: 0 };
  for (const o of outcomes) {
    switch (o.kind) {
      case 'only-in-a': s.onlyInA++; break;
      case 'only-in-b': s.onlyInB++; break;
      case 'error': s.files++; s.unreadable++; s.unexpected++; break;
      case 'pair':
        s.files++;
        if (o.report.verdict === 'identical') s.identical++;
        else if (o.report.verdict === 'expected') s.expectedOnly++;
        else s.unexpected++;
        break;
    }
  }
  return s;
}

/** Clean: every pair compared, nothing unexpected, nothing unpaired. */
export function isClean(s: Summary): boolean {
  return s.unexpected === 0 && s.onlyInA === 0 && s.onlyInB === 0;
}

export function fileLine(o: FileOutcome): string {
  switch (o.kind) {
    case 'only-in-a': return `only in A   ${o.name} (no file of that name in B)`;
    case 'only-in-b': return `only in B   ${o.name} (no file of that name in A)`;
    case 'error': return `ERROR       ${o.name}: ${o.message}`;
    case 'pair': {
      const r = o.report;
      if (r.verdict === 'identical') return `identical   ${r.name}`;
      const expected = expectedCounts(r.findings);
      if (r.verdict === 'expected') return `expected    ${r.name}: ${expected}`;
      const unexpected = r.findings.filter((f) => f.classification.kind === 'unexpected').map(findingText);
      return `UNEXPECTED  ${r.name}: ${unexpected.join('; ')}${expected ? ` (expected: ${expected})` : ''}`;
    }
  }
}

/** `bookkeeping 14, §9 row 1 ×4, row 4 ×4`. */
function expectedCounts(findings: readonly Finding[]): string {
  let bookkeeping = 0;
  const rows = new Map<number, number>();
  for (const f of findings) {
    if (f.classification.kind === 'bookkeeping') bookkeeping++;
    if (f.classification.kind === 'deliberate') rows.set(f.classification.row, (rows.get(f.classification.row) ?? 0) + 1);
  }
  const parts = bookkeeping > 0 ? [`bookkeeping ×${bookkeeping}`] : [];
  const sorted = [...rows].sort(([x], [y]) => x - y);
  if (sorted.length > 0) parts.push(`§9 ${sorted.map(([row, n]) => `row ${row} ×${n}`).join(', ')}`);
  return parts.join(', ');
}

export function findingText(f: Finding): string {
  if (f.keyword === undefined) return f.what;
  return `${f.hdu} ${f.keyword}: A ${f.a ?? '(absent)'}, B ${f.b ?? '(absent)'}`;
}

export function summaryLine(s: Summary): string {
  const unread = s.unreadable > 0 ? ` (${s.unreadable} not readable as FITS)` : '';
  return `${s.files} files compared: ${s.identical} identical, ${s.expectedOnly} expected-only, ${s.unexpected} unexpected${unread}; `
    + `unpaired: ${s.onlyInA} only in A, ${s.onlyInB} only in B — ${isClean(s) ? 'clean' : 'NOT clean'}`;
}

export function fileJson(o: FileOutcome): string {
  switch (o.kind) {
    case 'only-in-a':
    case 'only-in-b': return JSON.stringify({ name: o.name, verdict: o.kind, path: o.path });
    case 'error': return JSON.stringify({ name: o.name, verdict: 'error', error: o.message });
    case 'pair': {
      const r = o.report;
      return JSON.stringify({
        name: r.name, a: r.a, b: r.b, verdict: r.verdict,
        findings: r.findings.map((f) => ({ hdu: f.hdu, keyword: f.keyword, a: f.a, b: f.b, what: f.what, ...f.classification })),
        pixels: r.pixels,
      });
    }
  }
}

export function summaryJson(s: Summary): string {
  return JSON.stringify({ summary: { ...s, clean: isClean(s) } });
}
