/**
 * Calendar dates, two-part Julian Dates and Modified Julian Dates, and the ISO 8601 texts that
 * carry them in FITS headers.
 *
 * A date is kept in two doubles, as ERFA does (`date1 + date2`): one part holds the whole day
 * (exactly representable), the other the fraction, so that a date near MJD 60000 keeps about
 * 1e-11 s of resolution instead of the ~0.6 µs of a single double.
 */
import { TimeParseError, TimeRangeError } from './errors.js';

/** Julian Date of the MJD zero point, 1858-11-17T00:00. */
export const MJD_ZERO_JD = 2400000.5;
/** Julian Date of the epoch J2000.0 (2000-01-01T12:00 TT). */
export const J2000_JD = 2451545.0;
/** Modified Julian Date of the epoch J2000.0. */
export const J2000_MJD = 51544.5;
/** Seconds in a day of 86400 SI seconds. */
export const SECONDS_PER_DAY = 86400;
/** Days in a Julian year. */
export const DAYS_PER_JULIAN_YEAR = 365.25;
/** Days in a Julian century. */
export const DAYS_PER_JULIAN_CENTURY = 36525;
/** Days in a Julian millennium. */
export const DAYS_PER_JULIAN_MILLENNIUM = 365250;

/** A proleptic Gregorian calendar date. */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** A Julian Date in two parts (days): the date is `jd1 + jd2`. ERFA's `date1, date2`. */
export interface TwoPartJd {
  readonly jd1: number;
  readonly jd2: number;
}

/** MJD of 1970-01-01, the zero of the day count below. */
const MJD_UNIX_EPOCH = 40587;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** True when `year-month-day` is a real Gregorian date (years 1..9999). */
export function isValidCalendarDate(year: number, month: number, day: number): boolean {
  return (
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    Number.isInteger(day) &&
    year >= 1 &&
    year <= 9999 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

/**
 * Calendar date to Modified Julian Date.
 *
 * Given: `date` — proleptic Gregorian year, month 1–12, day of month.
 * Returned: the MJD (an integer) of 0h on that date.
 *
 * Notes:
 * 1. Counts days with the 400-year cycle of the Gregorian calendar (146097 days), shifting the
 *    year to start on 1 March so that the leap day falls at the end of it.
 * 2. Throws `TimeRangeError` for an impossible date (2026-02-30) or a year outside 1–9999.
 *
 * Reference: Explanatory Supplement to the Astronomical Almanac (1992), §12.92.
 */
export function calendarToMjd(date: CalendarDate): number {
  const { year, month, day } = date;
  if (!isValidCalendarDate(year, month, day)) {
    throw new TimeRangeError(`${year}-${month}-${day} is not a calendar date (years 1-9999)`);
  }
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468 + MJD_UNIX_EPOCH;
}

/**
 * Modified Julian Date to calendar date.
 *
 * Given: `mjd` — a Modified Julian Date; its fraction of a day is ignored (floored).
 * Returned: the Gregorian calendar date on which that day starts.
 *
 * Notes: inverse of `calendarToMjd`.
 */
export function mjdToCalendar(mjd: number): CalendarDate {
  if (!Number.isFinite(mjd)) throw new TimeRangeError(`MJD ${mjd} is not a finite number`);
  const z = Math.floor(mjd) - MJD_UNIX_EPOCH + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

/**
 * Two-part Julian Date of a moment given as a whole MJD and a fraction of a day.
 *
 * Given: `mjdDay` (integer MJD), `dayFraction` (days; may be outside 0–1).
 * Returned: `{ jd1: 2400000.5 + mjdDay, jd2: dayFraction }` — jd1 is exact for any integer
 * `mjdDay` in the range of the calendar above, so no precision is lost.
 */
export function twoPartJdFromMjd(mjdDay: number, dayFraction: number): TwoPartJd {
  return { jd1: MJD_ZERO_JD + mjdDay, jd2: dayFraction };
}

/**
 * Modified Julian Date, as a single double, of a two-part Julian Date.
 *
 * Notes: the subtraction of 2400000.5 from `jd1` is exact when `jd1` holds a whole or half
 * day, so the only rounding is the final addition (half an ulp: 0.3 µs near MJD 60000).
 */
export function mjdFromTwoPartJd(jd: TwoPartJd): number {
  return jd.jd1 - MJD_ZERO_JD + jd.jd2;
}

/**
 * Modified Julian Date, as one double, of a moment given as a whole MJD and a fraction of a
 * day, rounded exactly as astropy's `Time.mjd` rounds it.
 *
 * Given: `mjdDay` (integer MJD), `dayFraction` (days; whole days are carried into `mjdDay`).
 * Returned: the MJD.
 *
 * Notes: astropy keeps a Julian Date as the nearest whole JD plus a remainder in [−0.5, 0.5]
 * and returns `(JD − 2400000.5) + remainder`; for a moment f days after 0h that is
 * `(mjdDay + 0.5) + (f − 0.5)`. Writing it the same way (rather than `mjdDay + f`) makes the
 * result agree with astropy to the bit instead of to one unit in the last place (0.6 µs).
 */
export function mjdFromParts(mjdDay: number, dayFraction: number): number {
  const whole = Math.floor(dayFraction);
  const f = dayFraction - whole;
  return mjdDay + whole + 0.5 + (f - 0.5);
}

/** Days since J2000.0 of a two-part Julian Date, summed so as to lose as little as possible. */
export function daysSinceJ2000(jd: TwoPartJd): number {
  return jd.jd1 - J2000_JD + jd.jd2;
}

/**
 * Parse an ISO 8601 calendar date `YYYY-MM-DD` (the form of the raw `DATE-OBS`).
 *
 * Throws `TimeParseError` (code `time-parse`) when the text is not of that form or is not a
 * real date.
 */
export function parseIsoDate(text: string, what = 'DATE-OBS'): CalendarDate {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(text);
  const expected = 'an ISO date YYYY-MM-DD';
  if (!m) throw new TimeParseError(what, text, expected);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (!isValidCalendarDate(year, month, day)) {
    throw new TimeParseError(what, text, `${expected} naming a real calendar day`);
  }
  return { year, month, day };
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** `YYYY-MM-DD`. */
export function formatIsoDate(date: CalendarDate): string {
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/**
 * `hh:mm:ss[.fff]` from whole hours, minutes and seconds and the fraction's digits as text
 * (kept as text so that the number of digits written by the camera is preserved).
 */
export function formatTimeOfDay(hour: number, minute: number, second: number, fractionDigits: string): string {
  const base = `${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}`;
  return fractionDigits.length > 0 ? `${base}.${fractionDigits}` : base;
}
