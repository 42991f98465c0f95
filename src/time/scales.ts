/**
 * Time scales: UTC → TAI → TT → TDB.
 *
 * Moments are kept as a whole MJD day plus seconds since 0h of that day in the scale at hand
 * (`DaySeconds`), which is exact enough (1e-11 s) and makes the offsets plain additions.
 * UTC follows ERFA's convention for a day with a leap second: the day has 86401 SI seconds and
 * its MJD ("quasi-MJD", what astropy reports) advances by secondsOfDay / 86401.
 */
import { lazy, expectArray, expectNumber, expectRecord, expectString, expectTriple, readProjectDataJson } from './data-files.js';
import { TimeDataError } from './errors.js';
import { DAYS_PER_JULIAN_MILLENNIUM, mjdFromParts, SECONDS_PER_DAY, type TwoPartJd, twoPartJdFromMjd } from './julian.js';
import { type LeapSecondTable, taiMinusUtc, utcDayLengthSeconds } from './leap-seconds.js';

/** TT − TAI in seconds (exact, by definition). */
export const TT_MINUS_TAI_SECONDS = 32.184;

/** A moment in some time scale: MJD `mjdDay` (an integer) plus `seconds` since its 0h. */
export interface DaySeconds {
  readonly mjdDay: number;
  readonly seconds: number;
}

/** Two-part Julian Date of a `DaySeconds` in a uniform scale (TAI, TT, TDB): days of 86400 s. */
export function twoPartJdOf(moment: DaySeconds): TwoPartJd {
  return twoPartJdFromMjd(moment.mjdDay, moment.seconds / SECONDS_PER_DAY);
}

/** MJD (one double, rounded as astropy rounds it) of a `DaySeconds` in a uniform scale. */
export function mjdOf(moment: DaySeconds): number {
  return mjdFromParts(moment.mjdDay, moment.seconds / SECONDS_PER_DAY);
}

/**
 * Two-part quasi Julian Date of a UTC moment, ERFA/astropy style.
 *
 * Given: `utc` — day and SI seconds since 0h UTC (up to 86401 on a leap-second day).
 * Returned: `jd1 = 2400000.5 + day`, `jd2 = seconds / (length of that UTC day)`; on ordinary
 * days this is seconds / 86400.
 *
 * Reference: ERFA `eraDtf2d` and `eraUtctai` (UTC quasi-JD).
 */
export function utcTwoPartJd(table: LeapSecondTable, utc: DaySeconds): TwoPartJd {
  return twoPartJdFromMjd(utc.mjdDay, utc.seconds / utcDayLengthSeconds(table, utc.mjdDay));
}

/** UTC MJD (one double, quasi-MJD on a leap-second day, rounded as astropy does) of a UTC moment. */
export function utcMjd(table: LeapSecondTable, utc: DaySeconds): number {
  return mjdFromParts(utc.mjdDay, utc.seconds / utcDayLengthSeconds(table, utc.mjdDay));
}

/**
 * UTC → TAI.
 *
 * Given: `table` (leap seconds); `utc` — day and SI seconds since 0h UTC.
 * Returned: the same moment in TAI, on the same `mjdDay` (seconds may exceed 86400).
 */
export function taiFromUtc(table: LeapSecondTable, utc: DaySeconds): DaySeconds {
  return { mjdDay: utc.mjdDay, seconds: utc.seconds + taiMinusUtc(table, utc.mjdDay) };
}

/**
 * TAI → UTC, the inverse of `taiFromUtc`, landing inside a leap second where there is one.
 *
 * Returned: `seconds` in [0, length of that UTC day).
 */
