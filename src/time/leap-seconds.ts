/**
 * TAI−UTC (leap seconds) from a table handed in by the caller, in the spirit of ERFA's
 * `eraDat` with `eraSetLeapSeconds`: the table is data, so a test can add a leap second and a
 * deployment can refresh the file without a code change.
 *
 * The shipped table is `data/leap-seconds.json` (integer-second UTC since 1972-01-01); its
 * `valid_until` date says how far it is known to be complete.
 */
import { lazy, expectArray, expectNumber, expectRecord, expectString, readProjectDataJson } from './data-files.js';
import { TimeDataError, TimeParseError, TimeRangeError } from './errors.js';
import { calendarToMjd, formatIsoDate, mjdToCalendar, parseIsoDate, SECONDS_PER_DAY } from './julian.js';

/** One step of TAI−UTC: from 0h UTC on `date` (MJD `mjd`) on, TAI−UTC is `taiMinusUtc`. */
export interface LeapSecondEntry {
  /** ISO date on which the value takes effect, `YYYY-MM-DD`. */
  readonly date: string;
  /** MJD of 0h UTC on `date`. */
  readonly mjd: number;
  /** TAI−UTC in SI seconds. */
  readonly taiMinusUtc: number;
}

/** A validated leap-second table, entries in increasing date order. */
export interface LeapSecondTable {
  readonly entries: readonly LeapSecondEntry[];
  /** Last UTC date for which the table is known to be complete, `YYYY-MM-DD`. */
  readonly validUntil: string;
  /** MJD of 0h UTC on `validUntil`. */
  readonly validUntilMjd: number;
  /** Where the table came from, for messages. */
  readonly source: string;
}

/**
 * Validate the structure of a leap-second JSON document (the layout of
 * `data/leap-seconds.json`: `{ valid_until, entries: [{ date, mjd, tai_minus_utc }] }`).
 *
 * Given: `json` — the parsed document; `source` — a name for messages (e.g. the file path).
 * Returned: a frozen `LeapSecondTable`.
 *
 * Notes: every entry's `mjd` must be the MJD of its `date`, entries must be in strictly
 * increasing date order, and `valid_until` must not precede the last entry. Anything else
 * throws `TimeDataError` (code `time-data`) naming the entry.
 */
export function loadLeapSeconds(json: unknown, source = 'leap-second table'): LeapSecondTable {
  const doc = expectRecord(source, json, 'the document');
  const rawEntries = expectArray(source, doc['entries'], 'entries');
  if (rawEntries.length === 0) throw new TimeDataError(source, 'entries is empty');
  const entries: LeapSecondEntry[] = rawEntries.map((raw, i) => {
    const where = `entries[${i}]`;
    const e = expectRecord(source, raw, where);
    const date = expectString(source, e['date'], `${where}.date`);
    let mjdOfDate: number;
    try {
      mjdOfDate = calendarToMjd(parseIsoDate(date, `${where}.date`));
    } catch (err) {
      throw new TimeDataError(source, `${where}.date ${JSON.stringify(date)} is not an ISO date`, { cause: err });
    }
    const mjd = expectNumber(source, e['mjd'], `${where}.mjd`);
    if (mjd !== mjdOfDate) {
      throw new TimeDataError(source, `${where}.mjd is ${mjd} but ${date} is MJD ${mjdOfDate}`);
    }
    const taiMinusUtc = expectNumber(source, e['tai_minus_utc'], `${where}.tai_minus_utc`);
    return Object.freeze({ date, mjd, taiMinusUtc });
  });
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1];
    const cur = entries[i];
    if (prev !== undefined && cur !== undefined && cur.mjd <= prev.mjd) {
      throw new TimeDataError(source, `entries[${i}] (${cur.date}) is not after entries[${i - 1}] (${prev.date})`);
    }
  }
  const validUntil = expectString(source, doc['valid_until'], 'valid_until');
  let validUntilMjd: number;
  try {
    validUntilMjd = calendarToMjd(parseIsoDate(validUntil, 'valid_until'));
  } catch (err) {
    throw new TimeDataError(source, `valid_until ${JSON.stringify(validUntil)} is not an ISO date`, { cause: err });
  }
  const last = entries[entries.length - 1];
  if (last !== undefined && validUntilMjd < last.mjd) {
    throw new TimeDataError(source, `valid_until ${validUntil} is before the last entry (${last.date})`);
  }
  return Object.freeze({ entries: Object.freeze(entries), validUntil, validUntilMjd, source });
}

