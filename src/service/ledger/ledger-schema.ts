/**
 * What the ledger keeps on disk and how it is changed: the table and its migrations, the mapping
 * of a stored row to the TypeScript `LedgerRow`, the state machine, the prepared statements and
 * the ledger's error type. `ledger.ts` opens the file and holds the operations.
 *
 * References: docs/behaviour.md §5 (what is recorded), §2 (the three sources of work).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { DatamanError } from '../../errors.js';

/** Fields filled as they become known; an absent field is left alone, `null` clears it. */
export interface Details {
  channel?: string | null;
  imageType?: string | null;
  object?: string | null;
  /** Exposure time, s. */
  exptime?: number | null;
  /** `YYYYMMDD`. */
  obsDate?: string | null;
  /** Replaces the stored list. */
  warnings?: readonly string[];
  size?: number | null;
  mtimeMs?: number | null;
  /** sha256 of the raw file, hex. */
  checksum?: string | null;
  /** When the file was found complete, ms since the epoch. */
  completeAt?: number | null;
}

/** Where a job came from. Every origin but `drop` names a file in a raw folder. */
export type LedgerOrigin = 'watcher' | 'udp' | 'drop' | 'catchup' | 'cli';
export const LEDGER_ORIGINS: readonly LedgerOrigin[] = Object.freeze(['watcher', 'udp', 'drop', 'catchup', 'cli']);

/**
 * The life of a job: `seen` (noted) → `waiting` (for the file to be complete) → `queued` →
 * `processing` → `delivered`; or `failed` (with an error code) or `skipped` (with a reason).
 */
export type LedgerState = 'seen' | 'waiting' | 'queued' | 'processing' | 'delivered' | 'failed' | 'skipped';
export const LEDGER_STATES: readonly LedgerState[] = Object.freeze([
  'seen', 'waiting', 'queued', 'processing', 'delivered', 'failed', 'skipped',
]);
/** States of work not finished when the service stopped: queued again on start. */
export const UNFINISHED_STATES: readonly LedgerState[] = Object.freeze(['seen', 'waiting', 'queued', 'processing']);

/** A ledger that cannot be opened, read or written, or a call the ledger refuses. */
export class LedgerError extends DatamanError {
  /** The ledger file (or the state folder when that is the problem). */
  readonly path: string | undefined;
  constructor(message: string, options: { path?: string; hint?: string; cause?: unknown } = {}) {
    super('ledger', message, options);
    this.path = options.path;
  }
}

/**
 * One job: a raw file (one row per raw path, whatever triggered it) or one drop-folder
 * reprocessing request (a new row per drop). Times are milliseconds since the Unix epoch, from
 * the ledger's clock.
 */
export interface LedgerRow {
  id: number;
  /** Absolute path of the raw file, or of the file in the drop folder. */
  path: string;
  /** Base name of `path`. */
  name: string;
  /** Lower-case channel id (`mods1b`), or null while unknown (a drop file with an odd name). */
  channel: string | null;
  /** The source that first reported the file (a later trigger for the same raw file does not change it). */
  origin: LedgerOrigin;
  state: LedgerState;
  /** Times processing started (each retry counts). */
  attempts: number;
  /** Size of the raw file in bytes, when known. */
  size: number | null;
  /** Modification time of the raw file, ms (fractional, as `fs.Stats.mtimeMs`), when known. */
  mtimeMs: number | null;
  /** sha256 of the raw file's bytes, lower-case hex, when known. */
  checksum: string | null;
  /** `code` of the last error (a `DatamanError` code, or a retried errno such as `ENOSPC`). Kept after a later success. */
  errorCode: string | null;
  errorMessage: string | null;
  /** Why the job was skipped (state `skipped`). */
  skipReason: string | null;
  warnings: string[];
  /** The processed file under `<procDir>/<obsDate>/`. */
  procPath: string | null;
  /** The copy in `<repoDir>`. */
  repoPath: string | null;
  /** The name written into `<CHAN>.new` (differs from `name` after a name clash). */
  deliveredName: string | null;
  /** IMAGETYP, OBJECT, EXPTIME (s) and the observing date `YYYYMMDD`, for the status page. */
  imageType: string | null;
  object: string | null;
  exptime: number | null;
  obsDate: string | null;
  firstSeenAt: number;
  /** When the file was found complete (§3). */
  completeAt: number | null;
  /** When the last processing attempt started. */
  startedAt: number | null;
  deliveredAt: number | null;
  /** Last change of any field. */
  updatedAt: number;
}