export function utcFromTai(table: LeapSecondTable, tai: DaySeconds): DaySeconds {
  // Start from the UTC day with the same number and step by whole days; at most a couple of
  // steps are needed for any offset of a few days.
  let day = tai.mjdDay + Math.floor(tai.seconds / SECONDS_PER_DAY);
  for (let guard = 0; guard < 8; guard++) {
    const seconds = tai.seconds + (tai.mjdDay - day) * SECONDS_PER_DAY - taiMinusUtc(table, day);
    if (seconds < 0) day -= 1;
    else if (seconds >= utcDayLengthSeconds(table, day)) day += 1;
    else return { mjdDay: day, seconds };
  }
  throw new TimeDataError(table.source, `cannot place TAI MJD ${tai.mjdDay} + ${tai.seconds} s in UTC`);
}

/** TAI → TT. */
export function ttFromTai(tai: DaySeconds): DaySeconds {
  return { mjdDay: tai.mjdDay, seconds: tai.seconds + TT_MINUS_TAI_SECONDS };
}

/** Add `seconds` to a moment of a uniform scale. */
export function addSeconds(moment: DaySeconds, seconds: number): DaySeconds {
  return { mjdDay: moment.mjdDay, seconds: moment.seconds + seconds };
}

// ---------------------------------------------------------------------------------------------
// TDB − TT
// ---------------------------------------------------------------------------------------------

/** `[amplitude, frequency, phase]`: contributes amplitude · sin(frequency · t + phase). */
export type SineTerm = readonly [number, number, number];

/** One of the ten topocentric terms of the TDB−TT model. */
export interface TopocentricTerm {
  /** Seconds per km (signed). */
  readonly coefficient: number;
  /** Which observer distance multiplies the term. */
  readonly distance: 'u' | 'v';
  readonly fn: 'sin' | 'cos';
  /** Multipliers of the arguments, in the order tsol, elsun, emsun, d, elj, els. */
  readonly multipliers: readonly number[];
}

/** A fundamental argument: degrees at J2000.0 and arcseconds per Julian millennium. */
export interface FundamentalArgument {
  readonly name: string;
  readonly valueAtJ2000Deg: number;
  readonly rateArcsecPerMillennium: number;
}

/** The coefficient tables of `data/erfa/dtdb.json`, validated. */
export interface DtdbTable {
  /** Fairhead & Bretagnon groups t0..t4 (group k is multiplied by t^k). */
  readonly fairhead: readonly (readonly SineTerm[])[];
  readonly jplPeriodic: readonly SineTerm[];
  /** Seconds per millennium². */
  readonly jplT2: number;
  /** elsun, emsun, d, elj, els in that order (tsol comes from the caller). */
  readonly arguments: readonly FundamentalArgument[];
  readonly topocentric: readonly TopocentricTerm[];
}

const ARGUMENT_ORDER = ['tsol', 'elsun', 'emsun', 'd', 'elj', 'els'] as const;

/**
 * Validate the structure of `dtdb.json` (ERFA `eraDtdb` tables; form and units are documented
 * in the file itself). Throws `TimeDataError` on anything unexpected.
 */
