/**
 * The time library: UTC/TAI/TT/TDB, the Earth's ephemeris, the observatory in the GCRS and
 * light travel times — what astropy computes for the MODS time keywords, with our own code
 * over ERFA's published coefficient tables. Pure functions; the only file access is the lazy
 * loading of the tables in `data/`.
 */
export { TimeDataError, TimeParseError, TimeRangeError } from './errors.js';
export {
  type CalendarDate,
  type TwoPartJd,
  calendarToMjd,
  daysInMonth,
  formatIsoDate,
  formatTimeOfDay,
  isLeapYear,
  isValidCalendarDate,
  J2000_JD,
  J2000_MJD,
  MJD_ZERO_JD,
  mjdFromParts,
  mjdFromTwoPartJd,
  mjdToCalendar,
  parseIsoDate,
  SECONDS_PER_DAY,
  twoPartJdFromMjd,
} from './julian.js';
export {
  type LeapSecondEntry,
  type LeapSecondTable,
  addLeapSecond,
  defaultLeapSeconds,
  leapSecondWarning,
  loadLeapSeconds,
  taiMinusUtc,
  utcDayLengthSeconds,
} from './leap-seconds.js';
export {
  type UtcInstant,
  type UtcObsFields,
  degreesToRadians,
  hoursToRadians,
  parseDeclination,
  parseRightAscension,
  parseSexagesimalDegrees,
  parseUtcObs,
  resolveUtcInstant,
} from './sexagesimal.js';
export {
  type DaySeconds,
  type DtdbTable,
  addSeconds,
  defaultDtdbTable,
  dtdb,
  loadDtdbTable,
  mjdOf,
  taiFromUtc,
  tdbMinusTt,
  TT_MINUS_TAI_SECONDS,
  ttFromTai,
  twoPartJdOf,
  utcFromTai,
  utcMjd,
  utcTwoPartJd,
} from './scales.js';
export {
  type Epv00Table,
  type PositionVelocity,
  defaultEpv00Table,
  earthPositionVelocity,
  loadEpv00Table,
} from './earth.js';
export {
  type PolarMotion,
  biasPrecessionNutationMatrix,
  celestialToIntermediateMatrix,
  celestialToTerrestrialMatrix,
  earthRotationAngle,
  intermediateMatrixFromCip,
  MEAN_POLE,
  meanObliquity2006,
  nutation2000b,
  polarMotionMatrix,
  precessionAngles2006,
  cioLocator,
  tioLocator,
} from './precession-nutation.js';
export { type Site, dtdbObserver, geodeticToItrs, LBT_SITE, siteGcrsPosition } from './site.js';
export {
  type LightTimeInput,
  aberrate,
  AU_M,
  lightTravelTimes,
  removeAberration,
  SPEED_OF_LIGHT_M_PER_S,
} from './light-time.js';
export {
  type ObservationTimeStages,
  type ObservationTimes,
  type ObservationTimesInput,
  computeObservationTimes,
  observationTimes,
} from './observation-times.js';
export type { Mat3, Vec3 } from './vector.js';
