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

/** Processing options from a configuration, or the reference defaults without one. */
export function processingOptions(config: ProcessingConfig | undefined, clock: Clock = systemClock): ProcessingOptions {
  return {
    steps: { ...(config?.processing ?? ALL_STEPS_ON) },
    site: config?.site ?? LBT_SITE,
    leapSeconds: defaultLeapSeconds(),
    sensors: config?.sensors ?? REFERENCE_SENSORS,
    defaultSensors: config?.defaultSensors ?? REFERENCE_DEFAULT_SENSORS,
    clock,
    timeZone: config?.timeZone,
  };
}
