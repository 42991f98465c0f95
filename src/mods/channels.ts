/**
 * The four MODS channels and the raw file-name pattern azcam uses for them.
 *
 * References: docs/raw-format.md §1.1 (hosts), §1.2 (file naming), §4.3 (INSTRUME, CHANNEL,
 * DETECTOR, PIXSCALE, TELESCOP per channel).
 */

/** Lower-case channel id, as it appears in raw file names and in `/data/<chan>/`. */
export type ChannelId = 'mods1b' | 'mods1r' | 'mods2b' | 'mods2r';
/** Upper-case instrument id, the value of INSTRUME and DEWAR. */
export type InstrumentId = 'MODS1B' | 'MODS1R' | 'MODS2B' | 'MODS2R';

export interface Channel {
  id: ChannelId;
  instrument: InstrumentId;
  /** Which MODS: 1 sits at the SX (left) telescope, 2 at the DX (right) one. */
  mods: 1 | 2;
  color: 'blue' | 'red';
  /** CHANNEL keyword value. */
  channelKeyword: 'BLUE' | 'RED';
  /** TELESCOP keyword value. */
  telescope: 'LBT-SX' | 'LBT-DX';
  /** `SX` / `DX`, as telescope-block comments say. */
  side: 'SX' | 'DX';
  /** DETECTOR keyword value. */
  detector: string;
  /** Unbinned pixel scale, arcsec per pixel (PIXSCALE). */
  pixscaleArcsec: number;
  /** The Archon/azcam server host that writes this channel's raw files. */
  archonHost: string;
}

export const CHANNELS: readonly Channel[] = Object.freeze([
  {
    id: 'mods1b', instrument: 'MODS1B', mods: 1, color: 'blue', channelKeyword: 'BLUE', telescope: 'LBT-SX', side: 'SX',
    detector: 'e2v CCD231-68 Blue CCD 1', pixscaleArcsec: 0.12, archonHost: 'mods1blue',
  },
  {
    id: 'mods1r', instrument: 'MODS1R', mods: 1, color: 'red', channelKeyword: 'RED', telescope: 'LBT-SX', side: 'SX',
    detector: 'e2v CCD231-68 Red CCD 1', pixscaleArcsec: 0.123, archonHost: 'mods1red',
  },
  {
    id: 'mods2b', instrument: 'MODS2B', mods: 2, color: 'blue', channelKeyword: 'BLUE', telescope: 'LBT-DX', side: 'DX',
    detector: 'e2v CCD231-68 Blue CCD 2', pixscaleArcsec: 0.12, archonHost: 'mods2blue',
  },
  {
    id: 'mods2r', instrument: 'MODS2R', mods: 2, color: 'red', channelKeyword: 'RED', telescope: 'LBT-DX', side: 'DX',
    detector: 'e2v CCD231-68 Red CCD 2', pixscaleArcsec: 0.123, archonHost: 'mods2red',
  },
] satisfies Channel[]);

/** The channel for `mods1b`, `MODS1B` (any case), or undefined. */
export function channelById(id: string): Channel | undefined {
  const wanted = id.toLowerCase();
  return CHANNELS.find((c) => c.id === wanted);
}

export interface RawName {
  chan: ChannelId;
  /** Observing date `YYYYMMDD`. */
  obsDate: string;
  /** Sequence number 1..9999. */
  seq: number;
}

const RAW_NAME = /^(mods[12][br])\.(\d{8})\.(\d{4})\.fits$/;

/**
 * Parses a raw base name `<chan>.<YYYYMMDD>.<NNNN>.fits` (§1.2). Returns undefined for anything
 * else: other channels, an impossible calendar date, sequence 0000, a path (pass the base name).
 */
export function parseRawName(base: string): RawName | undefined {
  const m = RAW_NAME.exec(base);
  if (m === null) return undefined;
  const obsDate = m[2]!;
  const seq = Number(m[3]);
  if (seq < 1 || !isCalendarDate(obsDate)) return undefined;
  return { chan: m[1] as ChannelId, obsDate, seq };
}

/** Formats a raw base name; throws RangeError for an invalid date or sequence number. */
export function formatRawName(chan: ChannelId, obsDate: string, seq: number): string {
  if (!isCalendarDate(obsDate)) throw new RangeError(`observing date must be a YYYYMMDD calendar date, got ${JSON.stringify(obsDate)}`);
  if (!Number.isInteger(seq) || seq < 1 || seq > 9999) throw new RangeError(`sequence number must be 1..9999, got ${seq}`);
  return `${chan}.${obsDate}.${String(seq).padStart(4, '0')}.fits`;
}

/** True for `YYYYMMDD` naming a real Gregorian calendar date. */
export function isCalendarDate(yyyymmdd: string): boolean {
  if (!/^\d{8}$/.test(yyyymmdd)) return false;
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}
