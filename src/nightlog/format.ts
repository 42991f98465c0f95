/**
 * One night-log line per image, in the fixed-width ASCII format of the OSU `modsLog`
 * (docs/nightlog.md; rwpogge/LBTUtils `Logging/modsLog.py`): fifteen primary-header keywords,
 * each formatted with a Python format spec and followed by one space.
 *
 * The reference's rules, kept here:
 * - a missing keyword prints as `''` (blank, padded to the column width);
 * - when the data format does not apply (a string where a number is expected, `'30.5'` in the
 *   PA column), the header format is used instead (`6.6s`: left-aligned, cut to 6 characters);
 * - widths are minimums for numbers (`12345.6` in a `6.1f` column takes 7 characters), and
 *   strings are cut to the precision, so a line is 198 characters unless a number overflows.
 *
 * Where the reference would stop with a Python exception — a number or a logical in a text
 * column (`OBJECT = 123`), or an undefined value (`OBJECT =` with nothing after it) in any
 * column — we print Python's `str()` of the value with the header format (`123`, `True`, and
 * blank for an undefined value) and go on: one odd card must not lose the night's log.
 */
import type { Header } from '../fits/index.js';
import { type FormatSpec, type PyValue, parseFormatSpec, pyFormat, PyFormatError, pyStr, pyToString, pyValueOfCard } from './python-format.js';

export interface NightLogColumn {
  /** Column title in the header line. */
  heading: string;
  /** Primary-header keyword. */
  keyword: string;
  /** Python format spec of the value. */
  dataFormat: string;
  /** Python format spec of the title, and of a value the data format does not apply to. */
  headerFormat: string;
}

/** The fifteen columns of the OSU modsLog format, in order (docs/nightlog.md). */
export const NIGHTLOG_COLUMNS: readonly NightLogColumn[] = Object.freeze([
  { heading: 'ProjectID', keyword: 'PROPID', dataFormat: '20.20s', headerFormat: '20.20s' },
  { heading: 'Chan', keyword: 'CHANNEL', dataFormat: '4.4s', headerFormat: '4.4s' },
  { heading: 'ImgTyp', keyword: 'IMAGETYP', dataFormat: '7.7s', headerFormat: '7.7s' },
  { heading: 'Object', keyword: 'OBJECT', dataFormat: '40.40s', headerFormat: '40.40s' },
  { heading: 'RA', keyword: 'TELRA', dataFormat: '11.11s', headerFormat: '11.11s' },
  { heading: 'Dec', keyword: 'TELDEC', dataFormat: '11.11s', headerFormat: '11.11s' },
  { heading: 'PA', keyword: 'POSANGLE', dataFormat: '6.1f', headerFormat: '6.6s' },
  { heading: 'Exp', keyword: 'EXPTIME', dataFormat: '6.1f', headerFormat: '6.6s' },
  { heading: 'UTCDate/Time', keyword: 'DATE-OBS', dataFormat: '21.21s', headerFormat: '21.21s' },
  { heading: 'SecZ', keyword: 'AIRMASS', dataFormat: '5.2f', headerFormat: '5.5s' },
  { heading: 'SlitMask', keyword: 'MASKNAME', dataFormat: '12.12s', headerFormat: '12.12s' },
  { heading: 'Mode', keyword: 'DICHNAME', dataFormat: '4.4s', headerFormat: '4.4s' },
  { heading: 'Grat', keyword: 'GRATNAME', dataFormat: '5.5s', headerFormat: '5.5s' },
  { heading: 'Filter', keyword: 'FILTNAME', dataFormat: '7.7s', headerFormat: '7.7s' },
  { heading: 'Filename', keyword: 'FILENAME', dataFormat: '25.25s', headerFormat: '25.25s' },
] satisfies NightLogColumn[]);

const SPECS: ReadonlyArray<{ data: FormatSpec; header: FormatSpec }> = NIGHTLOG_COLUMNS.map((c) => ({
  data: parseFormatSpec(c.dataFormat),
  header: parseFormatSpec(c.headerFormat),
}));

/** The header line: each column title in its header format, followed by one space (no newline). */
export function nightLogHeaderLine(): string {
  return NIGHTLOG_COLUMNS.map((c, i) => `${pyFormat(pyStr(c.heading), SPECS[i]!.header)} `).join('');
}

/** The Python value astropy's `header[keyword]` gives, or `''` when the keyword is absent. */
export function headerValue(header: Header, keyword: string): PyValue {
  const card = header.get(keyword);
  return card === undefined ? pyStr('') : pyValueOfCard(card);
}

/** One field: the data format, else the header format, else `str(value)` in the header format. */
export function formatField(value: PyValue, data: FormatSpec, headerFormat: FormatSpec): string {
  for (const spec of [data, headerFormat]) {
    try {
      return pyFormat(value, spec);
    } catch (err) {
      if (!(err instanceof PyFormatError)) throw err;
    }
  }
  return pyFormat(pyStr(pyToString(value)), headerFormat);
}

/** The log line of one image from its primary header (no newline). */
export function formatNightLogLine(header: Header): string {
  return NIGHTLOG_COLUMNS.map((c, i) => {
    const spec = SPECS[i]!;
    return `${formatField(headerValue(header, c.keyword), spec.data, spec.header)} `;
  }).join('');
}
