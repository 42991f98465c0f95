/**
 * The time keywords of a MODS exposure — `DATE-OBS` (date and time), `MJD-OBS`, `HJD-OBS`,
 * `BJD-OBS` — computed the way the reference dataMan's `fixDateTime` gets them from astropy
 * (raw-format.md §8.2), with the corrections of behaviour.md §9 (site from the config, the
 * azcam `.1000` carry, warnings instead of silence).
 *
 * Reference computation (astropy 5.2, builtin ephemeris, no IERS data):
 *   t   = Time(DATE-OBS + 'T' + UTC-OBS, scale='utc', location=site)
 *   c   = SkyCoord(TELRA, TELDEC, unit=(hourangle, deg), frame='icrs')
 *   MJD = t.mjd
 *   HJD = (t.utc + t.light_travel_time(c, 'heliocentric')).mjd
 *   BJD = (t.tdb + t.light_travel_time(c, 'barycentric')).mjd
 */
import { TimeParseError } from './errors.js';
import { earthPositionVelocity } from './earth.js';
import { calendarToMjd, formatIsoDate, parseIsoDate } from './julian.js';
import { type LeapSecondTable, leapSecondWarning, taiMinusUtc, utcDayLengthSeconds } from './leap-seconds.js';
import { lightTravelTimes } from './light-time.js';
import {
  addSeconds,
  type DaySeconds,
  mjdOf,
  taiFromUtc,
  tdbMinusTt,
  TT_MINUS_TAI_SECONDS,
  ttFromTai,
  twoPartJdOf,
  utcFromTai,
  utcMjd,
  utcTwoPartJd,
} from './scales.js';
import {
  degreesToRadians,
  hoursToRadians,
  parseDeclination,
  parseRightAscension,
  parseUtcObs,
  resolveUtcInstant,
} from './sexagesimal.js';
import { dtdbObserver, type Site, siteGcrsPosition } from './site.js';
import { fromSpherical } from './vector.js';

/** What `computeObservationTimes` needs: the raw header texts, the site and the leap seconds. */
export interface ObservationTimesInput {
  /** Raw `DATE-OBS`, `YYYY-MM-DD` (UTC date at shutter opening). */
  readonly dateObs: string;
  /** Raw `UTC-OBS`, `hh:mm:ss.sss` (may end in the azcam `.1000`). */
  readonly utcObs: string;
  /** `TELRA`, `hh:mm:ss.sss` or decimal hours; absent or blank → no HJD/BJD. */
  readonly ra?: string | number | undefined;
  /** `TELDEC`, `±dd:mm:ss.ss` or decimal degrees; absent or blank → no HJD/BJD. */
  readonly dec?: string | number | undefined;
  readonly site: Site;
  readonly leapSeconds: LeapSecondTable;
}

/** The intermediate quantities, for tests and diagnostics. */
export interface ObservationTimeStages {
  /** TT − UTC (s): TAI−UTC + 32.184. */
  readonly ttMinusUtcS: number;
  /** TDB − TT (s) at the site (topocentric terms included). */
  readonly tdbMinusTtS: number;
  /** Heliocentric light travel time (s), when the target is known. */
  readonly lttHelioS?: number;
  /** Barycentric light travel time (s), when the target is known. */
  readonly lttBaryS?: number;
}

export interface ObservationTimes {
  /**
   * The new `DATE-OBS`: date + 'T' + UTC-OBS as written, except that the `.1000` defect is
   * carried (`…:33.1000` → `…:34.000`, into the next date at midnight).
   */
  readonly dateObsIso: string;
  /** `MJD-OBS`: Modified Julian Date, UTC. */
  readonly mjdUtc: number;
  /** `HJD-OBS`: heliocentric *modified* Julian date, UTC; absent without a target. */
  readonly hjd?: number;
  /** `BJD-OBS`: barycentric *modified* Julian date, TDB; absent without a target. */
  readonly bjd?: number;
  readonly stages: ObservationTimeStages;
  /** Things a person should know (missing target, `.1000` carried, stale leap-second table). */
  readonly warnings: string[];
  /** When TELRA/TELDEC were present but unreadable: the parse error (also in `warnings`). */
  readonly targetError?: TimeParseError;
}

function isBlank(value: string | number | undefined): value is undefined | '' {
  return value === undefined || (typeof value === 'string' && value.trim() === '');
}

