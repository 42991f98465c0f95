/**
 * The pointer rule (behaviour.md §6 step 3): `<CHAN>.new` names the newest exposure of its
 * channel. A delivery moves it only when its exposure start is not earlier than that of the file
 * the pointer names now; a catch-up after an outage then never sends modsDisp back to an old
 * frame. Pure: the reading of the files is in pointer-read.ts.
 *
 * The exposure start is the processed DATE-OBS to the millisecond; when two are equal, the
 * sequence number of the raw name (`<chan>.<YYYYMMDD>.<NNNN>.fits`) decides. A pointer that names
 * nothing usable (gone, unreadable, not FITS, no DATE-OBS) never blocks: it is not evidence of a
 * newer exposure.
 */

/** When an exposure started, as the rule compares it. */
export interface ExposureKey {
  /** DATE-OBS in ms since the epoch, fraction cut to the millisecond. */
  startMs: number;
  /** DATE-OBS as written, for the log line. */
  dateObs: string;
  /** NNNN of the raw name, when the name has one (a UNIQNAME has none). */
  sequence: number | undefined;
}

/** What the pointer names now. */
export type CurrentPointer =
  | { kind: 'none' }
  /** The pointer names a file no longer there (taken away by the archive, cleaned up). */
  | { kind: 'gone'; name: string }
  /** The pointer names a file whose exposure start cannot be known; `why` says what is wrong. */
  | { kind: 'unusable'; name: string; why: string }
  | { kind: 'exposure'; name: string; key: ExposureKey };

/** The file being delivered: its delivered name and, unless its DATE-OBS is unusable, its key. */
export interface IncomingExposure {
  name: string;
  key: ExposureKey | undefined;
}

export interface PointerDecision {
  action: 'move' | 'keep';
  /** One sentence for the log, naming both files and their exposure starts where known. */
  reason: string;
}

const DATE_OBS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$/;
const RAW_SEQUENCE = /^[^.]+\.\d{8}\.(\d{4})(?:-\d+)?\.fits$/;

/** DATE-OBS (`YYYY-MM-DDThh:mm:ss[.fff…]`, UTC) in ms since the epoch; undefined for a date alone or anything else. */
export function dateObsMs(text: string | undefined): number | undefined {
  const m = DATE_OBS.exec(text?.trim() ?? '');
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  // 60: a leap second, which the processed DATE-OBS may carry.
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const at = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 31 February into March: such a date is not a date.
  return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day ? at : undefined;
}

/** NNNN of `<chan>.<YYYYMMDD>.<NNNN>.fits` (also with a `-2` clash suffix); undefined for any other name. */
export function rawSequence(name: string | undefined): number | undefined {
  const m = RAW_SEQUENCE.exec(name ?? '');
  return m === null ? undefined : Number(m[1]);
}

/** The key of a file from its DATE-OBS and the raw name(s) it is known by, the first with a sequence winning. */
export function exposureKey(dateObs: string | undefined, ...names: Array<string | undefined>): ExposureKey | undefined {
  const startMs = dateObsMs(dateObs);
  if (startMs === undefined || dateObs === undefined) return undefined;
  return { startMs, dateObs: dateObs.trim(), sequence: names.map(rawSequence).find((s) => s !== undefined) };
}

/** Negative when `a` started before `b`; 0 when they cannot be told apart. */
export function compareExposures(a: ExposureKey, b: ExposureKey): number {
  if (a.startMs !== b.startMs) return a.startMs - b.startMs;
  if (a.sequence === undefined || b.sequence === undefined) return 0;
  return a.sequence - b.sequence;
}

/** Moves the pointer unless the incoming exposure started before the one it names now. */
export function decidePointer(incoming: IncomingExposure, current: CurrentPointer): PointerDecision {
  const mine = describe(incoming.name, incoming.key);
  if (current.kind === 'none') return { action: 'move', reason: `no pointer yet; it now names ${mine}` };
  if (current.kind === 'gone') return { action: 'move', reason: `the pointer named ${current.name}, which is gone; it now names ${mine}` };
  if (current.kind === 'unusable') return { action: 'move', reason: `the pointer named ${current.name}, ${current.why}, so it now names ${mine}` };
  const theirs = describe(current.name, current.key);
  // Without a DATE-OBS of its own, the file cannot be shown older: it moves, as in the reference.
  if (incoming.key === undefined) return { action: 'move', reason: `${mine} cannot be placed in time; moved from ${theirs}` };
  if (compareExposures(incoming.key, current.key) < 0) {
    return { action: 'keep', reason: `${mine} is an earlier exposure than ${theirs}, which the pointer keeps naming` };
  }
  return { action: 'move', reason: `${mine} is not earlier than ${theirs}` };
}

function describe(name: string, key: ExposureKey | undefined): string {
  if (key === undefined) return `${name} (no usable DATE-OBS)`;
  return `${name} (DATE-OBS ${key.dateObs}${key.sequence === undefined ? '' : `, sequence ${key.sequence}`})`;
}
