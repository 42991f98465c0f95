/**
 * Options of the synthetic raw-file generator: the partial input, the defaults (in one place)
 * and the validated, fully-resolved form the builders use.
 */
import { type Channel, channelById, formatRawName, isCalendarDate } from '../mods/channels.js';
import {
  type Binning, type DetectorFormat, type ReadoutGeometry, detectorFormat, parseBinning, readoutGeometry, resolveRoiPreset,
  ROI_PRESET_NAMES, type RoiPreset,
} from '../mods/geometry.js';
import { UsageError } from '../errors.js';
import { parseSexagesimal } from './sky.js';

/**
 * Ways a raw file can be wrong, each seen (or possible) in production:
 * - `no-conpars`: the CONPARS table was never appended (5 HDUs).
 * - `truncated`: the file ends early (at `truncateAt`, or a seeded random byte).
 * - `missing-keywords`: the keywords in `missingKeywords` are absent from every HDU.
 * - `imagetyp-lower`: IMAGETYP lower case, as azcam writes it (the default anyway).
 * - `imagetyp-upper`: IMAGETYP upper case (as after dataMan).
 * - `sexagesimal-altaz`: TELALT `+dd:mm:ss.ss` / TELAZ `+ddd:mm:ss.sss` strings (before 2026-02-26).
 * - `blank-nstype`: NSTYPE and NSEPHFIL are blank `''` (the default anyway).
 * - `nstype-missing`: NSTYPE absent (NSEPHFIL still present).
 * - `utc-fraction-1000`: UTC-OBS / TIME-OBS / UT end in `.1000` (azcam's rounding bug).
 * - `nan-temperature`: the CONPARS row of the CCD sensor reads `nan`.
 * - `nonsider-text`: NONSIDER is the string `'0'` instead of an integer.
 * - `lbtwlink-text`: LBTWLINK is `'True'` instead of `'1'`.
 * - `q-extnames`: extensions named Q1..Q4 (files written before 2026-01-02).
 */
export const BROKEN_VARIANTS = [
  'no-conpars', 'truncated', 'missing-keywords', 'imagetyp-lower', 'imagetyp-upper', 'sexagesimal-altaz', 'blank-nstype',
  'nstype-missing', 'utc-fraction-1000', 'nan-temperature', 'nonsider-text', 'lbtwlink-text', 'q-extnames',
] as const;
export type BrokenVariant = (typeof BROKEN_VARIANTS)[number];

/** Keywords removed by `missing-keywords` when no list is given. */
export const DEFAULT_MISSING_KEYWORDS: readonly string[] = Object.freeze(['REF-PIX1', 'INSTRUME', 'OVRSCAN1', 'TELRA', 'UTC-OBS', 'DATE-OBS']);

/** Image types of `mods.py` (`image_types`); shutter open for object, flat, comp, std. */
export const IMAGE_TYPES = ['object', 'bias', 'flat', 'dark', 'comp', 'std', 'zero'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];
const SHUTTER_OPEN: ReadonlySet<string> = new Set(['object', 'flat', 'comp', 'std']);

/**
 * Exposure time and OBJECT of each image type when none is given: what a MODS night records
 * (science frames of minutes, a standard star of seconds, lamps of seconds, biases of none).
 * An image type outside the list gets the `object` defaults.
 */
export const IMAGE_TYPE_DEFAULTS: Readonly<Record<ImageType, { exptimeS: number; object: string }>> = Object.freeze({
  object: { exptimeS: 300, object: 'Synthetic galaxy z=0.2' },
  std: { exptimeS: 30, object: 'Synthetic standard star' },
  flat: { exptimeS: 10, object: 'Continuum lamp flat' },
  comp: { exptimeS: 10, object: 'Comparison lamps' },
  bias: { exptimeS: 0, object: 'Bias' },
  zero: { exptimeS: 0, object: 'Bias' },
  dark: { exptimeS: 300, object: 'Dark' },
});

/** The defaults of an image type (any case), the object's for one outside the list. */
export function imageTypeDefaults(imageType: string): { exptimeS: number; object: string } {
  const key = imageType.toLowerCase();
  return (IMAGE_TYPES as readonly string[]).includes(key) ? IMAGE_TYPE_DEFAULTS[key as ImageType] : IMAGE_TYPE_DEFAULTS.object;
}