/**
 * The table shipped in `data/leap-seconds.json`, read on the first call and cached.
 *
 * Notes: this is the library's only file access for leap seconds; callers that want another
 * table (tests, a refreshed file) build one with `loadLeapSeconds` and pass it in.
 */
export const defaultLeapSeconds: () => LeapSecondTable = lazy(() =>
  loadLeapSeconds(readProjectDataJson('leap-seconds.json'), 'data/leap-seconds.json'),
);

/**
 * TAI−UTC at a UTC instant.
 *
 * Given: `table`; `mjdUtc` — the UTC instant as an MJD (a quasi-MJD on a leap-second day is
 * fine: only the day matters).
 * Returned: TAI−UTC in seconds: the value of the last entry on or before that day.
 *
 * Notes: throws `TimeRangeError` before the table's first entry (1972-01-01 for the shipped
 * table: earlier UTC had fractional offsets and a drift, which this library does not model).
 * Dates after `validUntil` get the last value; see `leapSecondWarning`.
 *
 * Reference: IERS Bulletin C; ERFA `eraDat`.
 */
export function taiMinusUtc(table: LeapSecondTable, mjdUtc: number): number {
  if (!Number.isFinite(mjdUtc)) throw new TimeRangeError(`MJD ${mjdUtc} is not a finite number`);
  const first = table.entries[0];
  if (first === undefined || mjdUtc < first.mjd) {
    const when = Number.isFinite(mjdUtc) ? formatIsoDate(mjdToCalendar(mjdUtc)) : String(mjdUtc);
    throw new TimeRangeError(
      `UTC date ${when} is before the start of the leap-second table (${first?.date ?? 'empty'})`,
      { hint: 'dates before 1972 (UTC with fractional offsets) are not supported' },
    );
  }
  let value = first.taiMinusUtc;
  for (const entry of table.entries) {
    if (entry.mjd > mjdUtc) break;
    value = entry.taiMinusUtc;
  }
  return value;
}

/**
 * Length in SI seconds of the UTC day that starts at MJD `mjdDay` (an integer): 86400, or
 * 86401 on a day that ends with a leap second (86399 for a negative one).
 */
export function utcDayLengthSeconds(table: LeapSecondTable, mjdDay: number): number {
  const day = Math.floor(mjdDay);
  return SECONDS_PER_DAY + (taiMinusUtc(table, day + 1) - taiMinusUtc(table, day));
}

/**
 * A warning when `mjdUtc` is later than the table is known to be complete, else `undefined`.
 *
 * Notes: the value used is still the last one in the table (no leap second has been
 * announced since 2016); the warning tells the operator to refresh `data/leap-seconds.json`
 * from IERS Bulletin C. It never throws.
 */
export function leapSecondWarning(table: LeapSecondTable, mjdUtc: number): string | undefined {
  if (!Number.isFinite(mjdUtc) || mjdUtc < table.validUntilMjd + 1) return undefined;
  const when = formatIsoDate(mjdToCalendar(mjdUtc));
  const last = table.entries[table.entries.length - 1];
  return (
    `leap-second table (${table.source}) is known complete only through ${table.validUntil}; ` +
    `TAI-UTC on ${when} is assumed to be ${last?.taiMinusUtc ?? '?'} s. ` +
    'Refresh it from IERS Bulletin C.'
  );
}

/**
 * A copy of `table` with one more step of TAI−UTC (for tests and what-if runs).
 *
 * Given: `date` — ISO date at whose 0h UTC the new value starts (the leap second is
 * 23:59:60 UTC at the end of the previous day); `step` — +1 for an inserted second
 * (default), −1 for a removed one.
 * Returned: a new validated table; `validUntil` is moved to `date` if it was earlier.
 */
export function addLeapSecond(table: LeapSecondTable, date: string, step: 1 | -1 = 1): LeapSecondTable {
  const mjd = calendarToMjd(parseIsoDate(date, 'leap-second date'));
  const last = table.entries[table.entries.length - 1];
  if (last === undefined || mjd <= last.mjd) {
    throw new TimeParseError('leap-second date', date, `a date after the table's last entry (${last?.date ?? 'none'})`);
  }
  const entries = [
    ...table.entries.map((e) => ({ date: e.date, mjd: e.mjd, tai_minus_utc: e.taiMinusUtc })),
    { date, mjd, tai_minus_utc: last.taiMinusUtc + step },
  ];
  const validUntil = mjd > table.validUntilMjd ? date : table.validUntil;
  return loadLeapSeconds({ valid_until: validUntil, entries }, `${table.source} + leap second before ${date}`);
}
