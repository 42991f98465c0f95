/**
 * What a MODS long-slit exposure sees, per unbinned detector column, as count rates (DN per
 * second per unbinned pixel): the light filling the slit (night sky, arc lamps or the flat-field
 * lamp) and the light of the target on it (a galaxy or a standard star).
 *
 * Dispersion runs along the columns (DISPAXIS = 1) with a linear wavelength solution over the
 * whole CCD width: blue 3200–5800 Å, red 5500–10000 Å. Line wavelengths are real air
 * wavelengths (sky: Osterbrock et al. 1996, PASP 108, 277; lamps: NIST ASD), rounded to 0.01 Å;
 * strengths and the dispersion are plausible, not calibrated. Counts scale with the exposure
 * time; an image type with the shutter closed sees nothing.
 */
import type { Channel } from '../mods/channels.js';

/** A line: air wavelength (Å) and strength (relative to the list's unit). */
export type Line = readonly [wavelength: number, strength: number];

/** Blue and red wavelength ranges across the CCD, Å. */
export const WAVELENGTH_RANGE: Readonly<Record<Channel['color'], readonly [number, number]>> = Object.freeze({
  blue: [3200, 5800],
  red: [5500, 10000],
});

/** Instrumental line σ in unbinned pixels (a 0.6" slit, about 4.7 pixels FWHM). */
const LINE_SIGMA_PIXELS = 2.0;

/** Night-sky emission: city mercury, [O I], Na D and the OH Meinel bands. Unit: 1.5 DN/s peak. */
const SKY_LINES: readonly Line[] = [
  [4046.56, 0.1], [4358.34, 0.25], [5460.74, 0.3], [5577.34, 1.0], [5889.95, 0.25], [5895.92, 0.2], [6300.30, 0.6],
  [6363.78, 0.2], [6498.73, 0.08], [6553.62, 0.08], [6863.96, 0.16], [6923.22, 0.12], [7276.41, 0.16], [7316.28, 0.24],
  [7340.89, 0.2], [7369.25, 0.18], [7401.69, 0.12], [7750.64, 0.24], [7794.11, 0.22], [7821.50, 0.26], [7913.71, 0.3],
  [7993.33, 0.34], [8344.60, 0.5], [8399.17, 0.44], [8430.17, 0.4], [8465.36, 0.4], [8761.32, 0.44], [8767.91, 0.4],
  [8827.10, 0.6], [8885.85, 0.52], [8919.64, 0.3], [8943.40, 0.4], [8958.09, 0.48], [9001.36, 0.36], [9375.96, 0.5],
  [9419.74, 0.46], [9439.67, 0.56], [9458.53, 0.44], [9476.91, 0.52], [9502.37, 0.6], [9519.18, 0.48], [9552.45, 0.4],
  [9567.09, 0.56], [9607.38, 0.4], [9872.20, 0.4],
];
const SKY_LINE_UNIT = 1.5;

/** Comparison lamps: Hg(Ar), Xe and Kr in the blue; Ne, Ar and Kr in the red. Unit: 3000 DN/s peak. */
const ARC_LINES: Readonly<Record<Channel['color'], readonly Line[]>> = {
  blue: [
    [3650.15, 0.3], [4046.56, 0.6], [4077.83, 0.1], [4158.59, 0.1], [4200.67, 0.1], [4273.97, 0.1], [4319.58, 0.1],
    [4358.33, 1.0], [4500.98, 0.1], [4624.28, 0.3], [4671.23, 0.5], [4697.02, 0.2], [4734.15, 0.25], [4807.02, 0.3],
    [4829.71, 0.2], [4843.29, 0.2], [4916.51, 0.2], [4923.15, 0.25], [5028.28, 0.15], [5460.74, 1.0], [5570.29, 0.3],
    [5769.60, 0.3], [5790.66, 0.3],
  ],
  red: [
    [5852.49, 0.5], [5881.90, 0.3], [5944.83, 0.4], [6029.99, 0.2], [6074.34, 0.3], [6096.16, 0.3], [6143.06, 0.5],
    [6163.59, 0.3], [6217.28, 0.3], [6266.50, 0.4], [6304.79, 0.3], [6334.43, 0.5], [6382.99, 0.5], [6402.25, 0.8],
    [6506.53, 0.5], [6532.88, 0.3], [6598.95, 0.3], [6678.28, 0.4], [6717.04, 0.3], [6929.47, 0.5], [7032.41, 0.6],
    [7173.94, 0.3], [7245.17, 0.4], [7438.90, 0.3], [7503.87, 0.6], [7587.41, 0.4], [7635.11, 0.8], [7685.25, 0.3],
    [7723.76, 0.4], [7948.18, 0.6], [8014.79, 0.5], [8115.31, 1.0], [8264.52, 0.6], [8424.65, 0.5], [8521.44, 0.5],
    [8776.75, 0.4], [8928.69, 0.3], [9122.97, 0.8], [9224.50, 0.4], [9657.78, 0.5],
  ],
};
const ARC_LINE_UNIT = 3000;

