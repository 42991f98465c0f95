/**
 * Years of history in a ledger, fast: rows as the service leaves them (delivered files, a few
 * failed and skipped ones), spread over the nights of `years` before `endMs`, on each channel,
 * written through a plain connection in one transaction (a million rows in well under a minute).
 * The ledger must already exist (opened once with `openLedger`), so the schema, its indexes and
 * the count triggers are those of this version.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

export interface HistoryOptions {
  /** Jobs to add. */
  rows: number;
  /** @default ['mods1b', 'mods1r'] */
  channels?: readonly string[];
  /** @default 10 */
  years?: number;
  /** The last night of history ends before this, ms since the epoch. */
  endMs: number;
  /** The raw folders' parent, `<dataDir>/<chan>/`. @default '/data' */
  dataDir?: string;
  /** The repository folder of the delivered copies. @default '/newdata' */
  repoDir?: string;
}

const DAY = 86_400_000;

function ymd(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
}

/** Adds `rows` jobs to the ledger file; returns the base name of the newest one of the first channel. */
export function fillHistory(file: string, o: HistoryOptions): { newestName: string } {
  const channels = o.channels ?? ['mods1b', 'mods1r'];
  const nights = Math.round((o.years ?? 10) * 365.25);
  const dataDir = o.dataDir ?? '/data';
  const repoDir = o.repoDir ?? '/newdata';
  const db = new Database(file);
  let newestName = '';
  try {
    db.pragma('journal_mode = WAL');
    const insert = db.prepare(`INSERT INTO jobs (path, name, channel, origin, state, attempts, size, mtime_ms, checksum,
      error_code, error_message, skip_reason, warnings, proc_path, repo_path, delivered_name, image_type, object, exptime,
      obs_date, first_seen_at, complete_at, started_at, delivered_at, updated_at)
      VALUES (@path, @name, @channel, @origin, @state, 1, 51700000, @mtime, @checksum, @errorCode, @errorMessage, @skipReason,
      '[]', @procPath, @repoPath, @deliveredName, 'OBJECT', @object, 300.0, @obsDate, @seen, @complete, @started, @delivered, @updated)`);
    db.transaction(() => {
      // The files of each channel spread evenly over the nights, oldest first.
      const perChannel = Math.ceil(o.rows / channels.length);
      let lastNight = -1;
      let k = 0;
      for (let n = 0; n < o.rows; n++) {
        const channel = channels[n % channels.length]!;
        const pair = Math.floor(n / channels.length);
        const night = nights - Math.floor((pair * nights) / perChannel);
        if (night !== lastNight) { lastNight = night; k = 0; }
        if (n % channels.length === 0) k++;
        // Exposures from 20:00 local (03:00 UTC next day at LBT) on, one every ~7 minutes.
        const evening = Math.floor((o.endMs - night * DAY) / DAY) * DAY + 3 * 3_600_000;
        const obsDate = ymd(evening - DAY);
        const name = `${channel}.${obsDate}.${String(k).padStart(4, '0')}.fits`;
        const seen = evening + k * 420_000;
        const state = n % 997 === 0 ? 'failed' : n % 1499 === 0 ? 'skipped' : 'delivered';
        const delivered = state === 'delivered' ? seen + 4_000 : null;
        insert.run({
          path: `${dataDir}/${channel}/${name}`, name, channel, origin: k % 2 === 0 ? 'udp' : 'watcher', state,
          mtime: seen - 500, checksum: createHash('sha256').update(name).digest('hex'),
          errorCode: state === 'failed' ? 'fits' : null, errorMessage: state === 'failed' ? 'truncated data unit' : null,
          skipReason: state === 'skipped' ? 'not a MODS raw file' : null,
          procPath: delivered === null ? null : `/proc/${obsDate}/${name}`,
          repoPath: delivered === null ? null : `${repoDir}/${name}`, deliveredName: delivered === null ? null : name,
          object: `field ${night % 97}`, obsDate, seen, complete: seen + 1_000, started: seen + 1_200,
          delivered, updated: delivered ?? seen + 2_000,
        });
        if (channel === channels[0]) newestName = name;
      }
    }).immediate();
  } finally {
    db.close();
  }
  return { newestName };
}