export function loadDtdbTable(json: unknown, source = 'dtdb table'): DtdbTable {
  const doc = expectRecord(source, json, 'the document');
  const fb = expectRecord(source, doc['fairhead_bretagnon'], 'fairhead_bretagnon');
  const counts = expectRecord(source, fb['term_counts'], 'fairhead_bretagnon.term_counts');
  const fairhead = ['t0', 't1', 't2', 't3', 't4'].map((k) => {
    const terms = expectArray(source, fb[k], `fairhead_bretagnon.${k}`).map((t, i) =>
      expectTriple(source, t, `fairhead_bretagnon.${k}[${i}]`),
    );
    const expected = expectNumber(source, counts[k], `fairhead_bretagnon.term_counts.${k}`);
    if (terms.length !== expected) {
      throw new TimeDataError(source, `fairhead_bretagnon.${k} has ${terms.length} terms, term_counts says ${expected}`);
    }
    return terms;
  });
  const jpl = expectRecord(source, doc['jpl_mass_adjustment'], 'jpl_mass_adjustment');
  const jplPeriodic = expectArray(source, jpl['periodic'], 'jpl_mass_adjustment.periodic').map((t, i) =>
    expectTriple(source, t, `jpl_mass_adjustment.periodic[${i}]`),
  );
  const jplT2 = expectNumber(source, jpl['t2_coefficient'], 'jpl_mass_adjustment.t2_coefficient');
  const topo = expectRecord(source, doc['topocentric'], 'topocentric');
  const order = expectArray(source, topo['argument_order'], 'topocentric.argument_order');
  if (order.length !== ARGUMENT_ORDER.length || order.some((name, i) => name !== ARGUMENT_ORDER[i])) {
    throw new TimeDataError(source, `topocentric.argument_order should be ${ARGUMENT_ORDER.join(', ')}`);
  }
  const argsByName = new Map<string, FundamentalArgument>();
  expectArray(source, topo['fundamental_arguments'], 'topocentric.fundamental_arguments').forEach((raw, i) => {
    const where = `topocentric.fundamental_arguments[${i}]`;
    const a = expectRecord(source, raw, where);
    const name = expectString(source, a['name'], `${where}.name`);
    argsByName.set(name, {
      name,
      valueAtJ2000Deg: expectNumber(source, a['value_at_j2000_deg'], `${where}.value_at_j2000_deg`),
      rateArcsecPerMillennium: expectNumber(
        source,
        a['rate_arcsec_per_julian_millennium'],
        `${where}.rate_arcsec_per_julian_millennium`,
      ),
    });
  });
  const args = ARGUMENT_ORDER.slice(1).map((name) => {
    const a = argsByName.get(name);
    if (!a) throw new TimeDataError(source, `topocentric.fundamental_arguments lacks ${name}`);
    return a;
  });
  const topocentric = expectArray(source, topo['terms'], 'topocentric.terms').map((raw, i): TopocentricTerm => {
    const where = `topocentric.terms[${i}]`;
    const t = expectRecord(source, raw, where);
    const distance = t['distance'];
    const fn = t['function'];
    if (distance !== 'u' && distance !== 'v') throw new TimeDataError(source, `${where}.distance should be u or v`);
    if (fn !== 'sin' && fn !== 'cos') throw new TimeDataError(source, `${where}.function should be sin or cos`);
    const multipliers = expectArray(source, t['multipliers'], `${where}.multipliers`).map((m, j) =>
      expectNumber(source, m, `${where}.multipliers[${j}]`),
    );
    if (multipliers.length !== ARGUMENT_ORDER.length) {
      throw new TimeDataError(source, `${where}.multipliers should have ${ARGUMENT_ORDER.length} entries`);
    }
    return { coefficient: expectNumber(source, t['coefficient'], `${where}.coefficient`), distance, fn, multipliers };
  });
  return Object.freeze({ fairhead, jplPeriodic, jplT2, arguments: args, topocentric });
}

/** `data/erfa/dtdb.json`, read on first use and cached. */
export const defaultDtdbTable: () => DtdbTable = lazy(() =>
  loadDtdbTable(readProjectDataJson('erfa/dtdb.json'), 'data/erfa/dtdb.json'),
);

const TWO_PI = 2 * Math.PI;
const DEG_TO_RAD = Math.PI / 180;

/** Σ A·sin(f·t + φ), summed from the last term to the first (ERFA's order). */
function sumSines(terms: readonly SineTerm[], t: number): number {
  let w = 0;
  for (let i = terms.length - 1; i >= 0; i--) {
    const term = terms[i] as SineTerm;
    w += term[0] * Math.sin(term[1] * t + term[2]);
  }
  return w;
}

