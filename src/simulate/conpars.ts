/**
 * The CONPARS binary table (HDU 5): one row per `KEY=VALUE` token of the Archon STATUS reply,
 * two NUL-padded `20A` columns, 13 header cards (docs/raw-format.md §6).
 *
 * Only the row count (205) and the three rows dataMan reads are known from real files; the rest
 * of the row list is reconstructed from the Archon STATUS fields of the installed modules
 * (slots 3/7/8 driver, 4 LVXBias, 5 ADC, 9 HVXBias, 10 HeaterX), with plausible values.
 */
import type { Card } from '../fits/card.js';
import { Header } from '../fits/header.js';
import type { Channel } from '../mods/channels.js';
import type { Prng } from './prng.js';

export const CONPARS_FIELD_BYTES = 20;
export const CONPARS_ROW_BYTES = 2 * CONPARS_FIELD_BYTES;

export interface ConparsTexts {
  /** `MOD10/TEMPA` text; MODS1x: base sensor, MODS2x: CCD sensor. */
  tempA?: string | undefined;
  /** `MOD10/TEMPB` text; MODS1x: CCD sensor, MODS2x: base sensor. */
  tempB?: string | undefined;
  /** `BACKPLANE_TEMP` text. */
  backplane?: string | undefined;
}

/** Nominal sensor readings, °C: the CCD is regulated at −106, the mount base runs near −128. */
export const CCD_TEMP_C = -106.011;
export const BASE_TEMP_C = -128.104;
export const BACKPLANE_TEMP_C = 23.819;

