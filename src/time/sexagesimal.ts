/**
 * Sexagesimal texts of the MODS headers: `TELRA` (`hh:mm:ss.sss`, hours), `TELDEC`
 * (`±dd:mm:ss.ss`, degrees) and `UTC-OBS` (`hh:mm:ss.sss`), with the azcam `.1000` defect.
 *
 * Every parser throws `TimeParseError` (code `time-parse`) whose message names the keyword,
 * the text and the form that was expected.
 */
import { TimeParseError } from './errors.js';
import { calendarToMjd, type CalendarDate, formatTimeOfDay, mjdToCalendar, SECONDS_PER_DAY } from './julian.js';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SEXAGESIMAL = /^([+-]?)(\d+)[: ](\d+)(?:[: ](\d+(?:\.\d*)?))?$/;

/**
 * Parse `[±]a:b[:c]` (colons or single spaces) or a plain decimal number.
 * Returns the value in units of the first field, the sign applying to the whole
 * (so `-00:30:00` is −0.5, the case where a sign on a zero first field matters).
 */
function parseAngleText(what: string, text: string, expected: string): number {
  const s = text.trim();
  if (DECIMAL.test(s)) return Number(s);
  const m = SEXAGESIMAL.exec(s);
  if (!m) throw new TimeParseError(what, text, expected);
  const negative = m[1] === '-';
  const a = Number(m[2]);
  const b = Number(m[3]);
  const c = m[4] === undefined ? 0 : Number(m[4]);
  if (b >= 60 || c >= 60) throw new TimeParseError(what, text, `${expected} (minutes and seconds below 60)`);
  const value = a + b / 60 + c / 3600;
  return negative ? -value : value;
}

/**
 * Right ascension in hours from `TELRA`.
 *
 * Given: `value` — `hh:mm:ss.sss` (also `hh:mm` or space-separated), a decimal number of
 * hours as text (`'4.0547'`, `'1.3e+01'`) or a number.
 * Returned: hours, 0 ≤ h < 24.
 *
 * Notes: like astropy's `unit=hourangle`, a bare number means hours.
 */
export function parseRightAscension(value: string | number, what = 'TELRA'): number {
  const expected = 'a right ascension hh:mm:ss.sss or decimal hours in [0, 24)';
  const hours = typeof value === 'number' ? value : parseAngleText(what, value, expected);
  if (!Number.isFinite(hours) || hours < 0 || hours >= 24) {
    throw new TimeParseError(what, String(value), expected);
  }
  return hours;
}

/**
 * Declination in degrees from `TELDEC`.
 *
 * Given: `value` — `±dd:mm:ss.ss` (sign optional), a decimal number of degrees as text, or a
 * number.
 * Returned: degrees, −90 ≤ δ ≤ 90. `-00:30:00` gives −0.5 (the sign belongs to the whole
 * angle, not to the degrees field).
 */
export function parseDeclination(value: string | number, what = 'TELDEC'): number {
  const expected = 'a declination ±dd:mm:ss.ss or decimal degrees in [-90, 90]';
  const degrees = typeof value === 'number' ? value : parseAngleText(what, value, expected);
  if (!Number.isFinite(degrees) || degrees < -90 || degrees > 90) {
    throw new TimeParseError(what, String(value), expected);
  }
  return degrees;
}

/**
 * An angle in degrees from a sexagesimal or decimal text, with no range check — for
 * `TELALT`/`TELAZ` (`+00:00:00.00`, `+123:45:06.000`), like astropy's `Angle(text, unit=deg)`.
 *
 * Given: `text` — `[±]ddd:mm:ss.ss` (colons or spaces, seconds optional) or a decimal number.
 * Returned: degrees; the sign applies to the whole angle.
 */
export function parseSexagesimalDegrees(text: string, what = 'angle'): number {
  const expected = 'an angle ±ddd:mm:ss.ss or decimal degrees';
  const degrees = parseAngleText(what, text, expected);
  if (!Number.isFinite(degrees)) throw new TimeParseError(what, text, expected);
  return degrees;
}

/** The fields of a `UTC-OBS` text, before any carry. */
export interface UtcObsFields {
  readonly hour: number;
  readonly minute: number;
  /** Whole seconds as written, 0–60. */
  readonly second: number;
  /** Digits of the fraction of a second as written (`'456'`), `''` if none; `'000'` after the azcam defect. */
  readonly fractionDigits: string;
  /**
   * True when the fraction read `.1000`: azcam rounds the milliseconds of its clock to 3
   * digits and can reach 1000, which means one more whole second (behaviour.md §9 row 4).
   */
  readonly azcamCarry: boolean;
}

/**
 * Parse a `UTC-OBS` text `hh:mm:ss[.fff]`.
 *
 * Notes: a fraction of exactly `1000` is the azcam defect and is returned as
 * `{ fractionDigits: '000', azcamCarry: true }`; `resolveUtcInstant` adds the second and
 * carries it into minutes, hours and the date. The reference dataMan read `33.1000` as 33.1 s.
 */