/** A row as SQLite returns it (`SELECT *`). */
export interface JobColumns {
  id: number;
  path: string;
  name: string;
  channel: string | null;
  origin: string;
  state: string;
  attempts: number;
  size: number | null;
  mtime_ms: number | null;
  checksum: string | null;
  error_code: string | null;
  error_message: string | null;
  skip_reason: string | null;
  warnings: string;
  proc_path: string | null;
  repo_path: string | null;
  delivered_name: string | null;
  image_type: string | null;
  object: string | null;
  exptime: number | null;
  obs_date: string | null;
  first_seen_at: number;
  complete_at: number | null;
  started_at: number | null;
  delivered_at: number | null;
  updated_at: number;
}

/** Maps a stored row to the TypeScript shape. `file` names the ledger in errors. */
export function toRow(c: JobColumns, file: string): LedgerRow {
  return {
    id: c.id,
    path: c.path,
    name: c.name,
    channel: c.channel,
    origin: c.origin as LedgerOrigin,
    state: c.state as LedgerState,
    attempts: c.attempts,
    size: c.size,
    mtimeMs: c.mtime_ms,
    checksum: c.checksum,
    errorCode: c.error_code,
    errorMessage: c.error_message,
    skipReason: c.skip_reason,
    warnings: parseWarnings(c, file),
    procPath: c.proc_path,
    repoPath: c.repo_path,
    deliveredName: c.delivered_name,
    imageType: c.image_type,
    object: c.object,
    exptime: c.exptime,
    obsDate: c.obs_date,
    firstSeenAt: c.first_seen_at,
    completeAt: c.complete_at,
    startedAt: c.started_at,
    deliveredAt: c.delivered_at,
    updatedAt: c.updated_at,
  };
}

function parseWarnings(c: JobColumns, file: string): string[] {
  // The CHECK (json_valid) constraint keeps it JSON; anything else means the file was edited by hand.
  const value: unknown = JSON.parse(c.warnings);
  if (!Array.isArray(value) || !value.every((w) => typeof w === 'string')) {
    throw new LedgerError(`ledger ${file}: job ${c.id} has warnings that are not a list of strings: ${c.warnings}`, { path: file });
  }
  return value;
}

/**
 * Version 1. States and origins are checked in TypeScript rather than by CHECK constraints:
 * SQLite cannot alter a constraint, so adding a state later would mean rebuilding the table.
 * `STRICT` still refuses a value of the wrong type (a fractional time in an INTEGER column).
 * Rows are never deleted, so `id` (the rowid) grows and the newest drop job has the highest id.
 */
const V1 = `
CREATE TABLE jobs (
  id             INTEGER PRIMARY KEY,
  path           TEXT    NOT NULL,
  name           TEXT    NOT NULL,
  channel        TEXT,
  origin         TEXT    NOT NULL,
  state          TEXT    NOT NULL,
  attempts       INTEGER NOT NULL DEFAULT 0,
  size           INTEGER,
  mtime_ms       REAL,
  checksum       TEXT,
  error_code     TEXT,
  error_message  TEXT,
  skip_reason    TEXT,
  warnings       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(warnings)),
  proc_path      TEXT,
  repo_path      TEXT,
  delivered_name TEXT,
  image_type     TEXT,
  object         TEXT,
  exptime        REAL,
  obs_date       TEXT,
  first_seen_at  INTEGER NOT NULL,
  complete_at    INTEGER,
  started_at     INTEGER,
  delivered_at   INTEGER,
  updated_at     INTEGER NOT NULL
) STRICT;
-- One row per raw path; drop jobs (reprocessing requests) may repeat a path.
CREATE UNIQUE INDEX jobs_raw_path ON jobs (path) WHERE origin <> 'drop';
CREATE INDEX jobs_path ON jobs (path, id);
CREATE INDEX jobs_name ON jobs (name, id);
CREATE INDEX jobs_state ON jobs (state, updated_at);
CREATE INDEX jobs_updated ON jobs (updated_at);
CREATE INDEX jobs_obs_date ON jobs (obs_date, channel);
`;

/**
 * Version 2: what the status surface reads per request stops growing with the years (§5.3).
 * `job_counts` holds the number of jobs per channel and state, kept by triggers in the same
 * transaction as every insert, state or channel change and delete, so counting is a read of a
 * few rows instead of the whole table; it is filled once from the table when an older ledger is
 * opened (a ledger of years takes a few seconds, once). `jobs_delivered` serves the latency plot
 * (deliveries of the last hours). Every statement is `IF NOT EXISTS`, so running it again on a
 * ledger that already has it changes nothing.
 */
