/**
 * Earth orientation for placing an observatory in the GCRS: IAU 2006 precession (Fukushima–
 * Williams angles), IAU 2000B nutation, the CIO locator s, and the Earth rotation angle.
 *
 * Why not the full IAU 2006/2000A model that astropy uses: the site vector is ~6400 km long,
 * so an orientation error of 1 mas moves it by 3 cm (0.1 ns of light time). IAU 2000B agrees
 * with 2000A to about 1 mas over 1995–2050, and the periodic part of s beyond its two largest
 * terms is below 0.05 mas. Polar motion defaults to the mean pole astropy falls back on when
 * it has no IERS data (the actual pole is within ~0.3″ of it: 10 m, 0.03 µs of light time).
 */
import { NUTATION_2000B } from './nutation-2000b-table.js';
import { DAYS_PER_JULIAN_CENTURY, J2000_JD } from './julian.js';
import { type Mat3, mulMat, rotX, rotY, rotZ } from './vector.js';

/** Radians per arcsecond. */
export const ARCSEC_TO_RAD = Math.PI / 648000;
/** Arcseconds in a full turn. */
const TURN_ARCSEC = 1296000;
const TWO_PI = 2 * Math.PI;

/** Julian centuries since J2000.0 of a two-part Julian Date. */
export function julianCenturies(jd1: number, jd2: number): number {
  return (jd1 - J2000_JD + jd2) / DAYS_PER_JULIAN_CENTURY;
}

/** Angle (arcsec polynomial value) reduced to one turn, in radians. */
function arcsecToRadReduced(arcsec: number): number {
  return (arcsec % TURN_ARCSEC) * ARCSEC_TO_RAD;
}

/**
 * Nutation, IAU 2000B model.
 *
 * Given: jd1, jd2 — TT as a two-part Julian Date.
 * Returned: `{ dpsi, deps }` — nutation in longitude and in obliquity (rad).
 *
 * Notes:
 * 1. The 77 luni-solar terms of MHB2000 with the Delaunay arguments linear in t (Simon et al.
 *    1994), plus fixed offsets standing in for the planetary terms (−0.135 mas in longitude,
 *    +0.388 mas in obliquity).
 * 2. Accuracy: 1 mas against IAU 2000A over 1995–2050.
 *
 * References: McCarthy, D.D. & Luzum, B.J. 2003, Celest. Mech. Dyn. Astron. 85, 37;
 * Simon, J.L. et al. 1994, A&A 282, 663; IERS Conventions (2003), §5.5.
 */
export function nutation2000b(jd1: number, jd2: number): { dpsi: number; deps: number } {
  const t = julianCenturies(jd1, jd2);
  const l = arcsecToRadReduced(485868.249036 + 1717915923.2178 * t);
  const lp = arcsecToRadReduced(1287104.79305 + 129596581.0481 * t);
  const f = arcsecToRadReduced(335779.526232 + 1739527262.8478 * t);
  const d = arcsecToRadReduced(1072260.70369 + 1602961601.209 * t);
  const om = arcsecToRadReduced(450160.398036 - 6962890.5431 * t);
  let dp = 0;
  let de = 0;
  // Smallest terms first, to keep the round-off of the sum down.
  for (let i = NUTATION_2000B.length - 1; i >= 0; i--) {
    const r = NUTATION_2000B[i];
    if (r === undefined) continue;
    const arg = (r[0] * l + r[1] * lp + r[2] * f + r[3] * d + r[4] * om) % TWO_PI;
    const s = Math.sin(arg);
    const c = Math.cos(arg);
    dp += (r[5] + r[6] * t) * s + r[7] * c;
    de += (r[8] + r[9] * t) * c + r[10] * s;
  }
  const unit = ARCSEC_TO_RAD / 1e7; // table units are 0.1 µas
  const mas = ARCSEC_TO_RAD / 1000;
  return { dpsi: dp * unit - 0.135 * mas, deps: de * unit + 0.388 * mas };
}

/**
 * Mean obliquity of the ecliptic, IAU 2006.
 *
 * Given: jd1, jd2 — TT. Returned: ε_A (rad).
 * Reference: Hilton, J. et al. 2006, Celest. Mech. Dyn. Astron. 94, 351 (P03 model).
 */