export interface SimulateOptions {
  /** Channel: `mods1b`, `MODS2R`… @default 'mods1b' */
  instrument?: string;
  /** Observing date `YYYYMMDD` of the file name. @default '20260115' */
  obsDate?: string;
  /** Sequence number 1..9999. @default 1 */
  seq?: number;
  /** ROI preset name (`full`, `off`, `8kx3k`, `3k`, `3kx3k`, `1k`, `1kx1k`, `4k`, `4kx3k`). @default 'full' */
  roi?: string;
  /** Binning, `{ col, row }` or `'CxR'`. @default 1x1 */
  bin?: Binning | string;
  /** Detector format: the current one or the Dec-2025 one (8288 columns). @default 'current' */
  detector?: 'current' | 'dec2025';
  /** Seed of the pixel noise (and of a random truncation point). @default 1 */
  seed?: number;
  /** IMAGETYP (lower case as azcam writes it). @default 'object' */
  imageType?: string;
  /** OBJECT. @default per image type, `IMAGE_TYPE_DEFAULTS` (`'Synthetic galaxy z=0.2'` for object) */
  object?: string;
  /**
   * Exposure time, seconds (truncated to ms as azcam does); the recorded light scales with it.
   * @default per image type, `IMAGE_TYPE_DEFAULTS` (300 s for object, 0 for bias)
   */
  exptimeS?: number;
  /**
   * Shutter-open instant, ISO 8601 UTC (`2026-01-15T04:12:33.456Z`).
   * @default obsDate at 04:12:33.456 UTC plus 60 s per sequence number after the first
   */
  utcStart?: string;
  /** Host time zone, hours west of UTC (TIMEZONE, LOCTIME). 0 reproduces the Dec-2025 UTC hosts. @default 7 */
  timezoneHours?: number;
  /** Write the Instrument block (49 keywords). @default true */
  instrumentBlock?: boolean;
  /** Write the Telescope block (76 keywords). @default true */
  telescopeBlock?: boolean;
  /** Target right ascension `hh:mm:ss.sss` (TELRA). @default '04:03:16.946' */
  telra?: string;
  /** Target declination `±dd:mm:ss.ss` (TELDEC). @default '+31:30:00.00' */
  teldec?: string;
  /** Bias level of IM1..IM4 in DN. @default [1021, 975, 1003, 988] */
  biasLevels?: readonly [number, number, number, number];
  /** Gaussian read noise σ in DN. @default 1.5 */
  readNoiseDn?: number;
  /**
   * Make the first two overscan columns read 4 and 2 DN high, as real files sometimes do (§7;
   * dataMan skips them). Off by default: the overscan then holds bias + noise only.
   * @default false
   */
  warmOverscan?: boolean;
  /**
   * Put the target on the slit: a galaxy's trace (a standard star's for `std`).
   * @default true for object and std, false otherwise
   */
  trace?: boolean;
  /** Broken variants to apply. @default [] */
  broken?: readonly string[];
  /** Keywords removed by `missing-keywords` (implies it). @default DEFAULT_MISSING_KEYWORDS */
  missingKeywords?: readonly string[];
  /** Byte at which `truncated` cuts the file (implies it). @default a seeded random byte */
  truncateAt?: number;
  /** CONPARS texts: `MOD10/TEMPA`, `MOD10/TEMPB`, `BACKPLANE_TEMP` (e.g. `'nan'`). */
  conpars?: { tempA?: string; tempB?: string; backplane?: string };
  /** Primary keyword values to replace (keeping the card's place, type and comment). */
  keywords?: Readonly<Record<string, string | number | boolean>>;
}

/** The options after validation, with every default filled in. */
export interface ResolvedOptions {
  channel: Channel;
  obsDate: string;
  seq: number;
  name: string;
  roiPreset: RoiPreset;
  bin: Binning;
  detector: DetectorFormat;
  geometry: ReadoutGeometry;
  seed: number;
  imageType: string;
  shutterOpen: boolean;
  object: string;
  exptimeS: number;
  utcStartMs: number;
  timezoneHours: number;
  instrumentBlock: boolean;
  telescopeBlock: boolean;
  telra: string;
  teldec: string;
  biasLevels: readonly [number, number, number, number];
  readNoiseDn: number;
  warmOverscan: boolean;
  trace: boolean;
  broken: ReadonlySet<BrokenVariant>;
  missingKeywords: readonly string[];
  truncateAt: number | undefined;
  conpars: { tempA: string | undefined; tempB: string | undefined; backplane: string | undefined };
  keywords: Readonly<Record<string, string | number | boolean>>;
}

