import { defaultLeapSeconds, LBT_SITE } from '../time/index.js';
import {
  ALL_STEPS_ON, REFERENCE_DEFAULT_SENSORS, REFERENCE_SENSORS, systemClock, type Clock, type ProcessingOptions,
} from './types.js';

/**
 * The part of a configuration the steps read (the service's `DatamanConfig` fits it); the steps
 * own this type so that they know nothing of ops/.
 */
export interface ProcessingConfig {
  processing: ProcessingOptions['steps'];
  site: ProcessingOptions['site'];
  sensors: ProcessingOptions['sensors'];
  defaultSensors: ProcessingOptions['defaultSensors'];
  timeZone?: string | undefined;
}

/** The options a worker thread can be sent: it loads its own leap seconds and has its own clock. */
export type PortableProcessingOptions = Omit<ProcessingOptions, 'leapSeconds' | 'clock'>;

/** Processing options from a configuration, or the reference defaults, without the tables. */
export function portableProcessingOptions(config: ProcessingConfig | undefined): PortableProcessingOptions {
  return {
    steps: { ...(config?.processing ?? ALL_STEPS_ON) },
    site: config?.site ?? LBT_SITE,
    sensors: config?.sensors ?? REFERENCE_SENSORS,
    defaultSensors: config?.defaultSensors ?? REFERENCE_DEFAULT_SENSORS,
    timeZone: config?.timeZone,
  };
}

/** Processing options from a configuration, or the reference defaults without one. */
export function processingOptions(config: ProcessingConfig | undefined, clock: Clock = systemClock): ProcessingOptions {
  return { ...portableProcessingOptions(config), leapSeconds: defaultLeapSeconds(), clock };
}
