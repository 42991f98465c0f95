/**
 * Night logs on disk: one text file per instrument and observing date,
 * `<folder>/<YYYYMMDD>_<instrument lower-case>.txt` (`20260115_mods1b.txt`), holding the header
 * line and one line per delivered image in the OSU modsLog format (`format.ts`).
 *
 * The OSU `modsLog` writes one `<CCYYMMDD>_mods.txt` for all channels after the night; we write
 * one file per channel as images arrive, because each channel's files are delivered on their
 * own and the two channels of one MODS are read by different people.
 *
 * Two writers:
 * - `appendNightLog` after each delivery: the line goes out in ONE `write()` on a file opened
 *   with `O_APPEND`, so that concurrent appenders never interleave and a reader sees the file
 *   grow by whole lines. A new file is created with its header line already in it (written
 *   under a temporary name, then hard-linked to the final name, which fails if another writer
 *   won the race), so no reader and no other appender ever sees a log without its header.
 *   `O_APPEND` is only atomic between writers on one host: NFS clients emulate it. Each dataman
 *   writes the logs of its own instrument, so all appenders of one file are on one host.
 * - `rebuildNightLog` (`dataman nightlog YYYYMMDD`): rewrites the whole file from the processed
 *   files' primary headers, sorted by DATE-OBS then file name, through a temporary file and a
 *   rename. A line appended to the old file while the rebuild runs is lost with the old file:
 *   rebuild a night that is over, or rebuild again.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DatamanError, isFsError } from '../errors.js';
import { type Header, readStructure, withFileSource } from '../fits/index.js';
import { isCalendarDate } from '../mods/channels.js';
import { formatNightLogLine, nightLogHeaderLine } from './format.js';

/** A night-log operation that cannot be done; the message names the file or the value. */
export class NightLogError extends DatamanError {
  readonly path: string | undefined;
  constructor(code: string, message: string, options: { path?: string; hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.path = options.path;
  }
}

/** `<YYYYMMDD>_<instrument lower-case>.txt`, e.g. `20260115_mods1b.txt`. */
export function nightLogFileName(instrumentId: string, obsDate: string): string {
  if (!/^[A-Za-z0-9]+$/.test(instrumentId)) {
    throw new NightLogError('nightlog-bad-instrument', `instrument ${JSON.stringify(instrumentId)} cannot name a night log (letters and digits only, e.g. MODS1B)`);
  }
  if (!isCalendarDate(obsDate)) {
    throw new NightLogError('nightlog-bad-date', `observing date must be a YYYYMMDD calendar date, got ${JSON.stringify(obsDate)}`);
  }
  return `${obsDate}_${instrumentId.toLowerCase()}.txt`;
}

/** Where the night log of an instrument and observing date lives in `folder`. */
export function nightLogPath(folder: string, instrumentId: string, obsDate: string): string {
  return join(folder, nightLogFileName(instrumentId, obsDate));
}

/**
 * Appends the line of one delivered image to its night log, creating the log (folder, file and
 * header line) when it does not exist yet. Resolves to the log's path.
 *
 * @param folder the night-log folder (created as needed).
 * @param instrumentId `MODS1B`… (INSTRUME); names the file, lower-cased.
 * @param obsDate the observing date `YYYYMMDD` of the delivery.
 * @param header the processed file's primary header.
 */
export async function appendNightLog(folder: string, instrumentId: string, obsDate: string, header: Header): Promise<string> {
  const path = nightLogPath(folder, instrumentId, obsDate);
  const line = Buffer.from(`${formatNightLogLine(header)}\n`, 'latin1');
  await mkdir(folder, { recursive: true });
  const handle = await openForAppend(path);
  try {
    const { bytesWritten } = await handle.write(line, 0, line.length);
    if (bytesWritten !== line.length) {
      // Only a full disk or a quota makes a regular file take part of a write.
      throw new NightLogError('nightlog-short-write', `${path}: wrote ${bytesWritten} of ${line.length} bytes of a log line (disk full?)`, { path });
    }
  } finally {
    await handle.close();
  }
  return path;
}

/** Opens the log for appending, first creating it with its header line if it does not exist. */
async function openForAppend(path: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open(path, constants.O_WRONLY | constants.O_APPEND);
    } catch (err) {
      if (!(isFsError(err) && err.code === 'ENOENT') || attempt >= 3) throw err;
    }
    await createWithHeader(path);
  }
}

