/**
 * fixMisc: the archive and legacy-MODS keyword fixes of the reference (raw-format.md §8.2,
 * fixMisc items 1–11), with the corrections of behaviour.md §9 (NSTYPE/NSEPHFIL handled one by
 * one, NONSIDER parsed as a number, binning-aware CCDROI) and idempotence (a value the step
 * itself wrote, such as LBTWLINK = 'Up', is kept on reprocessing).
 */
import { type Card, type Header, valueText } from '../fits/index.js';
import { parseSexagesimalDegrees } from '../time/index.js';
import type { RawFile } from './raw-file.js';
import { applied, type StepOutcome } from './types.js';
import { readBinning } from './binning.js';
import { requireNumbers } from './keywords.js';

/** Degrees from a number or a sexagesimal/decimal text (astropy Angle(…, unit=deg) semantics). */
export function angleDegrees(card: Card | undefined): number | undefined {
  if (card === undefined) return undefined;
  if (card.kind === 'integer' || card.kind === 'real') return Number(card.value);
  if (card.kind !== 'string') return undefined;
  try {
    return parseSexagesimalDegrees(valueText(card.value));
  } catch {
    return undefined; // the caller names the keyword and what it does instead
  }
}

export function fixMisc(raw: RawFile): StepOutcome {
  const h = raw.primary;
  const warnings: string[] = [];

  // 1–2. TELALT/TELAZ to decimal degrees (both or neither), ZD = 90 − TELALT.
  const alt = angleDegrees(h.get('TELALT'));
  const az = angleDegrees(h.get('TELAZ'));
  if (alt !== undefined && az !== undefined) {
    h.set('TELALT', alt, { comment: 'Telescope Altitude at start of obs [deg]', kind: 'real' });
    h.set('TELAZ', az, { comment: 'Telescope Azimuth at start of obs [deg]', kind: 'real' });
  } else {
    warnings.push(`TELALT/TELAZ left as they are: ${describeAngleProblem(h, 'TELALT', alt)}${describeAngleProblem(h, 'TELAZ', az)}`.replace(/; $/, ''));
  }
  h.set('ZD', alt === undefined ? -99.99 : 90 - alt, { comment: 'Zenith distance at start of obs [deg]', kind: 'real' });
  if (alt === undefined) warnings.push('ZD set to -99.99: no usable TELALT');

  // 3. LBTWLINK 1/0 → Up/Down, as legacy MODS wrote it.
  h.set('LBTWLINK', weatherLink(h.get('LBTWLINK')), { comment: 'LBT Weather Station Link State', kind: 'string' });

  // 4. CCDROI in unbinned detector coordinates.
  const im1 = raw.images[0].header;
  const { values, problems } = requireNumbers([
    ['NAXIS1', im1, 'IM1'], ['NAXIS2', im1, 'IM1'], ['OVRSCAN1', im1, 'IM1'],
    ['REF-PIX1', h, 'the primary header'], ['REF-PIX2', h, 'the primary header'],
  ]);
  const binning = readBinning(im1, h);
  if (problems.length > 0) {
    warnings.push(`CCDROI not set: ${problems.join('; ')}`);
  } else {
    const bx = binning?.columns ?? 1;
    const by = binning?.rows ?? 1;
    const w = (values.NAXIS1 - values.OVRSCAN1) * bx;
    const rows = values.NAXIS2 * by;
    const c0 = values['REF-PIX1'];
    const r0 = values['REF-PIX2'];
    h.set('CCDROI', `[${c0 - w + 1}:${c0 + w},${r0 - rows + 1}:${r0 + rows}]`, { comment: 'CCD readout ROI coords', kind: 'string' });
  }

  // 5. CCDXBIN/CCDYBIN from IM1's CCDSUM.
  const imBinning = readBinning(im1);
  if (imBinning === undefined) {
    warnings.push('CCDXBIN/CCDYBIN not set: CCDSUM missing or unreadable in IM1');
  } else {
    h.set('CCDXBIN', imBinning.columns, { comment: 'CCD X-axis Binning Factor', kind: 'integer' });
    h.set('CCDYBIN', imBinning.rows, { comment: 'CCD Y-axis Binning Factor', kind: 'integer' });
  }

  // 6. OBJNAME from OBJECT (an undefined OBJECT is copied as undefined).
  const object = h.get('OBJECT');
  if (object === undefined) h.set('OBJNAME', 'None', { comment: 'Target name', kind: 'string' });
  else h.set('OBJNAME', object.value, { comment: 'Target Name', kind: object.kind === 'commentary' ? 'string' : object.kind });

  // 7. Target and guide-star keywords the IIF data dictionary does not provide.
  const fixed: Array<[string, string | number, string]> = [
    ['OBJRADEC', 'FK5', 'Target coordinate system'],
    ['OBJEQUIN', 'J2000', 'Target coordinate system equinox'],
    ['OBJEPOCH', 2000, 'Target epoch'],
    ['GUINAME', 'None', 'Guide star name'],
    ['GUIRADEC', 'FK5', 'Guide star coordinate system'],
    ['GUIEQUIN', 'J2000', 'Guide star coordinate system equinox'],
    ['GUIPMRA', 0, 'Guide star RA proper motion [mas/yr]'],
    ['GUIPMDEC', 0, 'Guide star DEC proper motion [mas/yr]'],
    ['GUIEPOCH', 2000, 'Guide star epoch'],
  ];
  for (const [keyword, value, comment] of fixed) {
    h.set(keyword, value, { comment, kind: typeof value === 'number' ? 'real' : 'string' });
  }

  // 8. NSTYPE/NSEPHFIL: a blank or missing one becomes 'None', each on its own.
  for (const [keyword, comment] of [['NSTYPE', 'Non-sidereal target type'], ['NSEPHFIL', 'Non-sidereal ephemeris file name']] as const) {
    const card = h.get(keyword);
    if (card?.kind === 'string' && valueText(card.value).trim() !== '') continue;
    if (card !== undefined && card.kind !== 'string') warnings.push(`${keyword} was not a string (${JSON.stringify(valueText(card.value))}); set to 'None'`);
    h.set(keyword, 'None', { comment, kind: 'string' });
  }

  // 9. NONSIDER as a logical, parsed as a number (the text '0' is F, not T).
  const nonsider = h.get('NONSIDER');
  if (nonsider !== undefined) {
    const flag = truthValue(nonsider);
    if (flag === undefined) warnings.push(`NONSIDER = ${JSON.stringify(valueText(nonsider.value))} is neither a number nor a logical; left as it is`);
    else h.set('NONSIDER', flag, { comment: 'Target is non-sidereal', kind: 'logical' });
  }

  // 10. NEXTEND is wrong (4 with 5 extensions) and not needed.
  h.delete('NEXTEND');

  // 11. IMAGETYP in upper case, as the archive expects.
  const imagetyp = h.get('IMAGETYP');
  if (imagetyp?.kind === 'string') h.set('IMAGETYP', valueText(imagetyp.value).toUpperCase(), { comment: 'Image type', kind: 'string' });
  else if (imagetyp !== undefined) warnings.push('IMAGETYP is not a string; left as it is');

  return applied('fixMisc', warnings);
}

