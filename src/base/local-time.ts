/**
 * Wall-clock parts of an instant in a time zone (the host's by default). The reference uses the
 * host's local clock for UNIQNAME and for the observing date; passing the zone explicitly keeps
 * tests independent of the machine's TZ.
 */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export function localParts(epochMs: number, timeZone?: string): LocalParts {
  if (timeZone === undefined) {
    // The host's zone: Date's own getters, which spare a one-off ICU formatter set-up (about
    // 15 ms, a noticeable part of processing one file from the command line).
    const d = new Date(epochMs);
    return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds() };
  }
  const key = timeZone;
  let fmt = formatters.get(key);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('en-US', {
      ...(timeZone ? { timeZone } : {}),
      hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(key, fmt);
  }
  const parts: Record<string, number> = {};
  for (const p of fmt.formatToParts(new Date(epochMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

const two = (n: number) => String(n).padStart(2, '0');

/** `YYYYMMDD` */
export function compactDate(p: Pick<LocalParts, 'year' | 'month' | 'day'>): string {
  return `${p.year}${two(p.month)}${two(p.day)}`;
}

/** `hhmmss` */
export function compactTime(p: Pick<LocalParts, 'hour' | 'minute' | 'second'>): string {
  return `${two(p.hour)}${two(p.minute)}${two(p.second)}`;
}

/** `YYYY-MM-DDThh:mm:ss` in UTC (for checksum comments and logs). */
export function isoUtcSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19);
}