/** The STATUS rows in reply order, `[keyword, value]`; 205 rows. */
export function conparsRows(channel: Channel, prng: Prng, texts: ConparsTexts = {}): Array<[string, string]> {
  const jitter = (x: number, amp: number, digits: number) => (x + (prng.next() - 0.5) * 2 * amp).toFixed(digits);
  // MODS1 wires the base sensor to TEMPA and the CCD to TEMPB; MODS2 the other way round.
  const [a, b] = channel.mods === 1 ? [BASE_TEMP_C, CCD_TEMP_C] : [CCD_TEMP_C, BASE_TEMP_C];
  const rows: Array<[string, string]> = [
    ['VALID', '1'],
    ['COUNT', String(prng.int(100_000, 9_000_000))],
    ['LOG', '0'],
    ['POWER', '4'],
    ['POWERGOOD', '1'],
    ['OVERHEAT', '0'],
    ['BACKPLANE_TEMP', texts.backplane ?? BACKPLANE_TEMP_C.toFixed(3)],
  ];
  const rails: Array<[string, number, number]> = [
    ['P2V5', 2.5, 0.31], ['P5V', 5.0, 0.62], ['P6V', 6.0, 0.51], ['N6V', -6.0, -0.38], ['P17V', 17.0, 0.093],
    ['N17V', -17.0, -0.072], ['P35V', 35.0, 0.021], ['N35V', -35.0, -0.011], ['P100V', 100.0, 0.004],
    ['N100V', -100.0, -0.002], ['USER', 0.0, 0.0], ['HEATER', 30.0, 0.151],
  ];
  for (const [name, v, cur] of rails) {
    rows.push([`${name}_V`, jitter(v, Math.abs(v) * 0.002, 3)], [`${name}_I`, jitter(cur, Math.abs(cur) * 0.02, 3)]);
  }
  rows.push(['FANTACH', String(prng.int(4200, 4400))]);
  const moduleTemp = (slot: number) => rows.push([`MOD${slot}/TEMP`, jitter(31.5, 2.5, 3)]);
  moduleTemp(3);
  moduleTemp(4);
  const lvlc = [3.3, -3.3, 5.0, -5.0, 2.5, 1.8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  lvlc.forEach((v, k) => rows.push([`MOD4/LVLC_V${k + 1}`, jitter(v, v === 0 ? 0.002 : 0.004, 3)]));
  lvlc.forEach((v, k) => rows.push([`MOD4/LVLC_I${k + 1}`, jitter(v === 0 ? 0 : 1.2, 0.05, 3)]));
  const lvhc = [-7.0, 5.0, 0, 0, 0, 0];
  lvhc.forEach((v, k) => rows.push([`MOD4/LVHC_V${k + 1}`, jitter(v, 0.004, 3)]));
  lvhc.forEach((v, k) => rows.push([`MOD4/LVHC_I${k + 1}`, jitter(v === 0 ? 0 : 14.5, 0.3, 3)]));
  moduleTemp(5);
  moduleTemp(7);
  moduleTemp(8);
  moduleTemp(9);
  // HVXBias: output drain, reset drain, output gate, guard… (e2v CCD231 bias set)
  const hvlc = [29.0, 29.0, 29.0, 29.0, 17.0, 17.0, 17.0, 17.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  hvlc.forEach((v, k) => rows.push([`MOD9/HVLC_V${k + 1}`, jitter(v, v === 0 ? 0.005 : 0.01, 3)]));
  hvlc.forEach((v, k) => rows.push([`MOD9/HVLC_I${k + 1}`, jitter(v === 0 ? 0 : 0.35, 0.02, 3)]));
  const hvhc = [24.0, 0, 0, 0, 0, 0];
  hvhc.forEach((v, k) => rows.push([`MOD9/HVHC_V${k + 1}`, jitter(v, 0.01, 3)]));
  hvhc.forEach((v, k) => rows.push([`MOD9/HVHC_I${k + 1}`, jitter(v === 0 ? 0 : 2.1, 0.05, 3)]));
  moduleTemp(10);
  rows.push(
    ['MOD10/TEMPA', texts.tempA ?? jitter(a, 0.004, 3)],
    ['MOD10/TEMPB', texts.tempB ?? jitter(b, 0.004, 3)],
    ['MOD10/TEMPC', jitter(-52.0, 0.5, 3)],
    ['MOD10/HEATERAOUTPUT', jitter(1.87, 0.05, 3)],
    ['MOD10/HEATERBOUTPUT', '0.000'],
    ['MOD10/HEATERAP', jitter(0.21, 0.01, 3)],
    ['MOD10/HEATERAI', jitter(1.66, 0.02, 3)],
    ['MOD10/HEATERAD', '0.000'],
    ['MOD10/HEATERBP', '0.000'],
    ['MOD10/HEATERBI', '0.000'],
    ['MOD10/HEATERBD', '0.000'],
    ['MOD10/HEATERARAMP', '0'],
    ['MOD10/HEATERBRAMP', '0'],
    ['MOD10/DINPUTS', '00000000'],
  );
  for (let k = 0; k < 16; k++) rows.push([`MOD10/VCPU_INREG${k}`, '0']);
  for (let k = 0; k < 16; k++) rows.push([`MOD10/VCPU_OUTREG${k}`, '0']);
  return rows;
}

/** The 13-card BINTABLE header astropy writes for CONPARS. */
export function buildConparsHeader(rowCount: number): Header {
  const h = new Header();
  const cards: Card[] = [
    { keyword: 'XTENSION', kind: 'string', value: 'BINTABLE', comment: 'binary table extension' },
    { keyword: 'BITPIX', kind: 'integer', value: 8, comment: 'array data type' },
    { keyword: 'NAXIS', kind: 'integer', value: 2, comment: 'number of array dimensions' },
    { keyword: 'NAXIS1', kind: 'integer', value: CONPARS_ROW_BYTES, comment: 'length of dimension 1' },
    { keyword: 'NAXIS2', kind: 'integer', value: rowCount, comment: 'length of dimension 2' },
    { keyword: 'PCOUNT', kind: 'integer', value: 0, comment: 'number of group parameters' },
    { keyword: 'GCOUNT', kind: 'integer', value: 1, comment: 'number of groups' },
    { keyword: 'TFIELDS', kind: 'integer', value: 2, comment: 'number of table fields' },
    { keyword: 'TTYPE1', kind: 'string', value: 'Keyword', comment: undefined },
    { keyword: 'TFORM1', kind: 'string', value: '20A', comment: undefined },
    { keyword: 'TTYPE2', kind: 'string', value: 'Value', comment: undefined },
    { keyword: 'TFORM2', kind: 'string', value: '20A', comment: undefined },
    { keyword: 'EXTNAME', kind: 'string', value: 'CONPARS', comment: 'extension name' },
  ];
  for (const c of cards) h.push(c);
  return h;
}

/** The table rows as bytes (no padding): ASCII, cut at 20 bytes, NUL-padded. */
export function encodeConparsRows(rows: ReadonlyArray<readonly [string, string]>): Buffer {
  const out = Buffer.alloc(rows.length * CONPARS_ROW_BYTES);
  rows.forEach(([key, value], r) => {
    out.write(key.slice(0, CONPARS_FIELD_BYTES), r * CONPARS_ROW_BYTES, 'latin1');
    out.write(value.slice(0, CONPARS_FIELD_BYTES), r * CONPARS_ROW_BYTES + CONPARS_FIELD_BYTES, 'latin1');
  });
  return out;
}
