/**
 * The observing date (raw-format.md §1.2, behaviour.md §7): the UTC calendar date of the night
 * that starts at local noon. It names the processed-file folder `<procDir>/<obsDate>/` and the log
 * file, and agrees with the date azcam-mods ≥ 1.1.12 writes into raw file names.
 */
import { localParts } from '../base/local-time.js';

const DAY_MS = 86_400_000;

/** First local hour (inclusive) of the afternoon that already belongs to the next UTC date. */
export const NIGHT_START_HOUR = 12;
/** Local hour (exclusive) at which the afternoon window ends. */
export const NIGHT_WINDOW_END_HOUR = 17;

/**
 * The observing date `YYYYMMDD` of an instant.
 *
 * Given: `epochMs`, milliseconds since 1970-01-01T00:00:00Z; `timeZone`, the IANA zone of the
 * "local" clock (`America/Phoenix` in production), the host's zone when omitted.
 *
 * Returned: the UTC date of the instant, or the next UTC date when the local time is in
 * [12:00, 17:00).
 *
 * Notes: this is the reference's rule (`dataMan.py` `obsDate()`, azcam-mods `mods.py`), written
 * for MST (UTC−7, no DST): from local noon to 17:00 the UTC date is still "today", and the night
 * that starts then ends on "tomorrow's" UTC date; from 17:00 MST on it already is that UTC date.
 * The rule keys on the local *hour* only, so on a host in another zone the result shifts —
 * on a UTC host the window is 12:00–17:00 UTC (raw-format.md §11.13). Pass the zone explicitly
 * (config `timeZone`) to be independent of the host.
 */
export function observingDate(epochMs: number, timeZone?: string): string {
  const { hour } = localParts(epochMs, timeZone);
  const inAfternoon = hour >= NIGHT_START_HOUR && hour < NIGHT_WINDOW_END_HOUR;
  const day = new Date(epochMs + (inAfternoon ? DAY_MS : 0));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${day.getUTCFullYear()}${two(day.getUTCMonth() + 1)}${two(day.getUTCDate())}`;
}