/** The galaxy on the slit: z = 0.2, so that both channels' 1k ROIs hold an emission line. */
const GALAXY_REDSHIFT = 0.2;
/** Rest-frame nebular emission: [O II], Hβ, [O III], Hα, [N II], [S II]. Unit: 15 DN/s peak, σ 100 km/s. */
const GALAXY_EMISSION: readonly Line[] = [
  [3727.42, 2.0], [4861.33, 1.0], [4958.91, 1.3], [5006.84, 4.0], [6548.05, 0.4], [6562.80, 3.5], [6583.45, 1.2],
  [6716.44, 0.7], [6730.82, 0.5],
];
const EMISSION_UNIT = 15;
/** Rest-frame stellar absorption of the galaxy: Ca II K and H, G band, Mg b, Na D, the Ca II triplet (depth, σ Å). */
const GALAXY_ABSORPTION: ReadonlyArray<readonly [number, number, number]> = [
  [3933.66, 0.5, 4], [3968.47, 0.45, 4], [4304.4, 0.2, 6], [5175.4, 0.2, 8], [5892.9, 0.2, 4], [8498.0, 0.2, 4],
  [8542.1, 0.3, 4], [8662.1, 0.25, 4],
];
/** The standard star's Balmer and He II absorption (depth, σ Å). */
const STAR_ABSORPTION: ReadonlyArray<readonly [number, number, number]> = [
  [3970.07, 0.3, 10], [4101.74, 0.3, 12], [4340.47, 0.35, 14], [4685.7, 0.1, 6], [4861.33, 0.35, 15], [6562.80, 0.3, 15],
];
/** Telluric absorption of light from outside the atmosphere: O₂ B and A bands, H₂O (observed Å, depth, σ Å). */
const TELLURIC: ReadonlyArray<readonly [number, number, number]> = [
  [6875, 0.35, 8], [7610, 0.55, 12], [8230, 0.15, 40], [9400, 0.3, 120],
];

/** What lights the slit and what sits on it, per exposure type. */
export type SceneKind = 'sky' | 'arc' | 'flat' | 'dark';
export type TargetKind = 'galaxy' | 'star';

/** Peak continuum rates, DN/s per unbinned pixel. */
const RATES = {
  /** Dark night sky: faint in the blue, brighter in the red. */
  skyContinuum: { blue: 0.006, red: 0.03 },
  /** The quartz-halogen lamp's continuum at its peak. */
  flat: 2500,
  /** Target continuum at the trace's peak row. */
  galaxy: 12,
  star: 300,
} as const;

/** The light of one exposure per unbinned column, DN/s per unbinned pixel. */
export interface ColumnSpectra {
  /** Wavelength of each unbinned column centre, Å (index 0 is detector column 1). */
  wavelength: Float64Array;
  /** Light filling the slit (uniform along it). */
  slit: Float64Array;
  /** The target's light at the trace's peak row, or undefined when there is no target. */
  trace: Float64Array | undefined;
}

/** Wavelength of each unbinned detector column of a channel (linear solution). */
export function columnWavelengths(color: Channel['color'], columns: number): Float64Array {
  const [start, end] = WAVELENGTH_RANGE[color];
  const step = (end - start) / columns;
  const out = new Float64Array(columns);
  for (let c = 0; c < columns; c++) out[c] = start + (c + 0.5) * step;
  return out;
}

/**
 * Spectra already computed, by channel colour, columns, scene and target: a few milliseconds
 * each, as much as generating a whole 1k frame, and there are only a few dozen combinations.
 * Callers must not change the arrays.
 */
const computed = new Map<string, ColumnSpectra>();

/** The light of an exposure: `scene` fills the slit, `target` (if any) is the trace. The arrays are shared: read only. */
export function columnSpectra(color: Channel['color'], columns: number, scene: SceneKind, target: TargetKind | undefined): ColumnSpectra {
  const key = `${color} ${columns} ${scene} ${target ?? ''}`;
  let spectra = computed.get(key);
  if (spectra === undefined) {
    spectra = computeSpectra(color, columns, scene, target);
    computed.set(key, spectra);
  }
  return spectra;
}

