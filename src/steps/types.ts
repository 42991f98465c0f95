/**
 * What every processing step shares: its name (= its config switch), its outcome, and the
 * options that steer processing. Expected absences are outcomes, not exceptions: a step that
 * cannot run says why and the others go on.
 */
import type { Site } from '../time/index.js';
import type { LeapSecondTable } from '../time/index.js';

/** The five steps of the reference dataMan, in the order they run. */
export const STEP_NAMES = ['fixDETSEC', 'fixDateTime', 'fixTemps', 'fixMisc', 'makeOTM'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export type StepSwitches = Record<StepName, boolean>;

export interface StepOutcome {
  step: StepName | 'UNIQNAME';
  /** applied: ran (possibly with warnings); skipped: could not run, `reason` says why; disabled: off in the config. */
  status: 'applied' | 'skipped' | 'disabled';
  reason?: string;
  warnings: string[];
}

/** Which CONPARS rows hold the CCD and the mount-base temperatures, per instrument. */
export interface TemperatureSensors {
  ccd: string;
  base: string;
}

export type { Clock } from '../base/clock.js';
import type { Clock } from '../base/clock.js';
export { systemClock } from '../base/clock.js';

export interface ProcessingOptions {
  steps: StepSwitches;
  /** Observatory site for HJD/BJD (the reference uses LBT). */
  site: Site;
  leapSeconds: LeapSecondTable;
  /** Sensor rows per INSTRUME value; instruments not listed use `defaultSensors`. */
  sensors: Record<string, TemperatureSensors>;
  defaultSensors: TemperatureSensors;
  /** Clock for UNIQNAME (local wall clock, as the reference) and checksum stamps. */
  clock: Clock;
  /** IANA time zone of the "local" clock; undefined = the host's. */
  timeZone?: string | undefined;
  /**
   * Called between pieces of the heavy work (each piece of raw data read and summed, each
   * amplifier measured): a host may block the thread there for a while, to lend its core to
   * more urgent work (the service's background jobs, while a new exposure is processed).
   */
  checkpoint?: (() => void) | undefined;
}

/** The reference mapping (raw-format.md §6): MODS1 reads the CCD on TEMPB, MODS2 on TEMPA. */
export const REFERENCE_SENSORS: Record<string, TemperatureSensors> = {
  MODS1B: { ccd: 'MOD10/TEMPB', base: 'MOD10/TEMPA' },
  MODS1R: { ccd: 'MOD10/TEMPB', base: 'MOD10/TEMPA' },
};
export const REFERENCE_DEFAULT_SENSORS: TemperatureSensors = { ccd: 'MOD10/TEMPA', base: 'MOD10/TEMPB' };

export const ALL_STEPS_ON: StepSwitches = { fixDETSEC: true, fixDateTime: true, fixTemps: true, fixMisc: true, makeOTM: true };

export function applied(step: StepOutcome['step'], warnings: string[] = []): StepOutcome {
  return { step, status: 'applied', warnings };
}

export function skipped(step: StepOutcome['step'], reason: string, warnings: string[] = []): StepOutcome {
  return { step, status: 'skipped', reason, warnings };
}

/** Warnings of all outcomes, each prefixed with its step, plus skip reasons. */
export function outcomeMessages(outcomes: StepOutcome[]): string[] {
  return outcomes.flatMap((o) => [
    ...(o.status === 'skipped' ? [`${o.step} skipped: ${o.reason}`] : []),
    ...o.warnings.map((w) => `${o.step}: ${w}`),
  ]);
}
