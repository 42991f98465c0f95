/**
 * The observatory: WGS84 geodetic coordinates → ITRS, and its position in the GCRS at a
 * given moment.
 */
import type { TwoPartJd } from './julian.js';
import { celestialToTerrestrialMatrix, MEAN_POLE, type PolarMotion } from './precession-nutation.js';
import { mulTransposeVec, type Vec3 } from './vector.js';

/** An observatory on the WGS84 ellipsoid. */
export interface Site {
  /** Geodetic latitude, degrees north. */
  readonly latitudeDeg: number;
  /** Longitude, degrees **east** positive (LBT is −109.88906). */
  readonly longitudeDeg: number;
  /** Height above the WGS84 ellipsoid, metres. */
  readonly heightM: number;
}

/**
 * The Large Binocular Telescope as the MODS header template gives it (LATITUDE, LONGITUD,
 * ELEVATIO): 32.70131° N, 109.88906° W, 3221 m. The default site of behaviour.md §8.
 */
export const LBT_SITE: Site = Object.freeze({ latitudeDeg: 32.70131, longitudeDeg: -109.88906, heightM: 3221 });

/** WGS84 equatorial radius (m) and flattening. */
export const WGS84 = Object.freeze({ a: 6378137.0, f: 1 / 298.257223563 });

/**
 * Geodetic (WGS84) to geocentric ITRS coordinates.
 *
 * Given: `site` — latitude, east longitude (deg), ellipsoidal height (m).
 * Returned: ITRS x, y, z (m).
 *
 * Notes: the standard closed form: with N = a / √(cos²φ + (1−f)² sin²φ),
 * x = (N + h) cos φ cos λ, y = (N + h) cos φ sin λ, z = ((1−f)² N + h) sin φ.
 * This is what astropy's `EarthLocation.from_geodetic` (ERFA `eraGd2gc`, WGS84) computes.
 *
 * Reference: Explanatory Supplement to the Astronomical Almanac (1992), §4.22.
 */
export function geodeticToItrs(site: Site): Vec3 {
  const phi = (site.latitudeDeg * Math.PI) / 180;
  const lambda = (site.longitudeDeg * Math.PI) / 180;
  const sp = Math.sin(phi);
  const cp = Math.cos(phi);
  const w = (1 - WGS84.f) * (1 - WGS84.f);
  const n = WGS84.a / Math.sqrt(cp * cp + w * sp * sp);
  const r = (n + site.heightM) * cp;
  return [r * Math.cos(lambda), r * Math.sin(lambda), (w * n + site.heightM) * sp];
}

/**
 * The observer quantities of the topocentric TDB−TT terms (see `scales.ts`, `dtdb`).
 *
 * Returned: east longitude (rad), distance from the spin axis u (km), distance north of the
 * equatorial plane v (km) — astropy's `lon`, `hypot(x, y)` and `z`.
 */
export function dtdbObserver(site: Site): { elongRad: number; uKm: number; vKm: number } {
  const [x, y, z] = geodeticToItrs(site);
  return { elongRad: (site.longitudeDeg * Math.PI) / 180, uKm: Math.hypot(x, y) / 1000, vKm: z / 1000 };
}

/**
 * The observatory's geocentric position in the GCRS.
 *
 * Given: `site`; `tt` — the moment in TT (two-part JD, for precession–nutation); `ut1` — the
 * moment in UT1 (two-part JD, for the Earth rotation angle; astropy offline uses UTC);
 * `pole` — polar motion (default: astropy's mean pole).
 * Returned: GCRS x, y, z (m).
 *
 * Notes: ITRS → GCRS as `(W·R₃(θ)·C2I)ᵀ · r_ITRS`. Using UTC for UT1 moves the site by up to
 * 0.35 km (|UT1−UTC| < 0.9 s), ~1 µs of light time at most; it is what the reference does
 * when it has no IERS data for the date (astropy 5.2.1 ships IERS-B values up to early 2023 and
 * uses them before that: the difference seen against its vectors is ≤ 0.4 µs).
 */
export function siteGcrsPosition(site: Site, tt: TwoPartJd, ut1: TwoPartJd, pole: PolarMotion = MEAN_POLE): Vec3 {
  return mulTransposeVec(celestialToTerrestrialMatrix(tt, ut1, pole), geodeticToItrs(site));
}