function computeSpectra(color: Channel['color'], columns: number, scene: SceneKind, target: TargetKind | undefined): ColumnSpectra {
  const wavelength = columnWavelengths(color, columns);
  const [start, end] = WAVELENGTH_RANGE[color];
  const dispersion = (end - start) / columns;
  const instrumentalSigma = LINE_SIGMA_PIXELS * dispersion;
  const slit = new Float64Array(columns);
  const throughput = wavelength.map((l) => channelThroughput(color, l));
  if (scene === 'sky') {
    const rate = RATES.skyContinuum[color];
    // The dark sky continuum rises towards the red (zodiacal light and airglow pseudo-continuum).
    for (let c = 0; c < columns; c++) slit[c] = rate * throughput[c]! * (wavelength[c]! / 6000) ** 1.5;
    addLines(slit, wavelength, SKY_LINES, SKY_LINE_UNIT, instrumentalSigma, throughput);
  } else if (scene === 'arc') {
    addLines(slit, wavelength, ARC_LINES[color], ARC_LINE_UNIT, instrumentalSigma, throughput);
  } else if (scene === 'flat') {
    // A 3100 K lamp: hardly any ultraviolet, so the blue end of a blue flat is faint, as in real ones.
    const peak = maxOf(wavelength.map((l, c) => planck(l, 3100) * throughput[c]!));
    for (let c = 0; c < columns; c++) slit[c] = (RATES.flat * planck(wavelength[c]!, 3100) * throughput[c]!) / peak;
  }
  let trace: Float64Array | undefined;
  if (target === 'galaxy') trace = galaxySpectrum(wavelength, throughput, instrumentalSigma);
  if (target === 'star') trace = starSpectrum(wavelength, throughput);
  return { wavelength, slit, trace };
}

function galaxySpectrum(wavelength: Float64Array, throughput: Float64Array, instrumentalSigma: number): Float64Array {
  const z1 = 1 + GALAXY_REDSHIFT;
  const shape = wavelength.map((l, c) => planck(l / z1, 5200) * throughput[c]! * absorption(l, GALAXY_ABSORPTION, z1) * absorption(l, TELLURIC, 1));
  const peak = maxOf(shape);
  const out = shape.map((v) => (RATES.galaxy * v) / peak);
  const emission = GALAXY_EMISSION.map(([l, s]): Line => [l * z1, s]);
  // 100 km/s intrinsic width in quadrature with the instrument's.
  const sigma = (l: number) => Math.hypot(instrumentalSigma, (l * 100) / 299_792.458);
  addLines(out, wavelength, emission, EMISSION_UNIT, sigma, throughput);
  return out;
}

function starSpectrum(wavelength: Float64Array, throughput: Float64Array): Float64Array {
  const shape = wavelength.map((l, c) => planck(l, 30000) * throughput[c]! * absorption(l, STAR_ABSORPTION, 1) * absorption(l, TELLURIC, 1));
  const peak = maxOf(shape);
  return shape.map((v) => (RATES.star * v) / peak);
}

/**
 * Adds Gaussian lines (peak `strength · unit · throughput`) into `out`. `sigma` in Å, fixed or
 * per wavelength. Each line touches only the columns within 6 σ.
 */
function addLines(out: Float64Array, wavelength: Float64Array, lines: readonly Line[], unit: number,
  sigma: number | ((l: number) => number), throughput: Float64Array): void {
  const n = wavelength.length;
  const start = wavelength[0]!;
  const step = n > 1 ? wavelength[1]! - start : 1;
  for (const [l, strength] of lines) {
    const s = typeof sigma === 'number' ? sigma : sigma(l);
    const c0 = Math.max(0, Math.floor((l - 6 * s - start) / step));
    const c1 = Math.min(n - 1, Math.ceil((l + 6 * s - start) / step));
    for (let c = c0; c <= c1; c++) {
      const d = (wavelength[c]! - l) / s;
      out[c] = out[c]! + strength * unit * throughput[c]! * Math.exp(-0.5 * d * d);
    }
  }
}

/** Product of Gaussian absorption dips `1 − depth·exp(−½((λ − λ₀·z1)/σ)²)` at wavelength `l`. */
function absorption(l: number, features: ReadonlyArray<readonly [number, number, number]>, z1: number): number {
  let f = 1;
  for (const [l0, depth, sigma] of features) {
    const d = (l - l0 * z1) / (sigma * z1);
    if (Math.abs(d) < 6) f *= 1 - depth * Math.exp(-0.5 * d * d);
  }
  return f;
}

/** Telescope, spectrograph and CCD together: the atmosphere's UV cut-off and the dichroic in the blue, the CCD's fall-off in the red. */
function channelThroughput(color: Channel['color'], l: number): number {
  if (color === 'blue') return smoothstep((l - 3150) / 600) * (1 - 0.35 * smoothstep((l - 5300) / 500));
  return smoothstep((l - 5450) / 300) * (1 - 0.85 * smoothstep((l - 8200) / 1800));
}

function smoothstep(t: number): number {
  const x = t < 0 ? 0 : t > 1 ? 1 : t;
  return x * x * (3 - 2 * x);
}

/** Planck's law per unit wavelength, arbitrary units (λ in Å). */
function planck(l: number, temperature: number): number {
  const x = 1.4387769e8 / (l * temperature);
  return 1 / (l ** 5 * Math.expm1(x));
}

function maxOf(values: Float64Array): number {
  let m = 0;
  for (const v of values) if (v > m) m = v;
  return m;
}