function describeAngleProblem(h: Header, keyword: string, value: number | undefined): string {
  if (value !== undefined) return '';
  return h.has(keyword) ? `${keyword} ${JSON.stringify(valueText(h.value(keyword) ?? null))} is not an angle; ` : `${keyword} missing; `;
}

/** 1 → Up, other integers → Down, anything else → Unknown; Up/Down/Unknown are kept. */
export function weatherLink(card: Card | undefined): 'Up' | 'Down' | 'Unknown' {
  if (card === undefined) return 'Unknown';
  if (card.kind === 'string') {
    const text = valueText(card.value).trim();
    if (text === 'Up' || text === 'Down' || text === 'Unknown') return text;
    if (/^[+-]?\d+$/.test(text)) return Number(text) === 1 ? 'Up' : 'Down';
    return 'Unknown';
  }
  if (card.kind === 'integer' || card.kind === 'real') return Math.trunc(Number(card.value)) === 1 ? 'Up' : 'Down'; // Python int()
  if (card.kind === 'logical') return card.value ? 'Up' : 'Down'; // Python int(True) == 1
  return 'Unknown';
}

function truthValue(card: Card): boolean | undefined {
  switch (card.kind) {
    case 'logical': return card.value as boolean;
    case 'integer':
    case 'real': return Number(card.value) !== 0;
    case 'string': {
      const text = valueText(card.value).trim();
      if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return Number(text) !== 0;
      if (/^(t|true|y|yes)$/i.test(text)) return true;
      if (/^(f|false|n|no)$/i.test(text)) return false;
      return undefined;
    }
    default: return undefined;
  }
}
