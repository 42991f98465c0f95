/**
 * The deliberate differences from the reference (behaviour.md §9), one entry per row: its text
 * (the table in behaviour.md is checked against it row for row) and, for a row that changes
 * header cards, the rule that recognises such a difference. A new deliberate difference is one
 * entry here and one row there.
 *
 * The comparison holds the reference's output (A, the Python dataMan) against dataman's (B) for
 * the same raw file. A rule checks both sides: A holds what the reference computes from the raw
 * header, B what dataman computes, the raw inputs being read from B (cards neither program edits:
 * REF-PIX1/2, NAXISn, OVRSCAN1, CCDSUM, UTC-OBS). A card that differs in any other way is not
 * explained by the row.
 */
import type { Card, Header } from '../fits/index.js';
import { readBinning } from '../steps/binning.js';
import { detectorSections } from '../steps/fix-detsec.js';
import { cardText, numberOf } from './card-values.js';

/** One card of one HDU that differs between A (reference) and B (dataman). */
export interface CardDifference {
  /** `PRIMARY`, or the HDU's EXTNAME (with `#2` for a second HDU of the same name). */
  hdu: string;
  keyword: string;
  /** The card in A; undefined when A lacks it. */
  a: Card | undefined;
  b: Card | undefined;
}

/** What a rule may look at besides the difference: both files' headers. */
export interface PairHeaders {
  /** This HDU's header in A and in B. */
  a: Header;
  b: Header;
  /** B's primary header and B's IM1..IM4 headers (by EXTNAME), where the raw inputs are read. */
  bPrimary: Header;
  bImages: ReadonlyMap<string, Header>;
}

export type CardRule = (d: CardDifference, headers: PairHeaders) => boolean;

export interface DeliberateDifference {
  row: number;
  /** What the reference (v1.2.4) does: the table's middle column, as written in behaviour.md. */
  reference: string;
  /** What dataman does instead: the table's last column. */
  dataman: string;
  /** Absent: the row changes no header card (it is about logs, delivery, failures...). */
  cards?: { keywords: readonly string[]; rule: CardRule };
  /** An HDU present in A only that this row explains. */
  extraHduInReference?: (extname: string) => boolean;
}

export const DELIBERATE_DIFFERENCES: readonly DeliberateDifference[] = [
  {
    row: 1,
    reference: '`DETSEC`/`CCDSEC` of IM2 and IM4 start at `c0+nc+ncb`, 64 columns off for 32 overscan columns and at odds with its own `LTV1`',
    dataman: 'start at `c0+nc−ncb`, agreeing with `LTV1` (full frame `[8292:4147,…]`)',
    cards: { keywords: ['DETSEC', 'CCDSEC'], rule: (d, h) => sectionRule(d, h, 'unbinned') },
  },
  {
    row: 2,
    reference: '`DETSEC`, `CCDSEC`, `CCDROI` and `LTV1`/`LTV2` ignore binning',
    dataman: "in unbinned detector pixels, whatever the binning (`LTV` from the file's own `LTM`)",
    cards: { keywords: ['DETSEC', 'CCDSEC', 'CCDROI', 'LTV1', 'LTV2'], rule: (d, h) => sectionRule(d, h, 'binned') },
  },
  {
    row: 3,
    reference: 'HJD and BJD silently left out when the site registry is offline, `TELRA`/`TELDEC` are missing, or anything else fails',
    dataman: 'site from the config; a missing input is a warning that names it',
    // The reference left them out; dataman computed them (its inputs were there).
    cards: { keywords: ['HJD-OBS', 'BJD-OBS'], rule: (d) => d.a === undefined && numberOf(d.b) !== undefined },
  },
  {
    row: 4,
    reference: 'a `UTC-OBS` fraction `.1000` read as 0.1 s of the minute field',
    dataman: 'carried into the seconds (`:33.1000` gives `:34.000`)',
    cards: { keywords: ['DATE-OBS', 'MJD-OBS', 'HJD-OBS', 'BJD-OBS'], rule: utcFractionRule },
  },
  {
    row: 5,
    reference: 'one missing `NSTYPE` or `NSEPHFIL` sets both to `None`',
    dataman: 'each handled on its own',
    cards: { keywords: ['NSTYPE', 'NSEPHFIL'], rule: nonSiderealNamesRule },
  },
  {
    row: 6,
    reference: "`NONSIDER='0'` (a string) becomes `T`",
    dataman: 'read as a number',
    // Python's truth of a non-empty string is T; dataman reads the text as a number or a logical.
    cards: { keywords: ['NONSIDER'], rule: (d) => d.a?.kind === 'logical' && d.a.value === true && ((d.b?.kind === 'logical' && d.b.value === false) || d.b?.kind === 'string') },
  },
  {
    row: 7,
    reference: 'no CONPARS, a truncated file, no `INSTRUME`/`REF-PIX`/`OVRSCAN1`, a `nan` temperature: the worker thread dies, no output, no log',
    dataman: 'a clear error in the log and the ledger; a step that cannot run is skipped with a warning when the others can',
  },
  {
    row: 8,
    reference: 'processing a processed file doubles `DATE-OBS` and adds a second MERGED',
    dataman: 'idempotent',
    cards: { keywords: ['DATE-OBS'], rule: doubledDateRule },
    extraHduInReference: (extname) => extname === 'MERGED#2',
  },
  { row: 9, reference: 'HDUs found by position', dataman: 'CONPARS and MERGED found by `EXTNAME`' },
  {
    row: 10,
    reference: 'the copy into `/newdata` is not atomic; `.new` is truncated then rewritten, and names the original after a name clash',
    dataman: '§6',
  },
  { row: 11, reference: 'a thread per datagram, no queue, no deduplication, no retry, no record', dataman: '§2, §5, §6' },
  { row: 12, reference: "the log file's name is fixed at start", dataman: 'follows the observing date' },
  {
    row: 13,
    reference: 'processes a triggered file at once, with no check that it is whole',
    dataman: 'a triggered file must be structurally whole and is checked unchanged right before it is named (§3); a file found without a trigger also settles',
  },
  {
    row: 14,
    reference: 'moves `<CHAN>.new` to every file it is told about, so a catch-up or a late file sends modsDisp back to an old frame',
    dataman: 'the pointer moves only to an exposure not earlier than the one it names (`DATE-OBS`, then the sequence number); earlier files are delivered without it (§6 step 3)',
  },
];