export function meanObliquity2006(jd1: number, jd2: number): number {
  const t = julianCenturies(jd1, jd2);
  const arcsec =
    84381.406 + t * (-46.836769 + t * (-0.0001831 + t * (0.0020034 + t * (-0.000000576 + t * -0.0000000434))));
  return arcsec * ARCSEC_TO_RAD;
}

/**
 * Precession angles of Fukushima & Williams, IAU 2006 (bias included).
 *
 * Given: jd1, jd2 — TT.
 * Returned: γ̄, φ̄, ψ̄ (rad) and the mean obliquity ε_A (rad).
 *
 * Reference: Hilton, J. et al. 2006; Capitaine, N. & Wallace, P.T. 2006, A&A 450, 855.
 */
export function precessionAngles2006(
  jd1: number,
  jd2: number,
): { gammaBar: number; phiBar: number; psiBar: number; epsA: number } {
  const t = julianCenturies(jd1, jd2);
  const gammaBar =
    (-0.052928 + t * (10.556378 + t * (0.4932044 + t * (-0.00031238 + t * (-0.000002788 + t * 0.000000026))))) *
    ARCSEC_TO_RAD;
  const phiBar =
    (84381.412819 + t * (-46.811016 + t * (0.0511268 + t * (0.00053289 + t * (-0.00000044 + t * -0.0000000176))))) *
    ARCSEC_TO_RAD;
  const psiBar =
    (-0.041775 + t * (5038.481484 + t * (1.5584175 + t * (-0.00018522 + t * (-0.000026452 + t * -0.0000000148))))) *
    ARCSEC_TO_RAD;
  return { gammaBar, phiBar, psiBar, epsA: meanObliquity2006(jd1, jd2) };
}

/**
 * Bias-precession-nutation matrix, GCRS → true equator and equinox of date.
 *
 * Given: jd1, jd2 — TT.
 * Returned: the matrix `R₁(−ε)·R₃(−ψ)·R₁(φ̄)·R₃(γ̄)` with ψ = ψ̄ + Δψ, ε = ε_A + Δε.
 *
 * Notes: IAU 2006 precession with IAU 2000B nutation (see the module note on accuracy).
 */
export function biasPrecessionNutationMatrix(jd1: number, jd2: number): Mat3 {
  const { gammaBar, phiBar, psiBar, epsA } = precessionAngles2006(jd1, jd2);
  const { dpsi, deps } = nutation2000b(jd1, jd2);
  return mulMat(rotX(-(epsA + deps)), mulMat(rotZ(-(psiBar + dpsi)), mulMat(rotX(phiBar), rotZ(gammaBar))));
}

/**
 * CIO locator s, IAU 2006, to ~0.05 mas.
 *
 * Given: jd1, jd2 — TT; x, y — CIP coordinates (from the bias-precession-nutation matrix).
 * Returned: s (rad).
 *
 * Notes: s = −XY/2 + the polynomial part of s+XY/2 + its two largest periodic terms (in Ω and
 * 2Ω); the remaining terms are each below 12 µas.
 *
 * Reference: IERS Conventions (2010), §5.5.6 and Table 5.2d.
 */
export function cioLocator(jd1: number, jd2: number, x: number, y: number): number {
  const t = julianCenturies(jd1, jd2);
  const om = arcsecToRadReduced(450160.398036 - 6962890.5431 * t);
  const microArcsec =
    94.0 + t * (3808.65 + t * (-122.68 + t * (-72574.11 + t * (27.98 + t * 15.62)))) +
    -2640.73 * Math.sin(om) +
    -63.53 * Math.sin(2 * om);
  return microArcsec * 1e-6 * ARCSEC_TO_RAD - (x * y) / 2;
}

/**
 * Celestial-to-intermediate matrix from the CIP coordinates and the CIO locator.
 *
 * Given: x, y — CIP coordinates X, Y (rad, the direction cosines of the pole in the GCRS);
 * s — CIO locator (rad).
 * Returned: `R₃(−(E+s))·R₂(d)·R₃(E)`, where X = sin d cos E, Y = sin d sin E.
 *
 * Reference: IERS Conventions (2010), §5.4.4, eq. (5.6)–(5.7).
 */
export function intermediateMatrixFromCip(x: number, y: number, s: number): Mat3 {
  const r2 = x * x + y * y;
  const e = r2 > 0 ? Math.atan2(y, x) : 0;
  const d = Math.atan(Math.sqrt(r2 / (1 - r2)));
  return mulMat(rotZ(-(e + s)), mulMat(rotY(d), rotZ(e)));
}

