/**
 * Light travel time between the observatory and the Sun's centre or the solar-system
 * barycentre, along the direction of a distant target — what astropy's
 * `Time.light_travel_time(target, 'heliocentric' | 'barycentric')` returns.
 */
import type { PositionVelocity } from './earth.js';
import { SECONDS_PER_DAY } from './julian.js';
import { add, dot, norm, scale, subtract, unit, type Vec3 } from './vector.js';

/** Speed of light (m/s), exact. */
export const SPEED_OF_LIGHT_M_PER_S = 299792458;
/** Astronomical unit (m), IAU 2012, exact. */
export const AU_M = 149597870700;
/** Light time for 1 au (s), as ERFA uses it for the aberration velocity. */
const AU_LIGHT_TIME_S = 499.004782;
/** Schwarzschild radius of the Sun (au), 2GM/c², for the gravitational term of aberration. */
const SUN_SCHWARZSCHILD_RADIUS_AU = 1.97412574336e-8;

/** The observer's motion as the aberration formula needs it. */
export interface AberrationContext {
  /** Barycentric velocity of the observer in units of c. */
  readonly v: Vec3;
  /** Distance of the observer from the Sun (au). */
  readonly sunDistanceAu: number;
  /** √(1 − |v|²), the reciprocal of the Lorentz factor. */
  readonly bm1: number;
}

/** Aberration context of an observer moving with the Earth's barycentric velocity. */
export function aberrationContext(earth: { heliocentric: PositionVelocity; barycentric: PositionVelocity }): AberrationContext {
  const v = scale(AU_LIGHT_TIME_S / SECONDS_PER_DAY, earth.barycentric.velocity);
  return { v, sunDistanceAu: norm(earth.heliocentric.position), bm1: Math.sqrt(1 - dot(v, v)) };
}

/**
 * Stellar aberration: natural direction → proper direction.
 *
 * Given: `pnat` — unit vector of the natural direction (as if the observer were at rest in the
 * BCRS); `ctx` — observer velocity (units of c), Sun distance (au), √(1−v²).
 * Returned: unit vector of the proper direction, seen by the moving observer.
 *
 * Notes: the relativistic formula p′ ∝ p/γ + (1 + p·v/(1 + 1/γ)) v, with the small
 * correction (r_s/d)(v − (p·v) p) for the Sun's gravitational potential at distance d.
 *
 * Reference: Urban, S. & Seidelmann, P.K. (eds) 2013, Explanatory Supplement to the
 * Astronomical Almanac, 3rd ed., eq. 7.40; Klioner, S. 2003, AJ 125, 1580.
 */
export function aberrate(pnat: Vec3, ctx: AberrationContext): Vec3 {
  const pdv = dot(pnat, ctx.v);
  const w1 = 1 + pdv / (1 + ctx.bm1);
  const w2 = SUN_SCHWARZSCHILD_RADIUS_AU / ctx.sunDistanceAu;
  const p: Vec3 = [
    pnat[0] * ctx.bm1 + w1 * ctx.v[0] + w2 * (ctx.v[0] - pdv * pnat[0]),
    pnat[1] * ctx.bm1 + w1 * ctx.v[1] + w2 * (ctx.v[1] - pdv * pnat[1]),
    pnat[2] * ctx.bm1 + w1 * ctx.v[2] + w2 * (ctx.v[2] - pdv * pnat[2]),
  ];
  return unit(p);
}

/**
 * Inverse of `aberrate`: proper direction → natural direction.
 *
 * Notes: solved by fixed-point iteration on the displacement d = aberrate(p) − p, starting
 * from d = 0; the displacement is ~1e-4 and each pass gains four orders of magnitude, so three
 * passes leave an error far below 1e-15.
 */
export function removeAberration(pproper: Vec3, ctx: AberrationContext): Vec3 {
  const target = unit(pproper);
  let pnat = target;
  for (let i = 0; i < 3; i++) {
    const shift = subtract(aberrate(pnat, ctx), pnat);
    pnat = unit(subtract(target, shift));
  }
  return pnat;
}

/** Inputs of `lightTravelTimes`. */
export interface LightTimeInput {
  /** Unit vector towards the target, ICRS axes. */
  readonly target: Vec3;
  /** The observatory's geocentric position in the GCRS (m). */
  readonly siteGcrsM: Vec3;
  /** The Earth's heliocentric and barycentric position and velocity (au, au/day) at the TDB moment. */
  readonly earth: { readonly heliocentric: PositionVelocity; readonly barycentric: PositionVelocity };
}

/**
 * Heliocentric and barycentric light travel time, seconds.
 *
 * Given: see `LightTimeInput`.
 * Returned: `{ heliocentricS, barycentricS }`: (target · observer position) / c, where the
 * observer position is relative to the Sun's centre or to the solar-system barycentre; add it
 * to the observed time to get the time of arrival there.
 *
 * Notes:
 * 1. As astropy 5.2 does it: the site's GCRS vector is taken as an apparent *direction* and
 *    turned into a BCRS direction by removing the annual aberration (~20″, i.e. up to 0.6 km
 *    or 2 µs over the Earth's radius), keeping its length; the Earth's ephemeris position is
 *    then added. The light deflection that astropy also removes is nil for a point this close
 *    to the Earth (its Sun→object and Sun→observer directions coincide), so it is left out.
 * 2. The target is at infinite distance (no parallax); the Sun's own light time and the
 *    Shapiro delay are not included, as in astropy.
 */
export function lightTravelTimes(input: LightTimeInput): { heliocentricS: number; barycentricS: number } {
  const ctx = aberrationContext(input.earth);
  const r = norm(input.siteGcrsM);
  const site = r > 0 ? scale(r, removeAberration(input.siteGcrsM, ctx)) : input.siteGcrsM;
  const helio = add(site, scale(AU_M, input.earth.heliocentric.position));
  const bary = add(site, scale(AU_M, input.earth.barycentric.position));
  return {
    heliocentricS: dot(input.target, helio) / SPEED_OF_LIGHT_M_PER_S,
    barycentricS: dot(input.target, bary) / SPEED_OF_LIGHT_M_PER_S,
  };
}
