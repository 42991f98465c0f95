/**
 * The IMx extension headers (HDU 1..4), 73 cards each in azcam's order (docs/raw-format.md
 * §5.1): astropy's IMAGE header, BZERO/BSCALE as reals right after EXTNAME, INHERIT, BUNIT,
 * then the blocks Image, WCS and AzCam Focal plane with the values of `readoutGeometry`.
 */
import type { Card } from '../fits/card.js';
import { Header } from '../fits/header.js';
import { type ReadoutGeometry, float32Decimal } from '../mods/geometry.js';
import { pushTitle } from './primary-header.js';

const s = (keyword: string, value: string, comment?: string): Card => ({ keyword, kind: 'string', value, comment });
const i = (keyword: string, value: number, comment?: string): Card => ({ keyword, kind: 'integer', value, comment });
const f = (keyword: string, value: number, comment?: string): Card => ({ keyword, kind: 'real', value, comment });
/** azcam keeps these in float32 arrays: numpy prints the shortest float32 decimal. */
const f32 = (keyword: string, value: number, comment?: string): Card => f(keyword, float32Decimal(value), comment);

/**
 * Header of raw extension `ext` (1..4).
 * @param extname `IM1`… (or `Q1`… for files written before 2026-01-02)
 */
export function buildExtensionHeader(geometry: ReadoutGeometry, ext: number, extname: string): Header {
  const e = geometry.extensions[ext - 1];
  if (e === undefined) throw new RangeError(`extension must be 1..4, got ${ext}`);
  const h = new Header();
  const push = (card: Card) => h.push(card);
  push(s('XTENSION', 'IMAGE', 'Image extension'));
  push(i('BITPIX', 16, 'array data type'));
  push(i('NAXIS', 2, 'number of data axes'));
  push(i('NAXIS1', geometry.naxis1));
  push(i('NAXIS2', geometry.naxis2));
  push(i('PCOUNT', 0, 'number of parameters'));
  push(i('GCOUNT', 1, 'number of groups'));
  push(s('EXTNAME', extname, 'extension name'));
  push(f('BZERO', 32768.0));
  push(f('BSCALE', 1.0));
  push({ keyword: 'INHERIT', kind: 'logical', value: true, comment: 'extension inherits PHDU keyword/values?' });
  push(s('BUNIT', 'ADU', 'Physical unit of array values'));

  pushTitle(h, 'Image');
  push(i('IMAGEID', e.ext, 'Image ID'));
  push(s('CCDNAME', 'ccd1', 'CCD name'));
  push(s('DETSIZE', e.DETSIZE, 'Detector size'));
  push(s('CCDSIZE', e.CCDSIZE, 'CCD size'));
  push(s('BIASSEC', e.BIASSEC, 'Bias section'));
  push(s('DATASEC', e.DATASEC, 'Data section'));
  push(s('TRIMSEC', e.TRIMSEC, 'Trim section'));
  push(s('AMPSEC', e.AMPSEC, 'Amplifier section'));
  push(s('DETSEC', e.DETSEC, 'Detector section'));
  push(s('CCDSEC', e.CCDSEC, 'CCD section'));
  push(s('CCDSEC1', e.CCDSEC1, 'CCD section with binning'));
  push(i('OVRSCAN1', geometry.overscanCols, 'Overscan on axis 1'));
  push(i('OVRSCAN2', 0, 'Overscan on axis 2'));
  push(i('PRESCAN1', 0, 'Underscan on axis 1'));
  push(i('PRESCAN2', 0, 'Underscan on axis 2'));
  push(s('CCDSUM', geometry.ccdsum, 'CCD pixel summing'));
  push(f32('LTM1_1', e.ltm[0], 'CCD to image transformation'));
  push(f32('LTM2_2', e.ltm[1], 'CCD to image transformation'));
  push(f32('LTV1', e.ltv[0], 'CCD to image transformation'));
  push(f32('LTV2', e.ltv[1], 'CCD to image transformation'));
  push(i('ATM1_1', e.atm[0], 'CCD to amplifier transformation'));
  push(i('ATM2_2', e.atm[1], 'CCD to amplifier transformation'));
  push(i('ATV1', e.atv[0], 'CCD to amplifier transformation'));
  push(i('ATV2', e.atv[1], 'CCD to amplifier transformation'));
  push(i('DTM1_1', e.dtm[0], 'CCD to detector transformation'));
  push(i('DTM2_2', e.dtm[1], 'CCD to detector transformation'));
  push(i('DTV1', e.dtv[0], 'CCD to detector transformation'));
  push(i('DTV2', e.dtv[1], 'CCD to detector transformation'));

  pushTitle(h, 'WCS');
  push(i('EQUINOX', 2000, 'Equinox of WCS'));
  push(i('WCSDIM', 2, 'WCS Dimensionality'));
  push(s('CTYPE1', 'RA---TAN', 'Coordinate type'));
  push(s('CTYPE2', 'DEC--TAN', 'Coordinate type'));
  // The telescope tool has no RA/DEC keyword, so azcam falls back to 00:00:00.
  push(f('CRVAL1', 0.0, 'Coordinate reference value'));
  push(f('CRVAL2', 0.0, 'Coordinate reference value'));
  push(f('CRPIX1', e.crpix[0], 'Coordinate reference pixel'));
  push(f('CRPIX2', e.crpix[1], 'Coordinate reference pixel'));
  push(f32('CD1_1', e.cd[0], 'Coordinate matrix'));
  push(f32('CD1_2', e.cd[1], 'Coordinate matrix'));
  push(f32('CD2_1', e.cd[2], 'Coordinate matrix'));
  push(f32('CD2_2', e.cd[3], 'Coordinate matrix'));

  pushTitle(h, 'AzCam Focal plane');
  push(i('AMP-CFG', e.ampConfig, 'Amplifier configuration'));
  push(i('DET-NUM', 1, 'Detector number'));
  push(i('EXT-NUM', e.ext, 'extension number'));
  push(i('JPG-EXT', e.ext, 'Image section'));
  push(i('DET-POSX', 1, 'Detector position in X'));
  push(i('DET-POSY', 1, 'Detector position in Y'));
  push(i('EXT-POSX', e.extPos[0], 'Amplifier position in X'));
  push(i('EXT-POSY', e.extPos[1], 'Amplifier position in Y'));
  push(i('AMP-PIX1', e.ampPix[0], 'Amplifier pixel position in X'));
  push(i('AMP-PIX2', e.ampPix[1], 'Amplifier pixel position in Y'));
  push(f('GAIN', 2.0, 'Amplifier gain'));
  push(f('RDNOISE', 2.0, 'Amplifier read noise'));
  return h;
}
