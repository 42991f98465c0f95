/**
 * One pair: the reference's processed file (A) and dataman's (B) of the same raw file. Every HDU
 * is matched by EXTNAME (the primary by position), every card compared and classified, the pixels
 * of IM1..IM4 and MERGED compared. A file that is not FITS throws (the caller names it); a
 * truncated one, or a missing HDU, is a finding, never a crash.
 */
import { FileSource, FitsError, NotFitsError, readStructure, type Card, type FitsStructure, type Hdu, type Header } from '../fits/index.js';
import { DatamanError } from '../errors.js';
import { classifyCard, classifyExtraReferenceHdu, isAgreement, type Classification } from './classify.js';
import { describeCard } from './card-values.js';
import { headerDifferences } from './header-diff.js';
import { comparePixels, type PixelComparison } from './pixels.js';
import type { PairHeaders } from './deliberate-differences.js';

export const PIXEL_HDUS = ['IM1', 'IM2', 'IM3', 'IM4', 'MERGED'];

export interface Finding {
  hdu: string;
  /** The keyword, or undefined for a finding about the HDU or the file. */
  keyword?: string;
  a?: string;
  b?: string;
  what: string;
  classification: Classification;
}

export interface PairReport {
  name: string;
  a: string;
  b: string;
  /** Bytes read (both files), for the progress line. */
  bytes: number;
  findings: Finding[];
  pixels: PixelComparison[];
  verdict: 'identical' | 'expected' | 'unexpected';
}

/** A file the comparison cannot read as FITS at all (not a FITS file, a garbled header). */
export class NotComparableError extends DatamanError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('compare-not-fits', message, options);
  }
}

export async function comparePair(name: string, pathA: string, pathB: string): Promise<PairReport> {
  const [sourceA, sourceB] = await Promise.all([FileSource.open(pathA), FileSource.open(pathB)]);
  try {
    const [a, b] = [await structureOf(sourceA), await structureOf(sourceB)];
    const findings: Finding[] = [];
    for (const [side, s] of [['A', a], ['B', b]] as const) {
      if (s.truncation) findings.push({ hdu: 'file', what: `${side} is truncated: ${s.truncation.detail}`, classification: { kind: 'unexpected' } });
    }
    const hdusA = byName(a.hdus);
    const hdusB = byName(b.hdus);
    const pairHeaders = (ha: Header, hb: Header): PairHeaders => ({
      a: ha, b: hb, bPrimary: b.hdus[0]!.header,
      bImages: new Map(['IM1', 'IM2', 'IM3', 'IM4'].flatMap((n) => { const h = hdusB.get(n); return h ? [[n, h.header] as const] : []; })),
    });
    const pixels: PixelComparison[] = [];
    for (const [hduName, hduA] of hdusA) {
      const hduB = hdusB.get(hduName);
      if (hduB === undefined) {
        findings.push({ hdu: hduName, what: `HDU ${hduName} is in A only`, classification: classifyExtraReferenceHdu(hduName) });
        continue;
      }
      for (const d of headerDifferences(hduName, hduA.header, hduB.header)) {
        if (isAgreement(d)) continue;
        findings.push({
          hdu: hduName, keyword: d.keyword, a: describeCard(d.a), b: describeCard(d.b), what: cardWhat(d.a, d.b),
          classification: classifyCard(d, pairHeaders(hduA.header, hduB.header)),
        });
      }
      // The images pixel by pixel; any other data unit (the CONPARS table) byte by byte.
      if (hduA.dataBytes > 0 || hduB.dataBytes > 0) {
        if (!whole(hduA, a) || !whole(hduB, b)) continue; // the truncation is already a finding
        const image = PIXEL_HDUS.includes(hduName);
        const p = await comparePixels(hduName, { source: sourceA, hdu: hduA }, { source: sourceB, hdu: hduB });
        if (image) pixels.push(p);
        if (!p.equal) findings.push({ hdu: hduName, what: pixelWhat(p, image ? 'pixels' : 'bytes of the data unit'), classification: { kind: 'unexpected' } });
      }
    }
    for (const hduName of hdusB.keys()) {
      if (!hdusA.has(hduName)) findings.push({ hdu: hduName, what: `HDU ${hduName} is in B only`, classification: { kind: 'unexpected' } });
    }
    const unexpected = findings.some((f) => f.classification.kind === 'unexpected');
    return {
      name, a: pathA, b: pathB, bytes: a.fileLength + b.fileLength, findings, pixels,
      verdict: unexpected ? 'unexpected' : findings.length > 0 ? 'expected' : 'identical',
    };
  } finally {
    await Promise.all([sourceA.close(), sourceB.close()]);
  }
}

async function structureOf(source: FileSource): Promise<FitsStructure> {
  try {
    return await readStructure(source);
  } catch (err) {
    if (!(err instanceof FitsError)) throw err;
    const what = err instanceof NotFitsError ? 'not a FITS file' : 'not readable as FITS';
    throw new NotComparableError(`${source.path}: ${what}: ${err.detail}`, { cause: err });
  }
}

/** HDUs by name: PRIMARY, EXTNAME, or `HDU<n>` without one; a repeated name gets `#2`, `#3`... */
function byName(hdus: readonly Hdu[]): Map<string, Hdu> {
  const map = new Map<string, Hdu>();
  for (const hdu of hdus) {
    const base = hdu.index === 0 ? 'PRIMARY' : (hdu.extname?.trim().toUpperCase() || `HDU${hdu.index}`);
    let name = base;
    for (let n = 2; map.has(name); n++) name = `${base}#${n}`;
    map.set(name, hdu);
  }
  return map;
}

function whole(hdu: Hdu, s: FitsStructure): boolean {
  return hdu.dataOffset + hdu.dataBytes <= s.fileLength;
}

function cardWhat(a: Card | undefined, b: Card | undefined): string {
  if (a === undefined) return 'in B only';
  if (b === undefined) return 'in A only';
  return 'differs';
}

function pixelWhat(p: PixelComparison, what: string): string {
  if (p.problem !== undefined) return `${p.hdu} ${what} not compared: ${p.problem}`;
  const l = p.largest!;
  return `${p.hdu}: ${p.differing} ${what} differ, largest |B−A| ${l.difference} at (${l.x}, ${l.y}): A ${l.a}, B ${l.b}`;
}