/**
 * Creates `path` holding the header line, unless it exists (another writer won: fine). The
 * header is written to a temporary file that is then hard-linked to the final name: `link`
 * fails with EEXIST instead of replacing, and the file appears with its header already in it.
 */
async function createWithHeader(path: string): Promise<void> {
  const header = Buffer.from(`${nightLogHeaderLine()}\n`, 'latin1');
  const temp = tempPath(path, 'new');
  try {
    await writeFileSynced(temp, header);
    await link(temp, path);
  } catch (err) {
    if (!isFsError(err)) throw err;
    if (err.code === 'EEXIST') return;
    if (err.code === 'EPERM' || err.code === 'ENOTSUP' || err.code === 'EOPNOTSUPP' || err.code === 'ENOSYS') {
      // A file system without hard links: create exclusively. An appender that opens the file
      // between this create and the write below puts its line before the header line.
      await createExclusive(path, header);
      return;
    }
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

async function createExclusive(path: string, bytes: Buffer): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (err) {
    if (isFsError(err) && err.code === 'EEXIST') return;
    throw err;
  }
  try {
    await handle.write(bytes, 0, bytes.length);
  } finally {
    await handle.close();
  }
}

/** A processed file and its primary header, as a rebuild reads them. */
export interface NightLogEntry {
  file: string;
  header: Header;
}

/** A processed file that could not be read for the log. */
export interface NightLogSkip {
  file: string;
  error: Error;
}

export interface RebuildResult {
  /** The night log written. */
  path: string;
  /** Image lines written (without the header line). */
  lines: number;
  /** Files left out, each with the reason. */
  skipped: NightLogSkip[];
}

/** Reads the primary header of a processed file (a truncated data unit does not matter here). */
export async function readPrimaryHeader(file: string): Promise<Header> {
  const structure = await withFileSource(file, readStructure);
  const primary = structure.hdus[0];
  if (primary === undefined) throw structure.truncation ?? new NightLogError('nightlog-no-header', `${file}: no primary header`, { path: file });
  return primary.header;
}

/**
 * Rewrites the night log of an instrument and observing date from processed files: the header
 * line, then one line per file sorted by DATE-OBS, then file name. A file that cannot be read
 * is left out and reported in `skipped`; the log is still written. Atomic: the new log replaces
 * the old one through a temporary file and a rename.
 */
export async function rebuildNightLog(folder: string, instrumentId: string, obsDate: string, processedFiles: readonly string[]): Promise<RebuildResult> {
  nightLogFileName(instrumentId, obsDate); // a bad name fails before any file is read
  const entries: NightLogEntry[] = [];
  const skipped: NightLogSkip[] = [];
  for (const file of processedFiles) {
    try {
      entries.push({ file, header: await readPrimaryHeader(file) });
    } catch (err) {
      if (!(err instanceof DatamanError) && !isFsError(err)) throw err;
      skipped.push({ file, error: err });
    }
  }
  const path = await writeNightLog(folder, instrumentId, obsDate, entries);
  return { path, lines: entries.length, skipped };
}

/** Sorts entries by DATE-OBS (absent last), then by file base name, then by path. */
export function sortEntries(entries: readonly NightLogEntry[]): NightLogEntry[] {
  const key = (e: NightLogEntry) => e.header.string('DATE-OBS');
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...entries].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) {
      if (ka === undefined) return 1;
      if (kb === undefined) return -1;
      return cmp(ka, kb);
    }
    return cmp(basename(a.file), basename(b.file)) || cmp(a.file, b.file);
  });
}

/** Writes a whole night log from headers already read (sorted here), atomically. */
export async function writeNightLog(folder: string, instrumentId: string, obsDate: string, entries: readonly NightLogEntry[]): Promise<string> {
  const path = nightLogPath(folder, instrumentId, obsDate);
  const text = [nightLogHeaderLine(), ...sortEntries(entries).map((e) => formatNightLogLine(e.header))].map((l) => `${l}\n`).join('');
  await mkdir(folder, { recursive: true });
  const temp = tempPath(path, 'rebuild');
  try {
    await writeFileSynced(temp, Buffer.from(text, 'latin1'));
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return path;
}

/** `.<name>.<kind>-<random>` beside `path`: hidden, and never mistaken for a log. */
function tempPath(path: string, kind: string): string {
  return join(dirname(path), `.${basename(path)}.${kind}-${randomBytes(6).toString('hex')}`);
}

async function writeFileSynced(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
