/**
 * The primary header (HDU 0) in azcam's layout (docs/raw-format.md §4.1–§4.3): the preamble,
 * then the blocks MODS, Controller, Exposure, Instrument, Temperature, Telescope and AzCam Focal
 * plane, each opened by a COMMENT rule/title/rule and sorted by keyword. 78 cards without the
 * Instrument and Telescope blocks, 209 with both.
 */
import type { Card } from '../fits/card.js';
import { Header } from '../fits/header.js';
import type { ResolvedOptions } from './options.js';
import { type BlockCard, instrumentBlock, telescopeBlock } from './iif-blocks.js';
import { parseSexagesimal, skyPosition } from './sky.js';

export const COMMENT_RULE = '='.repeat(66);

/** The times azcam writes for a shutter-open instant. */
export interface ExposureTimes {
  /** DATE-OBS and DATE: `YYYY-MM-DD`. */
  date: string;
  /** UTC-OBS, TIME-OBS, UT: `hh:mm:ss.sss`. */
  utc: string;
  /** LOCTIME: `hh:mm:ss` host local time. */
  local: string;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

export function exposureTimes(utcMs: number, timezoneHours: number): ExposureTimes {
  const t = new Date(Math.round(utcMs));
  const date = `${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())}`;
  const utc = `${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())}.${String(t.getUTCMilliseconds()).padStart(3, '0')}`;
  const l = new Date(Math.round(utcMs) - timezoneHours * 3_600_000);
  const local = `${pad2(l.getUTCHours())}:${pad2(l.getUTCMinutes())}:${pad2(l.getUTCSeconds())}`;
  return { date, utc, local };
}

const s = (keyword: string, value: string, comment: string | undefined): BlockCard => ({ keyword, kind: 'string', value, comment });
const i = (keyword: string, value: number, comment: string): BlockCard => ({ keyword, kind: 'integer', value, comment });
const f = (keyword: string, value: number, comment: string): BlockCard => ({ keyword, kind: 'real', value, comment });

/** Shutter-open and closed-shutter milliseconds per image type (`exposure_archon.py` `set_exposuretime`). */
function controllerTimes(imageType: string, exptimeMs: number, shutterOpen: boolean): [number, number] {
  if (imageType.toLowerCase() === 'zero') return [0, 0];
  if (shutterOpen) return [exptimeMs, 500];
  return [0, exptimeMs];
}

/** TIMEZONE as azcam writes it: the hours west of UTC as text, `'7.0'`. */
function timezoneText(hours: number): string {
  return Number.isInteger(hours) ? `${hours}.0` : String(hours);
}

export function buildPrimaryHeader(o: ResolvedOptions): Header {
  const ch = o.channel;
  const g = o.geometry;
  const times = exposureTimes(o.utcStartMs, o.timezoneHours);
  const utc = o.broken.has('utc-fraction-1000') ? `${times.utc.slice(0, 8)}.1000` : times.utc;
  const exptimeMs = Math.trunc(o.exptimeS * 1000 + 1e-6);
  const exptime = exptimeMs / 1000;
  const [intms, nointms] = controllerTimes(o.imageType, exptimeMs, o.shutterOpen);
  const imagetyp = o.broken.has('imagetyp-upper') ? o.imageType.toUpperCase() : o.imageType.toLowerCase();

  const preamble: BlockCard[] = [
    { keyword: 'SIMPLE', kind: 'logical', value: true, comment: 'conforms to FITS standard' },
    i('BITPIX', 8, 'array data type'),
    i('NAXIS', 0, 'number of array dimensions'),
    { keyword: 'EXTEND', kind: 'logical', value: true, comment: undefined },
    i('NEXTEND', 4, 'Number of extensions'),
    s('DETSIZE', g.detsize, 'Detector size'),
    s('CCDSUM', g.ccdsum, 'CCD pixel summing'),
    i('CCDBIN1', g.bin.col, 'Binning factor along axis 1'),
    i('CCDBIN2', g.bin.row, 'Binning factor along axis 2'),
    s('FILENAME', o.name, 'base filename at acquisition'),
    i('NCCDS', 1, 'Number of CCDs'),
    i('NAMPS', 4, 'Number of amplifiers'),
  ];
  const blocks: Array<[string, BlockCard[]]> = [
    ['MODS', [s('DEWAR', ch.instrument, 'CCD Dewar')]],
    ['Controller', [i('INTMS', intms, 'Open shutter exposure time (ms)'), i('NOINTMS', nointms, 'Closed shutter exposure time (ms)')]],
    ['Exposure', [
      s('CCDCTRLR', 'Archon', 'STA Archon CCD controller'),
      s('CHANNEL', ch.channelKeyword, 'MODS Channel [blue|red]'),
      f('DARKTIME', exptime, 'Dark time (seconds)'),
      s('DATE', times.date, 'UTC date and time file writtten'),
      s('DATE-OBS', times.date, 'UTC shutter opened'),
      s('DETECTOR', ch.detector, 'Detector name'),
      i('DISPAXIS', 1, 'Spectral Dispersion Axis'),
      f('ELEVATIO', 3221.0, 'Site Elevation [meters]'),
      f('EQUINOX', 2000.0, 'Equinox of coordinates'),
      f('EXPTIME', exptime, 'Exposure time (seconds)'),
      f('FOCSCALE', 1.67, 'Focal Plane Scale [arcsec per mm]'),
      i('GRORDER', 1, 'Grating order used'),
      s('IMAGETYP', imagetyp, 'Image type'),
      s('INSTRUME', ch.instrument, 'Instrument Name'),
      f('LATITUDE', 32.70131, 'Site Latitude [deg N]'),
      s('LOCTIME', times.local, 'Local time at start of exposure'),
      f('LONGITUD', 109.88906, 'Site Longitude [deg W]'),
      s('OBJECT', o.object, undefined),
      s('OBSERVAT', 'MGIO-LBT', 'Observatory Site'),
      s('OBSERVER', 'Observer Name(s)', 'Observer(s)'),
      s('ORIGIN', 'MGIO-LBT', 'Location where the data was generated'),
      s('PARTNER', 'ENGINEERING', 'LBT Project Partner(s)'),
      f('PIXSCALE', ch.pixscaleArcsec, 'Unbinned pixel scale [arcsec per pixel]'),
      f('PIXSIZE', 15.0, 'Unbinned pixel size [microns]'),
      s('PI_NAME', 'ENGINEERING', 'Project PI Name(s)'),
      s('PROPID', 'ENGINEERING', 'Observing Proposal ID'),
      s('RADECSYS', 'FK5', 'Coordinate System'),
      s('SUPPORT', 'Support Name(s)', 'LBT Support Scientist(s) on duty'),
      s('TELESCOP', ch.telescope, 'Telescope and Focal Station'),
      s('TELOPS', 'TelOps Name(s)', 'LBT Telescope Operator(s) on duty'),
      s('TIME-OBS', utc, 'UTC at start of exposure'),
      s('TIMESYS', 'UTC', 'Time system'),
      s('TIMEZONE', timezoneText(o.timezoneHours), 'Local time zone'),
      s('UT', utc, 'UTC at start of exposure'),
      s('UTC-OBS', utc, 'UTC at start of exposure'),
    ]],
  ];
  if (o.instrumentBlock) blocks.push(['Instrument', instrumentBlock(ch)]);
  blocks.push(['Temperature', [
    f('BASETEMP', -999.9, 'CCD mount base temperature [deg C]'),
    f('CCDTEMP', -999.9, 'CCD detector temperature [deg C]'),
  ]]);
  if (o.telescopeBlock) {
    const sky = skyPosition(o.utcStartMs, parseSexagesimal(o.telra), parseSexagesimal(o.teldec));
    let cards = telescopeBlock({ channel: ch, telra: o.telra, teldec: o.teldec, sky, sexagesimalAltAz: o.broken.has('sexagesimal-altaz') });
    if (o.broken.has('nonsider-text')) cards = cards.map((c) => (c.keyword === 'NONSIDER' ? { ...c, kind: 'string', value: '0' } : c));
    if (o.broken.has('lbtwlink-text')) cards = cards.map((c) => (c.keyword === 'LBTWLINK' ? { ...c, value: 'True' } : c));
    if (o.broken.has('nstype-missing')) cards = cards.filter((c) => c.keyword !== 'NSTYPE');
    blocks.push(['Telescope', cards]);
  }
  blocks.push(['AzCam Focal plane', [
    { keyword: 'AZCAM-HEAD', kind: 'string', value: 'OK', comment: 'AzCam Header flag', hierarch: true },
    i('N-AMPS-X', 2, 'Number of amplifiers in X'),
    i('N-AMPS-Y', 2, 'Number of amplifiers in Y'),
    i('N-DET-X', 1, 'Number of detectors in X'),
    i('N-DET-Y', 1, 'Number of detectors in Y'),
    i('NUM-AMPX', 2, 'Number of amplifiers in X'),
    i('NUM-AMPY', 2, 'Number of amplifiers in Y'),
    i('NUM-DETX', 1, 'Number of detectors in X'),
    i('NUM-DETY', 1, 'Number of detectors in Y'),
    i('REF-PIX1', o.detector.refPix[0], 'Reference pixel 1'),
    i('REF-PIX2', o.detector.refPix[1], 'Reference pixel 2'),
  ]]);

  const header = new Header();
  for (const card of preamble) header.push(toCard(card));
  for (const [title, cards] of blocks) {
    if (cards.length === 0) continue; // azcam omits empty blocks, title included
    pushTitle(header, title);
    for (const card of [...cards].sort((a, b) => (a.keyword < b.keyword ? -1 : a.keyword > b.keyword ? 1 : 0))) {
      header.push(toCard(card));
    }
  }
  for (const [keyword, value] of Object.entries(o.keywords)) header.set(keyword, value);
  return header;
}

/** COMMENT rule, title, rule: the opening of every azcam header block. */
export function pushTitle(header: Header, title: string): void {
  for (const text of [COMMENT_RULE, title, COMMENT_RULE]) {
    header.push({ keyword: 'COMMENT', kind: 'commentary', value: text, comment: undefined });
  }
}

/** A block card as a header card. */
export function toCard(card: BlockCard): Card {
  return { keyword: card.keyword, kind: card.kind, value: card.value, comment: card.comment, ...(card.hierarch ? { hierarch: true } : {}) };
}