/** The rows with a card rule for `keyword`, in row order. */
export function rowsForKeyword(keyword: string): readonly DeliberateDifference[] {
  return DELIBERATE_DIFFERENCES.filter((r) => r.cards?.keywords.includes(keyword));
}

// ---- rows 1 and 2: the detector sections -------------------------------------------------

interface SectionInputs { c0: number; r0: number; nc: number; nr: number; ncb: number; bx: number; by: number; ltm11: number; ltm22: number }

function sectionInputs(h: PairHeaders): SectionInputs | undefined {
  const im1 = h.bImages.get('IM1');
  if (im1 === undefined) return undefined;
  const c0 = h.bPrimary.number('REF-PIX1');
  const r0 = h.bPrimary.number('REF-PIX2');
  const nc = im1.number('NAXIS1');
  const nr = im1.number('NAXIS2');
  const ncb = im1.number('OVRSCAN1');
  if (c0 === undefined || r0 === undefined || nc === undefined || nr === undefined || ncb === undefined) return undefined;
  const binning = readBinning(im1, h.bPrimary);
  const bx = binning?.columns ?? 1;
  const by = binning?.rows ?? 1;
  return {
    c0: Math.trunc(c0), r0: Math.trunc(r0), nc, nr, ncb, bx, by,
    ltm11: h.bImages.get('IM2')?.number('LTM1_1') ?? -1 / bx,
    ltm22: h.bImages.get('IM3')?.number('LTM2_2') ?? 1 / by,
  };
}

const AMPLIFIERS = ['IM1', 'IM2', 'IM3', 'IM4'];

/** What the reference writes (raw-format.md §8.2): binning ignored, IM2/IM4 from c0+nc+ncb. */
function referenceSections(i: SectionInputs): Record<string, string | number | undefined> {
  const { c0, r0, nc, nr, ncb } = i;
  const lower = `${r0 - nr + 1}:${r0}`;
  const upper = `${r0 + 1}:${r0 + nr}`;
  const left = `${c0 - nc + ncb + 1}:${c0}`;
  const right = `${c0 + nc + ncb}:${c0 + 1}`;
  const detsec = [`[${left},${lower}]`, `[${right},${lower}]`, `[${left},${upper}]`, `[${right},${upper}]`];
  return {
    ...sectionCards(detsec),
    'IM2 LTV1': c0 + nc - ncb + 1, 'IM4 LTV1': c0 + nc - ncb + 1, 'IM3 LTV2': -r0, 'IM4 LTV2': -r0,
    CCDROI: `[${c0 - nc + ncb + 1}:${c0 + nc - ncb},${r0 - nr + 1}:${r0 + nr}]`,
  };
}