export function parseUtcObs(text: string, what = 'UTC-OBS'): UtcObsFields {
  const expected = 'a UTC time of day hh:mm:ss.sss';
  const m = /^\s*(\d{2}):(\d{2}):(\d{2})(?:\.(\d*))?\s*$/.exec(text);
  if (!m) throw new TimeParseError(what, text, expected);
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  const second = Number(m[3]);
  const digits = m[4] ?? '';
  if (hour > 23 || minute > 59 || second > 60) {
    throw new TimeParseError(what, text, `${expected} (hours 00-23, minutes 00-59, seconds 00-60)`);
  }
  if (digits === '1000') return { hour, minute, second, fractionDigits: '000', azcamCarry: true };
  return { hour, minute, second, fractionDigits: digits, azcamCarry: false };
}

/**
 * Value of the digits after a decimal point, summed digit by digit (0.1·d₁ + 0.01·d₂ + …,
 * the divisor divided by ten at each step) as astropy's fast ISO time parser does, so that
 * MJD-OBS comes out identical to the reference's to the last bit.
 */
function decimalFraction(digits: string): number {
  let value = 0;
  let weight = 0.1;
  for (const ch of digits) {
    value += (ch.charCodeAt(0) - 48) * weight;
    weight /= 10;
  }
  return value;
}

/** A UTC instant as written in the header, after the azcam carry. */
export interface UtcInstant {
  /** Calendar date (after a carry across midnight, the next day). */
  readonly date: CalendarDate;
  /** MJD of 0h UTC on `date`. */
  readonly mjdDay: number;
  readonly hour: number;
  readonly minute: number;
  /** Whole seconds, 0–59 (60 only during a leap second). */
  readonly second: number;
  /** The fraction's digits, as written (3 for azcam). */
  readonly fractionDigits: string;
  /** SI seconds since 0h UTC on `date` (up to 86401 on a leap-second day). */
  readonly secondsOfDay: number;
  /** `hh:mm:ss.fff` of the (carried) instant. */
  readonly timeText: string;
  /** True if the `.1000` carry was applied. */
  readonly azcamCarry: boolean;
}

/**
 * Combine a date and the `UTC-OBS` fields into one UTC instant, applying the azcam carry.
 *
 * Given: `date` — the `DATE-OBS` day; `fields` — from `parseUtcObs`; `dayLengthSeconds` —
 * length of that UTC day (86400, or 86401 when it ends with a leap second; see
 * `utcDayLengthSeconds`); `text` — the original `UTC-OBS`, for messages.
 * Returned: the instant, with the carry propagated into minutes, hours and the date
 * (`23:59:59.1000` becomes `00:00:00.000` of the next day, or `23:59:60.000` on a
 * leap-second day).
 *
 * Notes: a second `60` is accepted only in the last minute of a day that has a leap second;
 * otherwise throws `TimeParseError`.
 */
export function resolveUtcInstant(
  date: CalendarDate,
  fields: UtcObsFields,
  dayLengthSeconds: number = SECONDS_PER_DAY,
  text?: string,
): UtcInstant {
  const written = text ?? formatTimeOfDay(fields.hour, fields.minute, fields.second, fields.fractionDigits);
  const fraction = decimalFraction(fields.fractionDigits);
  const whole = fields.hour * 3600 + fields.minute * 60 + fields.second;
  const inLeapSecond = fields.hour === 23 && fields.minute === 59 && dayLengthSeconds > SECONDS_PER_DAY;
  if (fields.second === 60 && !inLeapSecond) {
    throw new TimeParseError(
      'UTC-OBS',
      written,
      'seconds below 60 (23:59:60 exists only on a day that ends with a leap second)',
    );
  }
  let mjdDay = calendarToMjd(date);
  let wholeOfDay = whole + (fields.azcamCarry ? 1 : 0);
  let outDate = date;
  if (wholeOfDay + fraction >= dayLengthSeconds) {
    if (!fields.azcamCarry) {
      // Only a day shortened by a negative leap second (none so far) lacks 23:59:59.
      throw new TimeParseError('UTC-OBS', written, `a time before the end of a ${dayLengthSeconds}-second UTC day`);
    }
    // The carried second moves into the next day.
    wholeOfDay -= dayLengthSeconds;
    mjdDay += 1;
    outDate = mjdToCalendar(mjdDay);
  }
  let hour: number;
  let minute: number;
  let second: number;
  if (wholeOfDay >= SECONDS_PER_DAY) {
    // Inside the leap second 23:59:60.
    hour = 23;
    minute = 59;
    second = wholeOfDay - (SECONDS_PER_DAY - 60);
  } else {
    hour = Math.floor(wholeOfDay / 3600);
    minute = Math.floor((wholeOfDay % 3600) / 60);
    second = wholeOfDay % 60;
  }
  return {
    date: outDate,
    mjdDay,
    hour,
    minute,
    second,
    fractionDigits: fields.fractionDigits,
    // Summed as ERFA's eraDtf2d does, minutes apart from seconds, for bit-level agreement.
    secondsOfDay: 60 * (60 * hour + minute) + (second + fraction),
    timeText: formatTimeOfDay(hour, minute, second, fields.fractionDigits),
    azcamCarry: fields.azcamCarry,
  };
}

/** Hours of right ascension to radians. */
export function hoursToRadians(hours: number): number {
  return (hours * 15 * Math.PI) / 180;
}

/** Degrees to radians. */
export function degreesToRadians(degrees: number): number {
  return (degrees * Math.PI) / 180;
}
