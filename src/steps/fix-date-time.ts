/**
 * fixDateTime: ISO-8601 DATE-OBS (date + 'T' + UTC-OBS) and MJD-OBS, HJD-OBS, BJD-OBS (modified
 * Julian dates at the start of the exposure) as the reference computes them with astropy
 * (raw-format.md §8.2), with the site from the configuration and every missing input named in a
 * warning instead of silently dropping HJD/BJD (behaviour.md §9 row 3). UTC-OBS fractions of
 * `.1000` are carried into the seconds (§9 row 4). A DATE-OBS that already carries a time (an
 * already processed file) is used as it is, so that reprocessing changes nothing.
 */
import { DatamanError } from '../errors.js';
import { observationTimes } from '../time/index.js';
import type { RawFile } from './raw-file.js';
import { applied, skipped, type ProcessingOptions, type StepOutcome } from './types.js';

export function fixDateTime(raw: RawFile, options: Pick<ProcessingOptions, 'site' | 'leapSeconds'>): StepOutcome {
  const h = raw.primary;
  const dateObsText = h.string('DATE-OBS');
  if (dateObsText === undefined) return skipped('fixDateTime', h.has('DATE-OBS') ? 'DATE-OBS is not a string' : 'DATE-OBS missing');
  let date = dateObsText.trim();
  let utc: string | undefined;
  const t = date.indexOf('T');
  if (t >= 0) {
    utc = date.slice(t + 1);
    date = date.slice(0, t);
  } else {
    utc = h.string('UTC-OBS')?.trim();
    if (utc === undefined) return skipped('fixDateTime', h.has('UTC-OBS') ? 'UTC-OBS is not a string' : 'UTC-OBS missing');
  }
  let times;
  try {
    times = observationTimes({
      dateObs: date,
      utcObs: utc,
      ra: coordinate(h.value('TELRA')),
      dec: coordinate(h.value('TELDEC')),
      site: options.site,
      leapSeconds: options.leapSeconds,
    });
  } catch (err) {
    if (err instanceof DatamanError) return skipped('fixDateTime', err.message);
    throw err;
  }
  // The time library names what is missing (TELRA/TELDEC: TCS offline?) and what it corrected.
  const warnings = [...times.warnings];
  h.set('DATE-OBS', times.dateObsIso, { comment: 'UTC Date at start of obs', kind: 'string' });
  h.set('MJD-OBS', times.mjdUtc, { comment: 'Modified JD at start of obs [UTC]', kind: 'real' });
  if (times.hjd !== undefined && times.bjd !== undefined) {
    h.set('HJD-OBS', times.hjd, { comment: 'Heliocentric MJD at start of obs [UTC]', kind: 'real' });
    h.set('BJD-OBS', times.bjd, { comment: 'Barycentric MJD at start of obs [TDB]', kind: 'real' });
  }
  return applied('fixDateTime', warnings);
}

/** TELRA/TELDEC as the time library takes them: text or a number; anything else counts as missing. */
function coordinate(value: unknown): string | number | undefined {
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}
