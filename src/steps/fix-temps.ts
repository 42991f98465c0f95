/**
 * fixTemps: CCDTEMP, BASETEMP and ARCHTEMP from the Archon status snapshot in the CONPARS
 * table (azcam leaves CCDTEMP/BASETEMP at -999.9, raw-format.md §8.1). Which HeaterX sensor is
 * the CCD depends on the instrument's wiring and comes from the configuration.
 */
import { readTable } from '../fits/index.js';
import type { RawFile } from './raw-file.js';
import { applied, skipped, type ProcessingOptions, type StepOutcome } from './types.js';

/** azcam's and the reference's "no reading" value. */
export const NO_READING = -999.9;

/** Python's float() syntax for decimal numbers, without nan/inf: the header cannot hold those. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The temperature in a CONPARS value text, or a reason why there is none. */
export function parseTemperature(text: string | undefined): { value: number } | { reason: string } {
  if (text === undefined) return { reason: 'row missing' };
  const t = text.trim();
  if (!DECIMAL.test(t)) return { reason: `value ${JSON.stringify(text)} is not a finite number` };
  return { value: Number(t) };
}

export async function fixTemps(raw: RawFile, options: Pick<ProcessingOptions, 'sensors' | 'defaultSensors'>): Promise<StepOutcome> {
  const instrument = raw.primary.string('INSTRUME');
  if (instrument === undefined) return skipped('fixTemps', 'INSTRUME missing in the primary header: cannot tell which sensor is the CCD');
  const sensors = options.sensors[instrument.toUpperCase()] ?? options.defaultSensors;
  const warnings: string[] = [];
  let rows = new Map<string, string>();
  if (raw.conpars === undefined) {
    warnings.push(`no CONPARS table: CCDTEMP, BASETEMP and ARCHTEMP set to ${NO_READING}`);
  } else {
    const table = await readTable(raw.source, raw.conpars);
    rows = new Map(table.rows.map((r) => [String(r.Keyword ?? ''), String(r.Value ?? '')]));
    if (!table.columns.some((c) => c.name === 'Keyword') || !table.columns.some((c) => c.name === 'Value')) {
      warnings.push('CONPARS has no Keyword/Value columns');
    }
  }
  const read = (row: string, keyword: string): number => {
    if (raw.conpars === undefined) return NO_READING;
    const t = parseTemperature(rows.get(row));
    if ('value' in t) return t.value;
    warnings.push(`${keyword}: CONPARS ${row} ${t.reason}; set to ${NO_READING}`);
    return NO_READING;
  };
  const ccd = read(sensors.ccd, 'CCDTEMP');
  const base = read(sensors.base, 'BASETEMP');
  const archon = read('BACKPLANE_TEMP', 'ARCHTEMP');
  raw.primary.set('CCDTEMP', ccd, { comment: 'CCD Detector Temperature [deg C]', kind: 'real' });
  raw.primary.set('BASETEMP', base, { comment: 'CCD Mount Base Temperature [deg C]', kind: 'real' });
  raw.primary.set('ARCHTEMP', archon, { comment: 'Archon Controller Backplane Temperature [deg C]', kind: 'real' });
  return applied('fixTemps', warnings);
}
