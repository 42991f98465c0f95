/**
 * `dataman time`: compute MJD-OBS, HJD-OBS and BJD-OBS for a date, time and pointing, as the
 * processing step does — for checking a header by hand or in bulk.
 *
 *   dataman time --date 2026-01-15 --utc 04:12:33.456 --ra 04:03:16.946 --dec +31:30:00.00
 *   dataman time --json < inputs.jsonl      # {"date","utc","ra","dec"} per line → {"mjd","hjd","bjd"}
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { DatamanError, UsageError } from '../../errors.js';
import {
  defaultLeapSeconds,
  LBT_SITE,
  observationTimes,
  type ObservationTimes,
  type Site,
} from '../../time/index.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';

interface TimeOptions {
  date?: string;
  utc?: string;
  ra?: string;
  dec?: string;
  site?: string;
  json?: boolean;
}

/** Parse `--site lat,lon,height` (degrees north, degrees east, metres). */
export function parseSiteOption(text: string): Site {
  const parts = text.split(',').map((p) => p.trim());
  const numbers = parts.map((p) => (p === '' ? Number.NaN : Number(p)));
  const [lat, lon, height] = numbers;
  if (
    parts.length !== 3 ||
    lat === undefined ||
    lon === undefined ||
    height === undefined ||
    !numbers.every(Number.isFinite) ||
    Math.abs(lat) > 90 ||
    lon < -360 ||
    lon > 360
  ) {
    throw new UsageError(`--site ${JSON.stringify(text)} is not valid: expected latitude,longitude,height`, {
      hint: 'degrees north, degrees east (west negative), metres above the WGS84 ellipsoid, e.g. 32.70131,-109.88906,3221',
    });
  }
  return { latitudeDeg: lat, longitudeDeg: lon, heightM: height };
}

function compute(site: Site, date: string, utc: string, ra: unknown, dec: unknown): ObservationTimes {
  const angle = (value: unknown, name: string): string | number | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' || typeof value === 'number') return value;
    throw new UsageError(`${name} should be a string or a number, got ${JSON.stringify(value)}`);
  };
  const result = observationTimes({
    dateObs: date,
    utcObs: utc,
    ra: angle(ra, 'ra'),
    dec: angle(dec, 'dec'),
    site,
    leapSeconds: defaultLeapSeconds(),
  });
  // A pointing that was given but cannot be read is an error here, not a skipped result.
  if (result.targetError) throw result.targetError;
  return result;
}

function printText(ctx: CliContext, result: ObservationTimes): void {
  const lines = [
    `DATE-OBS  ${result.dateObsIso}`,
    `MJD-OBS   ${String(result.mjdUtc)}  modified JD [UTC]`,
  ];
  if (result.hjd !== undefined) lines.push(`HJD-OBS   ${String(result.hjd)}  heliocentric modified JD [UTC]`);
  if (result.bjd !== undefined) lines.push(`BJD-OBS   ${String(result.bjd)}  barycentric modified JD [TDB]`);
  ctx.stdout.write(`${lines.join('\n')}\n`);
  for (const w of result.warnings) ctx.stderr.write(`dataman time: warning: ${w}\n`);
}

function field(record: Record<string, unknown>, name: string): string {
  const value = record[name];
  if (typeof value !== 'string') throw new UsageError(`"${name}" should be a string, got ${JSON.stringify(value)}`);
  return value;
}

async function runJsonLines(ctx: CliContext, site: Site): Promise<void> {
  const lines = createInterface({ input: ctx.stdin, crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    let out: Record<string, unknown>;
    try {
      let input: unknown;
      try {
        input = JSON.parse(line);
      } catch {
        throw new UsageError(`line ${lineNumber} is not JSON`);
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new UsageError(`line ${lineNumber} should be a JSON object {"date","utc","ra","dec"}`);
      }
      const record = input as Record<string, unknown>;
      const result = compute(site, field(record, 'date'), field(record, 'utc'), record['ra'], record['dec']);
      out = { mjd: result.mjdUtc, hjd: result.hjd ?? null, bjd: result.bjd ?? null };
      if (result.warnings.length > 0) out['warnings'] = result.warnings;
    } catch (err) {
      if (!(err instanceof DatamanError)) throw err;
      out = { error: err.message };
      failWith(ctx, ExitCode.failed);
    }
    ctx.stdout.write(`${JSON.stringify(out)}\n`);
  }
}

/** Registers `dataman time`. */
export const registerTime: RegisterCommand = (program: Command, ctx: CliContext): void => {
  program
    .command('time')
    .description(descriptionOf('time'))
    .option('--date <YYYY-MM-DD>', 'UTC date at shutter opening (DATE-OBS)')
    .option('--utc <hh:mm:ss.sss>', 'UTC time at shutter opening (UTC-OBS; ".1000" is carried)')
    .option('--ra <hh:mm:ss.sss>', 'right ascension of the target (TELRA), ICRS')
    .option('--dec <±dd:mm:ss.ss>', 'declination of the target (TELDEC), ICRS')
    .option(
      '--site <lat,lon,height>',
      'observatory: degrees north, degrees east, metres (default: LBT 32.70131,-109.88906,3221)',
    )
    .option('--json', 'read JSON lines {"date","utc","ra","dec"} from standard input, write {"mjd","hjd","bjd"} per line')
    .action(async (opts: TimeOptions) => {
      const site = opts.site === undefined ? LBT_SITE : parseSiteOption(opts.site);
      if (opts.json) {
        const extra = (['date', 'utc', 'ra', 'dec'] as const).filter((k) => opts[k] !== undefined);
        if (extra.length > 0) {
          throw new UsageError(`--json reads its inputs from standard input; do not also give ${extra.map((k) => `--${k}`).join(', ')}`);
        }
        await runJsonLines(ctx, site);
        return;
      }
      if (opts.date === undefined || opts.utc === undefined) {
        throw new UsageError('dataman time needs --date and --utc (or --json)', {
          hint: 'e.g. dataman time --date 2026-01-15 --utc 04:12:33.456 --ra 04:03:16.946 --dec +31:30:00.00',
        });
      }
      let result: ObservationTimes;
      try {
        result = compute(site, opts.date, opts.utc, opts.ra, opts.dec);
      } catch (err) {
        // Everything here came from the command line, so it is a usage error.
        if (err instanceof DatamanError && !(err instanceof UsageError)) {
          throw new UsageError(err.message, { cause: err, ...(err.hint ? { hint: err.hint } : {}) });
        }
        throw err;
      }
      printText(ctx, result);
    });
};