const V2 = `
CREATE TABLE IF NOT EXISTS job_counts (
  channel TEXT    NOT NULL,  -- '' for a job whose channel is not known
  state   TEXT    NOT NULL,
  n       INTEGER NOT NULL,
  PRIMARY KEY (channel, state)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS jobs_count_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_counts (channel, state, n) VALUES (IFNULL(NEW.channel, ''), NEW.state, 1)
    ON CONFLICT (channel, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS jobs_count_update AFTER UPDATE OF channel, state ON jobs
  WHEN NEW.state IS NOT OLD.state OR NEW.channel IS NOT OLD.channel BEGIN
  UPDATE job_counts SET n = n - 1 WHERE channel = IFNULL(OLD.channel, '') AND state = OLD.state;
  INSERT INTO job_counts (channel, state, n) VALUES (IFNULL(NEW.channel, ''), NEW.state, 1)
    ON CONFLICT (channel, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS jobs_count_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET n = n - 1 WHERE channel = IFNULL(OLD.channel, '') AND state = OLD.state;
END;
CREATE INDEX IF NOT EXISTS jobs_delivered ON jobs (delivered_at) WHERE delivered_at IS NOT NULL;
`;

/** Fills `job_counts` from the table (once, when version 2 is reached). */
const COUNT_ALL = `
DELETE FROM job_counts;
INSERT INTO job_counts (channel, state, n) SELECT IFNULL(channel, ''), state, COUNT(*) FROM jobs GROUP BY 1, 2;
`;

/** Brings a database from version `i` to `i + 1`. Later versions append (e.g. `ALTER TABLE jobs ADD COLUMN …`). */
export type Migration = (db: BetterSqlite3.Database) => void;

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  (db: BetterSqlite3.Database) => { db.exec(V1); },
  (db: BetterSqlite3.Database) => { db.exec(V2); db.exec(COUNT_ALL); },
]);

/** The schema version this code writes, stored in `PRAGMA user_version`. */
export const LEDGER_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Runs the migrations the database has not had, in one immediate transaction together with the
 * new `user_version`, so a crash leaves the old version or the new one, never half. Two
 * processes opening the same file at once (the service and `dataman status`) are serialised by
 * the write lock, and the second one finds nothing left to do. Returns the version found.
 * A database newer than `migrations` is refused: this code would not know its columns.
 */
export function migrate(db: BetterSqlite3.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): number {
  const run = db.transaction((): number => {
    const found = db.pragma('user_version', { simple: true }) as number;
    if (found > migrations.length) {
      throw new LedgerError(
        `ledger ${file} has schema version ${found}, newer than this dataman understands (${migrations.length})`,
        { path: file, hint: 'run the dataman version that wrote it, or a newer one' },
      );
    }
    for (let v = found; v < migrations.length; v++) migrations[v]!(db);
    if (found !== migrations.length) db.pragma(`user_version = ${migrations.length}`);
    return found;
  });
  return run.immediate();
}

export type Transition = 'waiting' | 'queued' | 'processing' | 'delivered' | 'failed' | 'skipped' | 'retry';

/**
 * The state machine. `processing → waiting/queued` is the service finding a file incomplete after
 * all, or requeueing what a killed run left in progress. `delivered` is final for a raw file:
 * processing it again is a new drop job.
 */
export const TRANSITIONS: Record<Transition, { from: readonly LedgerState[]; set: string }> = {
  waiting: { from: ['seen', 'waiting', 'queued', 'processing', 'failed', 'skipped'], set: `state = 'waiting'` },
  queued: { from: ['seen', 'waiting', 'queued', 'processing', 'failed', 'skipped'], set: `state = 'queued'` },
  processing: {
    from: ['seen', 'waiting', 'queued'],
    set: `state = 'processing', attempts = attempts + 1, started_at = @now`,
  },
  delivered: {
    from: ['processing'],
    set: `state = 'delivered', delivered_at = @now, proc_path = @procPath, repo_path = @repoPath,
          delivered_name = @deliveredName, checksum = COALESCE(@checksum, checksum)`,
  },
  failed: { from: ['seen', 'waiting', 'queued', 'processing'], set: `state = 'failed', error_code = @code, error_message = @message` },
  skipped: { from: ['seen', 'waiting', 'queued', 'processing', 'failed'], set: `state = 'skipped', skip_reason = @reason` },
  retry: { from: ['queued', 'processing'], set: `state = 'queued', error_code = @code, error_message = @message` },
};

