/**
 * Which raw names are old by their name alone, without a stat (behaviour.md §2.1). azcam names
 * every file with the observing date (`mods1b.20260115.0042.fits`), which only moves forward
 * from night to night; a raw folder nobody cleans holds a year of them. A name dated days before
 * the newest name in the same folder was written on that earlier night, so its modification time
 * is outside the catch-up window too, unless someone copied it back in with today's time (the
 * drop folder is the way to reprocess a file). Anchoring on the folder's newest name, not on
 * the wall clock, keeps a camera whose date was not rolled forward (or a simulator's fixed date)
 * safe: its names are the newest there. The wall clock only caps the anchor, so that one
 * mis-dated name from the future cannot make every other name look old.
 */
import { nameParts } from '../jobs/job.js';

const DAY_MS = 86_400_000;
/** The observing date is the local date at the start of the night (a day behind UT after midnight MST), plus clock skew. */
export const NAME_DATE_MARGIN_DAYS = 2;

/** Milliseconds of 00:00 UT of a `YYYYMMDD` date, or undefined when it is none. */
export function nameDateMs(yyyymmdd: string | null): number | undefined {
  if (yyyymmdd === null || !/^\d{8}$/.test(yyyymmdd)) return undefined;
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6)) - 1;
  const d = Number(yyyymmdd.slice(6, 8));
  const ms = Date.UTC(y, m, d);
  const back = new Date(ms);
  return back.getUTCFullYear() === y && back.getUTCMonth() === m && back.getUTCDate() === d ? ms : undefined;
}

/**
 * A test telling which of `names` are old by their date: dated more than the catch-up window
 * (rounded up to whole days) plus the margin before the newest date among them (capped at
 * tomorrow by `nowMs`). Names without a date are never old by name. With a window of years (the
 * drop folder's scan), nothing is.
 */
export function oldByNameDate(names: readonly string[], pattern: RegExp, nowMs: number, windowMs: number): (name: string) => boolean {
  // A year of names holds a few hundred dates: each is parsed once.
  const parsed = new Map<string | null, number | undefined>();
  const dateOf = (name: string) => {
    // The pattern's second group, as nameParts reads it (its fallback only when there is none).
    const date = pattern.exec(name)?.[2] ?? nameParts(name, pattern).obsDate;
    if (!parsed.has(date)) parsed.set(date, nameDateMs(date));
    return parsed.get(date);
  };
  let newest: number | undefined;
  for (const name of names) {
    const ms = dateOf(name);
    if (ms !== undefined && (newest === undefined || ms > newest)) newest = ms;
  }
  if (newest === undefined || !Number.isFinite(windowMs)) return () => false;
  const anchor = Math.min(newest, Math.floor(nowMs / DAY_MS) * DAY_MS + DAY_MS);
  const cutoff = anchor - (Math.ceil(windowMs / DAY_MS) + NAME_DATE_MARGIN_DAYS) * DAY_MS;
  return (name) => {
    const ms = dateOf(name);
    return ms !== undefined && ms < cutoff;
  };
}