/**
 * Celestial-to-intermediate matrix: GCRS → CIRS.
 *
 * Given: jd1, jd2 — TT.
 * Returned: the matrix of `intermediateMatrixFromCip`, with the CIP taken from row 3 of the
 * bias-precession-nutation matrix and s from `cioLocator`.
 */
export function celestialToIntermediateMatrix(jd1: number, jd2: number): Mat3 {
  const npb = biasPrecessionNutationMatrix(jd1, jd2);
  const x = npb[2][0];
  const y = npb[2][1];
  return intermediateMatrixFromCip(x, y, cioLocator(jd1, jd2, x, y));
}

/**
 * Earth rotation angle, IAU 2000.
 *
 * Given: jd1, jd2 — UT1 as a two-part Julian Date (UTC is used when UT1−UTC is unknown).
 * Returned: θ (rad), in [0, 2π).
 *
 * Notes: θ = 2π (0.7790572732640 + 1.00273781191135448 · Du), Du = UT1 days since J2000.0;
 * the whole days of each part are dropped first so that the large part keeps its precision.
 *
 * Reference: IERS Conventions (2010), §5.5.3, eq. (5.15).
 */
export function earthRotationAngle(jd1: number, jd2: number): number {
  const du = jd1 - J2000_JD + jd2;
  const f = (jd1 % 1) + (jd2 % 1);
  let theta = (TWO_PI * (f + 0.779057273264 + 0.00273781191135448 * du)) % TWO_PI;
  if (theta < 0) theta += TWO_PI;
  return theta;
}

/** Pole coordinates x_p, y_p (arcsec) of the polar-motion matrix. */
export interface PolarMotion {
  readonly xArcsec: number;
  readonly yArcsec: number;
}

/**
 * The 50-year mean pole that astropy uses for dates outside its IERS table (its
 * `_DEFAULT_PM`): x_p = 0.035″, y_p = 0.29″. Offline, with no current Earth-orientation data,
 * this is also the better guess than zero (the pole wanders within ~0.3″ of it, 10 m).
 */
export const MEAN_POLE: PolarMotion = Object.freeze({ xArcsec: 0.035, yArcsec: 0.29 });

/**
 * TIO locator s′, the small drift of the terrestrial intermediate origin.
 *
 * Given: jd1, jd2 — TT. Returned: s′ (rad), −47 µas per century since J2000.0.
 * Reference: IERS Conventions (2010), §5.5.2, eq. (5.13).
 */
export function tioLocator(jd1: number, jd2: number): number {
  return -47e-6 * julianCenturies(jd1, jd2) * ARCSEC_TO_RAD;
}

/**
 * Polar-motion matrix W (TIRS → ITRS): `R₁(−y_p)·R₂(−x_p)·R₃(s′)`.
 *
 * Given: xp, yp — pole coordinates (rad); sp — TIO locator s′ (rad).
 * Reference: IERS Conventions (2010), §5.4.1, eq. (5.3).
 */
export function polarMotionMatrix(xp: number, yp: number, sp: number): Mat3 {
  return mulMat(rotX(-yp), mulMat(rotY(-xp), rotZ(sp)));
}

/**
 * Celestial-to-terrestrial matrix, GCRS → ITRS: `W·R₃(θ)·C2I`.
 *
 * Given: `tt` — TT two-part JD; `ut1` — UT1 (or UTC) two-part JD; `pole` — polar motion
 * (default: the mean pole, see `MEAN_POLE`).
 * Returned: the matrix; its transpose takes ITRS components to GCRS components.
 */
export function celestialToTerrestrialMatrix(
  tt: { jd1: number; jd2: number },
  ut1: { jd1: number; jd2: number },
  pole: PolarMotion = MEAN_POLE,
): Mat3 {
  const w = polarMotionMatrix(pole.xArcsec * ARCSEC_TO_RAD, pole.yArcsec * ARCSEC_TO_RAD, tioLocator(tt.jd1, tt.jd2));
  return mulMat(
    w,
    mulMat(rotZ(earthRotationAngle(ut1.jd1, ut1.jd2)), celestialToIntermediateMatrix(tt.jd1, tt.jd2)),
  );
}