/** What dataman writes: the step's own formulas (src/steps/fix-detsec.ts, fix-misc.ts). */
function datamanSections(i: SectionInputs): Record<string, string | number | undefined> {
  const s = detectorSections(i.c0, i.r0, i.nc, i.nr, i.ncb, i.bx, i.by, i.ltm11, i.ltm22);
  const w = (i.nc - i.ncb) * i.bx;
  const rows = i.nr * i.by;
  return {
    ...sectionCards(s.detsec),
    'IM2 LTV1': s.ltv1Flipped, 'IM4 LTV1': s.ltv1Flipped, 'IM3 LTV2': s.ltv2Upper, 'IM4 LTV2': s.ltv2Upper,
    CCDROI: `[${i.c0 - w + 1}:${i.c0 + w},${i.r0 - rows + 1}:${i.r0 + rows}]`,
  };
}

function sectionCards(detsec: readonly string[]): Record<string, string> {
  return Object.fromEntries(AMPLIFIERS.flatMap((im, k) => [[`${im} DETSEC`, detsec[k]!], [`${im} CCDSEC`, detsec[k]!]]));
}

function sectionRule(d: CardDifference, h: PairHeaders, when: 'binned' | 'unbinned'): boolean {
  const inputs = sectionInputs(h);
  if (inputs === undefined) return false;
  const binned = inputs.bx !== 1 || inputs.by !== 1;
  if (binned !== (when === 'binned')) return false;
  // CCDROI sits in the primary header and in MERGED's copy of it; the others in IM1..IM4.
  const name = d.keyword === 'CCDROI' ? 'CCDROI' : `${d.hdu} ${d.keyword}`;
  const expectedA = referenceSections(inputs)[name];
  const expectedB = datamanSections(inputs)[name];
  if (expectedA === undefined || expectedB === undefined) return false;
  return sameValue(d.a, expectedA) && sameValue(d.b, expectedB);
}

function sameValue(card: Card | undefined, expected: string | number): boolean {
  if (card === undefined) return false;
  return typeof expected === 'number' ? numberOf(card) === expected : cardText(card) === expected;
}

// ---- row 4: a UTC-OBS fraction of .1000 ---------------------------------------------------

/** The reference reads `.1000` as 0.1 s where dataman carries a whole second: A is 0.9 s earlier. */
const FRACTION_SHIFT_DAYS = 0.9 / 86400;
/** How closely the time keywords of the two programs agree otherwise (behaviour.md §4). */
export const TIME_AGREEMENT_DAYS = 10e-6 / 86400;

function utcFractionRule(d: CardDifference, h: PairHeaders): boolean {
  const utc = h.b.string('UTC-OBS')?.trim();
  if (utc === undefined || !/\.1000$/.test(utc)) return false;
  if (d.keyword === 'DATE-OBS') {
    const ours = d.b === undefined ? undefined : cardText(d.b);
    const date = ours?.split('T')[0];
    return date !== undefined && d.a !== undefined && cardText(d.a) === `${date}T${utc}`;
  }
  const a = numberOf(d.a);
  const b = numberOf(d.b);
  return a !== undefined && b !== undefined && Math.abs(b - a - FRACTION_SHIFT_DAYS) <= TIME_AGREEMENT_DAYS;
}

// ---- row 5: NSTYPE / NSEPHFIL -------------------------------------------------------------

function nonSiderealNamesRule(d: CardDifference, h: PairHeaders): boolean {
  const other = d.keyword === 'NSTYPE' ? 'NSEPHFIL' : 'NSTYPE';
  const a = d.a === undefined ? undefined : cardText(d.a);
  const b = d.b === undefined ? undefined : cardText(d.b);
  // The reference overwrote a good value with 'None' because the other one was missing (dataman
  // then wrote 'None' for that one alone).
  return a === 'None' && b !== undefined && b !== '' && b !== 'None' && h.b.string(other)?.trim() === 'None';
}

// ---- row 8: a processed file processed again ------------------------------------------------

function doubledDateRule(d: CardDifference, h: PairHeaders): boolean {
  const utc = h.b.string('UTC-OBS')?.trim();
  if (d.a === undefined || d.b === undefined || utc === undefined) return false;
  return cardText(d.a) === `${cardText(d.b)}T${utc}`;
}