/**
 * Compute DATE-OBS, MJD-OBS, HJD-OBS and BJD-OBS for one exposure.
 *
 * Given: see `ObservationTimesInput`.
 * Returned: see `ObservationTimes`.
 *
 * Notes:
 * 1. Chain: UTC → TAI (leap-second table) → TT (+32.184 s) → TDB (`dtdb`, topocentric, with
 *    the UTC fraction of the day as UT); the Earth from `epv00` at TDB; the site in the GCRS
 *    from TT (precession–nutation) and UTC (Earth rotation angle, UT1 ≈ UTC); light times
 *    from `lightTravelTimes`. HJD is UTC + heliocentric light time (added in TAI so that a leap
 *    second is crossed correctly), BJD is TDB + barycentric light time.
 * 2. All arithmetic keeps whole days apart from seconds of the day (1e-11 s resolution); each
 *    result is turned into one double the way astropy's `Time.mjd` does it (`mjdFromParts`),
 *    so MJD-OBS is bit-identical to the reference's.
 * 3. On a day that ends with a leap second, MJD values are ERFA/astropy quasi-MJDs (the day's
 *    86401 seconds map onto one unit of MJD).
 * 4. Throws `TimeParseError` for malformed DATE-OBS/UTC-OBS and `TimeRangeError` for dates
 *    before 1972. A missing target only drops HJD/BJD with a warning; a malformed one does the
 *    same and also sets `targetError`.
 * 5. Agreement with astropy 5.2.1 over 2016–2035 (the 200 vectors in test/time): MJD-OBS
 *    identical; HJD-OBS and BJD-OBS identical or one unit in the last place apart (0.63 µs);
 *    light times within 0.39 µs — the part of the Earth's rotation that astropy took from its
 *    bundled IERS-B table (UT1−UTC) for dates before 2023, and that we, offline, take as 0.
 */
export function observationTimes(input: ObservationTimesInput): ObservationTimes {
  const { leapSeconds: table, site } = input;
  const warnings: string[] = [];

  const date = parseIsoDate(input.dateObs, 'DATE-OBS');
  const fields = parseUtcObs(input.utcObs, 'UTC-OBS');
  const dayLength = utcDayLengthSeconds(table, calendarToMjd(date));
  const instant = resolveUtcInstant(date, fields, dayLength, input.utcObs);
  const dateObsIso = `${formatIsoDate(instant.date)}T${instant.timeText}`;
  if (instant.azcamCarry) {
    warnings.push(
      `UTC-OBS ${JSON.stringify(input.utcObs)} ends in the azcam ".1000" defect: read as one more ` +
        `second, ${dateObsIso} (the reference dataMan read it as +0.1 s)`,
    );
  }

  const utc: DaySeconds = { mjdDay: instant.mjdDay, seconds: instant.secondsOfDay };
  const utcJd = utcTwoPartJd(table, utc);
  const mjdUtc = utcMjd(table, utc);
  const stale = leapSecondWarning(table, mjdUtc);
  if (stale !== undefined) warnings.push(stale);

  const tai = taiFromUtc(table, utc);
  const tt = ttFromTai(tai);
  const ttMinusUtcS = taiMinusUtc(table, utc.mjdDay) + TT_MINUS_TAI_SECONDS;
  const tdbMinusTtS = tdbMinusTt(tt, utcJd.jd2, dtdbObserver(site));
  const tdb = addSeconds(tt, tdbMinusTtS);

  const missing = [isBlank(input.ra) ? 'TELRA' : undefined, isBlank(input.dec) ? 'TELDEC' : undefined].filter(
    (k): k is string => k !== undefined,
  );
  if (missing.length > 0) {
    warnings.push(`${missing.join(' and ')} missing: HJD-OBS and BJD-OBS not computed`);
    return { dateObsIso, mjdUtc, stages: { ttMinusUtcS, tdbMinusTtS }, warnings };
  }

  let raRad: number;
  let decRad: number;
  try {
    raRad = hoursToRadians(parseRightAscension(input.ra as string | number, 'TELRA'));
    decRad = degreesToRadians(parseDeclination(input.dec as string | number, 'TELDEC'));
  } catch (err) {
    if (!(err instanceof TimeParseError)) throw err;
    const parseError = err;
    warnings.push(`${parseError.message}: HJD-OBS and BJD-OBS not computed`);
    return { dateObsIso, mjdUtc, stages: { ttMinusUtcS, tdbMinusTtS }, warnings, targetError: parseError };
  }

  const tdbJd = twoPartJdOf(tdb);
  const earth = earthPositionVelocity(tdbJd.jd1, tdbJd.jd2);
  const siteGcrsM = siteGcrsPosition(site, twoPartJdOf(tt), utcJd);
  const ltt = lightTravelTimes({ target: fromSpherical(raRad, decRad), siteGcrsM, earth });

  const hjd = utcMjd(table, utcFromTai(table, addSeconds(tai, ltt.heliocentricS)));
  const bjd = mjdOf(addSeconds(tdb, ltt.barycentricS));
  return {
    dateObsIso,
    mjdUtc,
    hjd,
    bjd,
    stages: { ttMinusUtcS, tdbMinusTtS, lttHelioS: ltt.heliocentricS, lttBaryS: ltt.barycentricS },
    warnings,
  };
}

/** Alias of `observationTimes`. */
export const computeObservationTimes = observationTimes;