export const DETAIL_COLUMNS = {
  channel: 'channel', imageType: 'image_type', object: 'object', exptime: 'exptime', obsDate: 'obs_date',
  warnings: 'warnings', size: 'size', mtimeMs: 'mtime_ms', checksum: 'checksum', completeAt: 'complete_at',
} as const satisfies Record<keyof Details, string>;

const quoted = (states: readonly string[]) => states.map((s) => `'${s}'`).join(', ');

/**
 * Every statement the ledger runs, prepared once per connection. Each one reads through an
 * index (or the tiny `job_counts`): test/service/ledger-plans.test.ts checks the query plan of
 * every statement prepared here on a ledger of thousands of rows, so one that would read the
 * whole table fails the tests (docs/behaviour.md §5.3).
 */
export function prepare(db: BetterSqlite3.Database) {
  const transitions = {} as Record<Transition, BetterSqlite3.Statement<[Record<string, unknown>], JobColumns>>;
  for (const [name, t] of Object.entries(TRANSITIONS) as Array<[Transition, (typeof TRANSITIONS)[Transition]]>) {
    transitions[name] = db.prepare(
      `UPDATE jobs SET ${t.set}, updated_at = @now WHERE id = @id AND state IN (${quoted(t.from)}) RETURNING *`,
    );
  }
  // One statement for any subset of the details: `set_x` says whether `x` is given.
  const details = Object.values(DETAIL_COLUMNS).map((c) => `${c} = CASE WHEN @set_${c} THEN @${c} ELSE ${c} END`);
  return {
    transitions,
    setDetails: db.prepare<[Record<string, unknown>], JobColumns>(
      `UPDATE jobs SET ${details.join(', ')}, updated_at = @now WHERE id = @id RETURNING *`,
    ),
    insert: db.prepare<[Record<string, unknown>], JobColumns>(
      `INSERT INTO jobs (path, name, channel, origin, state, size, mtime_ms, obs_date, first_seen_at, updated_at)
       VALUES (@path, @name, @channel, @origin, 'seen', @size, @mtimeMs, @obsDate, @now, @now) RETURNING *`,
    ),
    get: db.prepare<[number], JobColumns>(`SELECT * FROM jobs WHERE id = ?`),
    rawByPath: db.prepare<[string], JobColumns>(`SELECT * FROM jobs WHERE path = ? AND origin <> 'drop'`),
    latestByPath: db.prepare<[string], JobColumns>(
      `SELECT * FROM jobs WHERE path = ? ORDER BY origin <> 'drop' DESC, id DESC LIMIT 1`,
    ),
    interrupted: db.prepare<[], JobColumns>(
      `SELECT * FROM jobs WHERE state IN (${quoted(UNFINISHED_STATES)}) ORDER BY first_seen_at, id`,
    ),
    recent: db.prepare<[number], JobColumns>(`SELECT * FROM jobs ORDER BY updated_at DESC, id DESC LIMIT ?`),
    failures: db.prepare<[number], JobColumns>(
      `SELECT * FROM jobs WHERE state = 'failed' ORDER BY updated_at DESC, id DESC LIMIT ?`,
    ),
    counts: db.prepare<[], { channel: string; state: string; n: number }>(
      `SELECT channel, state, n FROM job_counts WHERE n <> 0`,
    ),
    // No `state = 'delivered'` here: SQLite would pick the state index and read every delivered row.
    deliveredSince: db.prepare<[{ since: number; limit: number }], JobColumns>(
      `SELECT * FROM jobs WHERE delivered_at >= @since ORDER BY delivered_at DESC, id DESC LIMIT @limit`,
    ),
    byObsDate: db.prepare<[{ obsDate: string; channel: string | null }], JobColumns>(
      `SELECT * FROM jobs WHERE obs_date = @obsDate AND (@channel IS NULL OR channel = @channel)
       ORDER BY first_seen_at, id`,
    ),
    byName: db.prepare<[string], JobColumns>(`SELECT * FROM jobs WHERE name = ? ORDER BY id`),
    newestIdByName: db.prepare<[string], { id: number | null }>(`SELECT MAX(id) AS id FROM jobs WHERE name = ?`),
  };
}
