/**
 * UNIQNAME = `<instrument>.<YYYYMMDD>.<hhmmss>.fits` from the local wall clock at processing
 * time (raw-format.md §10.2 step 5). Added to every processed file, and used as the file name
 * when the usual name is already taken.
 */
import type { Header } from '../fits/index.js';
import { compactDate, compactTime, localParts } from '../base/local-time.js';
import { applied, type Clock, type StepOutcome } from './types.js';

export function uniqueName(instrumentId: string, clock: Clock, timeZone?: string): string {
  const parts = localParts(clock.now(), timeZone);
  return `${instrumentId}.${compactDate(parts)}.${compactTime(parts)}.fits`;
}

export function stampUniqueName(primary: Header, clock: Clock, timeZone?: string): { name: string; outcome: StepOutcome } {
  const instrument = primary.string('INSTRUME');
  const warnings = instrument === undefined ? ['no INSTRUME keyword - corrupt header? UNIQNAME uses modsNx'] : [];
  const name = uniqueName(instrument?.trim().toLowerCase() || 'modsNx', clock, timeZone);
  primary.set('UNIQNAME', name, { comment: 'Unique filename', kind: 'string' });
  return { name, outcome: applied('UNIQNAME', warnings) };
}
