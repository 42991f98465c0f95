import { defaultLeapSeconds, LBT_SITE } from '../time/index.js';
import type { DatamanConfig } from '../ops/config.js';
import {
  ALL_STEPS_ON, REFERENCE_DEFAULT_SENSORS, REFERENCE_SENSORS, systemClock, type Clock, type ProcessingOptions,
} from './types.js';

/** Processing options from a configuration, or the reference defaults without one. */
export function processingOptions(config: DatamanConfig | undefined, clock: Clock = systemClock): ProcessingOptions {
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
