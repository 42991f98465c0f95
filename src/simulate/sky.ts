/**
 * Just enough spherical astronomy to give synthetic telescope headers consistent values:
 * sidereal time, hour angle, altitude/azimuth, airmass and parallactic angle of a target seen
 * from the LBT at a UTC instant, plus the sexagesimal formats of the LBT TCS.
 *
 * Precision: GMST from the linear IAU 1982 expression (±0.1 s over decades), no precession,
 * nutation or refraction — ample for plausible header values, not for astrometry.
 * References: Meeus, Astronomical Algorithms (2nd ed.), eq. 12.4 (GMST), 13.5–13.6 (alt/az),
 * 14.1 (parallactic angle).
 */

/** Site of the template keywords LATITUDE / LONGITUD (west positive) / ELEVATIO (§4.3). */
export const LBT_LATITUDE_DEG = 32.70131;
export const LBT_LONGITUDE_WEST_DEG = 109.88906;

const DEG = Math.PI / 180;

export interface SkyPosition {
  /** Local apparent sidereal time, hours 0..24. */
  lstHours: number;
  /** Hour angle, hours −12..12 (west positive). */
  haHours: number;
  altDeg: number;
  /** Azimuth, degrees 0..360 from north through east. */
  azDeg: number;
  airmass: number;
  parallacticDeg: number;
}

/**
 * Given: `utcMs` (ms since 1970 UTC), target `raHours`, `decDeg`.
 * Returned: sidereal time, hour angle, altitude, azimuth, sec(z) airmass, parallactic angle.
 */
export function skyPosition(utcMs: number, raHours: number, decDeg: number): SkyPosition {
  const d = utcMs / 86_400_000 + 2440587.5 - 2451545.0;
  const gmstHours = mod(18.697374558 + 24.06570982441908 * d, 24);
  const lstHours = mod(gmstHours - LBT_LONGITUDE_WEST_DEG / 15, 24);
  let haHours = mod(lstHours - raHours, 24);
  if (haHours > 12) haHours -= 24;
  const h = haHours * 15 * DEG;
  const dec = decDeg * DEG;
  const lat = LBT_LATITUDE_DEG * DEG;
  const sinAlt = Math.sin(lat) * Math.sin(dec) + Math.cos(lat) * Math.cos(dec) * Math.cos(h);
  const alt = Math.asin(Math.max(-1, Math.min(1, sinAlt)));
  // Azimuth from north through east.
  const az = Math.atan2(-Math.cos(dec) * Math.sin(h), Math.sin(dec) * Math.cos(lat) - Math.cos(dec) * Math.sin(lat) * Math.cos(h));
  const q = Math.atan2(Math.sin(h), Math.tan(lat) * Math.cos(dec) - Math.sin(dec) * Math.cos(h));
  const z = Math.PI / 2 - alt;
  return {
    lstHours,
    haHours,
    altDeg: alt / DEG,
    azDeg: mod(az / DEG, 360),
    airmass: alt > 0 ? 1 / Math.cos(z) : 99.99,
    parallacticDeg: q / DEG,
  };
}

function mod(x: number, m: number): number {
  return ((x % m) + m) % m;
}

/**
 * Sexagesimal text: `units` (hours or degrees) → `[sign]dd:mm:ss.fff`.
 * @param options.width digits of the leading field (2 for hours/dec, 3 for azimuth)
 * @param options.decimals digits after the decimal point of the seconds
 * @param options.signed always write a sign (`+`/`-`)
 */
export function sexagesimal(value: number, options: { width?: number; decimals: number; signed: boolean }): string {
  const width = options.width ?? 2;
  const sign = value < 0 ? '-' : options.signed ? '+' : '';
  const scale = 10 ** options.decimals;
  // Round once, in units of the last written digit, so that 59.9995 s carries into the minute.
  let total = Math.round(Math.abs(value) * 3600 * scale);
  const frac = total % scale;
  total = (total - frac) / scale;
  const s = total % 60;
  const m = ((total - s) / 60) % 60;
  const d = Math.floor(total / 3600);
  const fracText = options.decimals > 0 ? `.${String(frac).padStart(options.decimals, '0')}` : '';
  return `${sign}${String(d).padStart(width, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${fracText}`;
}

/** Parses `[±]dd:mm:ss.sss` to hours or degrees; NaN when malformed. */
export function parseSexagesimal(text: string): number {
  const m = /^\s*([+-]?)(\d{1,3}):(\d{1,2}):(\d{1,2}(?:\.\d*)?)\s*$/.exec(text);
  if (m === null) return Number.NaN;
  const v = Number(m[2]) + Number(m[3]) / 60 + Number(m[4]) / 3600;
  return m[1] === '-' ? -v : v;
}