export const DEFAULT_BIAS_LEVELS: readonly [number, number, number, number] = Object.freeze([1021, 975, 1003, 988] as const);

/** Validates and completes options; throws `UsageError` naming the bad option. */
export function resolveOptions(options: SimulateOptions = {}): ResolvedOptions {
  const channel = channelById(options.instrument ?? 'mods1b');
  if (channel === undefined) {
    throw new UsageError(`instrument must be one of MODS1B, MODS1R, MODS2B, MODS2R, got ${JSON.stringify(options.instrument)}`);
  }
  const obsDate = options.obsDate ?? '20260115';
  if (!isCalendarDate(obsDate)) throw new UsageError(`date must be a YYYYMMDD calendar date, got ${JSON.stringify(obsDate)}`);
  const seq = options.seq ?? 1;
  if (!Number.isInteger(seq) || seq < 1 || seq > 9999) throw new UsageError(`sequence number must be 1..9999, got ${seq}`);
  const roiPreset = resolveRoiPreset(options.roi ?? 'full');
  if (roiPreset === undefined) {
    throw new UsageError(`unknown ROI ${JSON.stringify(options.roi)}`, { hint: `known presets: ${ROI_PRESET_NAMES.join(', ')}` });
  }
  const bin = typeof options.bin === 'string' ? parseBinning(options.bin) : options.bin ?? { col: 1, row: 1 };
  if (bin === undefined || !Number.isInteger(bin.col) || !Number.isInteger(bin.row) || bin.col < 1 || bin.row < 1 || bin.col > 16 || bin.row > 16) {
    throw new UsageError(`binning must be CxR with factors 1..16 (e.g. 2x2), got ${JSON.stringify(options.bin)}`);
  }
  const detector = detectorFormat(options.detector ?? 'current');
  const geometry = readoutGeometry(detector.presets[roiPreset], bin, detector);
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed)) throw new UsageError(`seed must be a number, got ${seed}`);
  const imageType = options.imageType ?? 'object';
  if (!/^[\x20-\x7e]{1,68}$/.test(imageType)) throw new UsageError(`image type must be printable ASCII, got ${JSON.stringify(imageType)}`);
  const defaults = imageTypeDefaults(imageType);
  const object = options.object ?? defaults.object;
  if (!/^[\x20-\x7e]{0,68}$/.test(object)) throw new UsageError(`object must be printable ASCII (up to 68 characters), got ${JSON.stringify(object)}`);
  const exptimeS = options.exptimeS ?? defaults.exptimeS;
  if (!Number.isFinite(exptimeS) || exptimeS < 0 || exptimeS > 1e6) throw new UsageError(`exposure time must be 0..1e6 s, got ${exptimeS}`);
  let utcStartMs: number;
  if (options.utcStart !== undefined) {
    utcStartMs = Date.parse(options.utcStart);
    if (!Number.isFinite(utcStartMs) || !/(Z|[+-]\d\d:?\d\d)$/.test(options.utcStart)) {
      throw new UsageError(`UTC start must be an ISO 8601 instant with a zone (…Z), got ${JSON.stringify(options.utcStart)}`);
    }
  } else {
    const day = Date.UTC(Number(obsDate.slice(0, 4)), Number(obsDate.slice(4, 6)) - 1, Number(obsDate.slice(6, 8)));
    // 04:12:33.456 UTC is 21:12 MST of the evening before: inside the night named obsDate.
    utcStartMs = day + (4 * 3600 + 12 * 60 + 33.456) * 1000 + ((seq - 1) % 600) * 60_000;
  }
  const timezoneHours = options.timezoneHours ?? 7;
  if (!Number.isFinite(timezoneHours) || Math.abs(timezoneHours) > 14) throw new UsageError(`time zone must be −14..14 h, got ${timezoneHours}`);
  const telra = options.telra ?? '04:03:16.946';
  const teldec = options.teldec ?? '+31:30:00.00';
  const ra = parseSexagesimal(telra);
  const dec = parseSexagesimal(teldec);
  if (!(ra >= 0 && ra < 24)) throw new UsageError(`TELRA must be hh:mm:ss.sss, got ${JSON.stringify(telra)}`);
  if (!(dec >= -90 && dec <= 90)) throw new UsageError(`TELDEC must be ±dd:mm:ss.ss, got ${JSON.stringify(teldec)}`);
  const biasLevels = options.biasLevels ?? DEFAULT_BIAS_LEVELS;
  if (biasLevels.length !== 4 || !biasLevels.every((b) => Number.isInteger(b) && b >= 0 && b <= 60000)) {
    throw new UsageError(`bias levels must be four integers 0..60000, got ${JSON.stringify(biasLevels)}`);
  }
  const readNoiseDn = options.readNoiseDn ?? 1.5;
  if (!(readNoiseDn >= 0 && readNoiseDn <= 1000)) throw new UsageError(`read noise must be 0..1000 DN, got ${readNoiseDn}`);

  const broken = new Set<BrokenVariant>();
  for (const v of options.broken ?? []) {
    if (!(BROKEN_VARIANTS as readonly string[]).includes(v)) {
      throw new UsageError(`unknown broken variant ${JSON.stringify(v)}`, { hint: `known: ${BROKEN_VARIANTS.join(', ')}` });
    }
    broken.add(v as BrokenVariant);
  }
  if (options.missingKeywords !== undefined) broken.add('missing-keywords');
  if (options.truncateAt !== undefined) broken.add('truncated');
  if (broken.has('imagetyp-lower') && broken.has('imagetyp-upper')) throw new UsageError('imagetyp-lower and imagetyp-upper exclude each other');
  if (broken.has('blank-nstype') && broken.has('nstype-missing')) throw new UsageError('blank-nstype and nstype-missing exclude each other');
  const telescopeBlock = options.telescopeBlock ?? true;
  for (const v of ['sexagesimal-altaz', 'nstype-missing', 'nonsider-text', 'lbtwlink-text', 'blank-nstype'] as const) {
    if (broken.has(v) && !telescopeBlock) throw new UsageError(`broken variant ${v} needs the Telescope block`);
  }
  if (broken.has('nan-temperature') && broken.has('no-conpars')) throw new UsageError('nan-temperature needs the CONPARS table');
  const missingKeywords = broken.has('missing-keywords') ? [...(options.missingKeywords ?? DEFAULT_MISSING_KEYWORDS)] : [];
  for (const k of missingKeywords) {
    if (['SIMPLE', 'BITPIX', 'NAXIS', 'NAXIS1', 'NAXIS2', 'EXTEND', 'XTENSION', 'PCOUNT', 'GCOUNT', 'TFIELDS', 'TFORM1', 'TFORM2'].includes(k)) {
      throw new UsageError(`${k} is a mandatory FITS keyword; removing it would not make a readable file`);
    }
  }
  const truncateAt = options.truncateAt;
  if (truncateAt !== undefined && (!Number.isInteger(truncateAt) || truncateAt < 0)) {
    throw new UsageError(`truncation point must be a non-negative integer byte offset, got ${truncateAt}`);
  }

  for (const [k, v] of Object.entries(options.keywords ?? {})) {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new UsageError(`keyword ${k}: ${v} cannot be written to a FITS header`);
  }

  return Object.freeze({
    channel,
    obsDate,
    seq,
    name: formatRawName(channel.id, obsDate, seq),
    roiPreset,
    bin: { col: bin.col, row: bin.row },
    detector,
    geometry,
    seed,
    imageType,
    shutterOpen: SHUTTER_OPEN.has(imageType.toLowerCase()),
    object,
    exptimeS,
    utcStartMs,
    timezoneHours,
    instrumentBlock: options.instrumentBlock ?? true,
    telescopeBlock,
    telra,
    teldec,
    biasLevels: Object.freeze([...biasLevels]) as unknown as readonly [number, number, number, number],
    readNoiseDn,
    warmOverscan: options.warmOverscan ?? false,
    trace: options.trace ?? ['object', 'std'].includes(imageType.toLowerCase()),
    broken,
    missingKeywords,
    truncateAt,
    conpars: { tempA: options.conpars?.tempA, tempB: options.conpars?.tempB, backplane: options.conpars?.backplane },
    keywords: { ...(options.keywords ?? {}) },
  });
}