/**
 * TDB − TT for an observer on the Earth.
 *
 * Given:
 *   jd1, jd2  number  TDB date as a two-part Julian Date (TT may be used instead: the result
 *                     changes by ~1e-14 s)
 *   ut        number  UT1 as a fraction of a day (astropy passes UTC; any whole days are dropped)
 *   elong     number  east longitude of the observer (rad)
 *   u         number  observer's distance from the Earth's spin axis (km)
 *   v         number  observer's distance north of the equatorial plane (km)
 *   table     DtdbTable  coefficients (default: `data/erfa/dtdb.json`)
 * Returned: TDB − TT in seconds.
 *
 * Notes:
 * 1. The geocentric part is the Fairhead & Bretagnon (1990) series (787 terms in five groups
 *    multiplied by powers of t, t in Julian millennia since J2000.0), plus the correction for
 *    the JPL planetary masses; the topocentric part (Moyer 1981, Murray 1983) is ten terms in
 *    the local solar angle and fundamental arguments of Simon et al. (1994), about ±2 µs for a
 *    site on the Earth's surface. u = v = 0 gives the geocentric value.
 * 2. The sums follow the order documented in the table (each group from its last term; the
 *    topocentric arguments added left to right) so that results agree with ERFA's `eraDtdb`
 *    to the last bits.
 * 3. Accuracy (as stated by ERFA): better than ±3 ns over 1950–2050 relative to DE405.
 *
 * References: Fairhead, L. & Bretagnon, P. 1990, A&A 229, 240; Moyer, T.D. 1981, Cel. Mech.
 * 23, 33; Murray, C.A. 1983, Vectorial Astrometry; Simon, J.L. et al. 1994, A&A 282, 663.
 */
export function dtdb(
  jd1: number,
  jd2: number,
  ut: number,
  elong: number,
  u: number,
  v: number,
  table: DtdbTable = defaultDtdbTable(),
): number {
  const t = (jd1 - 2451545.0 + jd2) / DAYS_PER_JULIAN_MILLENNIUM;

  // Topocentric part.
  const angles: number[] = [(ut % 1) * TWO_PI + elong];
  const w = t / 3600;
  for (const a of table.arguments) {
    angles.push(((a.valueAtJ2000Deg + a.rateArcsecPerMillennium * w) % 360) * DEG_TO_RAD);
  }
  let wt = 0;
  for (const term of table.topocentric) {
    let arg = 0;
    let first = true;
    for (let i = 0; i < term.multipliers.length; i++) {
      const m = term.multipliers[i] as number;
      if (m === 0) continue;
      const contribution = m * (angles[i] as number);
      arg = first ? contribution : arg + contribution;
      first = false;
    }
    const distance = term.distance === 'u' ? u : v;
    wt += term.coefficient * distance * (term.fn === 'sin' ? Math.sin(arg) : Math.cos(arg));
  }

  // Fairhead & Bretagnon series, combined by Horner's rule in t.
  const groups = table.fairhead.map((g) => sumSines(g, t));
  let wf = 0;
  for (let k = groups.length - 1; k >= 0; k--) {
    wf = k === groups.length - 1 ? (groups[k] as number) : wf * t + (groups[k] as number);
  }

  // Adjustment to the JPL planetary masses.
  let wj = 0;
  for (const term of table.jplPeriodic) wj += term[0] * Math.sin(term[1] * t + term[2]);
  wj += table.jplT2 * t * t;

  return wt + wf + wj;
}

/**
 * TDB − TT at a TT moment for an observer, with `ut` taken from the UTC fraction of the day
 * as astropy does (UT1 ≈ UTC).
 *
 * Given: `tt` — the moment in TT; `utDayFraction` — UTC of the same moment as a fraction of
 * its day; `observer` — east longitude (rad) and distances u, v (km) of the site (see
 * `site.ts`, `dtdbObserver`).
 */
export function tdbMinusTt(
  tt: DaySeconds,
  utDayFraction: number,
  observer: { readonly elongRad: number; readonly uKm: number; readonly vKm: number },
  table: DtdbTable = defaultDtdbTable(),
): number {
  const jd = twoPartJdOf(tt);
  return dtdb(jd.jd1, jd.jd2, utDayFraction, observer.elongRad, observer.uKm, observer.vKm, table);
}
