/**
 * The durable ledger (docs/behaviour.md §5): an embedded SQLite file that records every raw file
 * seen and every drop-folder request, their state, errors and deliveries, so that a restart
 * queues unfinished work again and a repeated trigger does not deliver a file twice.
 *
 * A row is a *job*. A raw file (origins `watcher`, `udp`, `catchup`, `cli`) has exactly one job,
 * found by its path whatever triggers it; each drop into the drop folder is a new job, since the
 * same name may be dropped again next week. Every method is synchronous and one small
 * transaction; statements are prepared once.
 */
import { mkdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { isFsError } from '../../errors.js';
import type { Clock } from '../../base/clock.js';
import { hintFor, sqliteCode } from './ledger-availability.js';
import {
  DETAIL_COLUMNS, LEDGER_ORIGINS, LEDGER_STATES, LedgerError, TRANSITIONS, migrate, prepare, toRow,
  type Details, type JobColumns, type LedgerOrigin, type LedgerRow, type LedgerState, type Transition,
} from './ledger-schema.js';

export {
  LEDGER_ORIGINS, LEDGER_SCHEMA_VERSION, LEDGER_STATES, LedgerError,
  type Details, type LedgerOrigin, type LedgerRow, type LedgerState,
} from './ledger-schema.js';

export interface LedgerOptions {
  clock: Clock;
  /** Name of the database file inside the state folder. @default 'ledger.sqlite' */
  fileName?: string;
  /** How long a write waits for another connection's lock (e.g. `dataman status` reading), ms. @default 5000 */
  busyTimeoutMs?: number;
  /**
   * Called with the open connection once the schema is ready. Tests inject ledger faults
   * through SQLite itself with it (`PRAGMA query_only = 1` fails every write with
   * SQLITE_READONLY, as a read-only remount does); the service passes nothing.
   */
  onOpen?: (db: Database.Database) => void;
}

/** What is known when a file is first reported. */
export interface NoteInput {
  /** Lower-case channel id, or null when it cannot be told from the name (drop folder). */
  channel: string | null;
  /** Observing date `YYYYMMDD` from the raw name, when it has one. */
  obsDate?: string | null;
  size?: number | null;
  mtimeMs?: number | null;
}

export interface Delivery {
  procPath: string;
  repoPath: string;
  /** The name written into `<CHAN>.new`. */
  deliveredName: string;
  /** sha256 (hex) of the raw file as read for this job; leaves a known checksum alone when omitted. */
  checksum?: string | null;
}

/** An error as stored: a `DatamanError` (or a Node errno error) fits as it is. */
export interface ErrorInfo {
  code: string;
  message: string;
}

export type StateCounts = Record<LedgerState, number>;

export interface LedgerCounts {
  total: number;
  byState: StateCounts;
  /** Per channel id; jobs whose channel is not known count under `unknown`. */
  byChannel: Record<string, StateCounts>;
}

export interface Ledger {
  /** Absolute path of the database file. */
  readonly file: string;
  /**
   * The job of a file just reported. For a raw file (any origin but `drop`), the existing job of
   * that path whatever its state (check `state === 'delivered'` before queueing it again), or a
   * new one in state `seen`; for `drop`, always a new job. `path` must be absolute.
   */
  note(path: string, origin: LedgerOrigin, input: NoteInput): LedgerRow;
  get(id: number): LedgerRow | undefined;
  /** The job of the raw file at `path`; for a drop-folder path, its newest drop job. */
  latestByPath(path: string): LedgerRow | undefined;
  /** True when the raw file at `path` has been delivered (drop jobs do not count). */
  isDelivered(path: string): boolean;
  /** From seen, waiting, queued, processing (found incomplete), failed or skipped. */
  markWaiting(id: number): LedgerRow;
  /** From seen, waiting, queued, processing (restart recovery), failed or skipped. */
  markQueued(id: number): LedgerRow;
  /** From seen, waiting or queued: attempts + 1, `startedAt` = now. */
  markProcessing(id: number): LedgerRow;
  /** From processing: `deliveredAt` = now. The last error, if any, is kept. */
  markDelivered(id: number, delivery: Delivery): LedgerRow;
  /** From seen, waiting, queued or processing. */
  markFailed(id: number, error: ErrorInfo): LedgerRow;
  /** From seen, waiting, queued, processing or failed. */
  markSkipped(id: number, reason: string): LedgerRow;
  /** A transient failure that will be retried: from processing or queued, back to (or staying) queued. */
  recordRetry(id: number, error: ErrorInfo): LedgerRow;
  /** Fills display and file fields in any state (no state change). */
  setDetails(id: number, details: Details): LedgerRow;
  /** Jobs left seen, waiting, queued or processing by the last run, oldest first. */
  interrupted(): LedgerRow[];
  /** Most recently changed jobs first. */
  recent(limit: number): LedgerRow[];
  /** Failed jobs, most recent first. */
  failures(limit: number): LedgerRow[];
  /** Delivered jobs whose delivery is at or after `sinceMs`, the newest `limit` of them, most recent first. */
  deliveredSince(sinceMs: number, limit: number): LedgerRow[];
  /** Counts of the whole ledger, kept up to date as jobs change (read in constant time). */
  countsByState(): LedgerCounts;
  /** Jobs of one observing date (`YYYYMMDD`), optionally one channel, oldest first. */
  byObsDate(obsDate: string, channel?: string): LedgerRow[];
  /** Every job of a base name (the raw file and each drop of it), oldest first. */
  byName(name: string): LedgerRow[];
  /** The id of the newest job of a base name (from the index alone), or undefined. */
  newestIdByName(name: string): number | undefined;
  /** Checkpoints the WAL into the database file and closes. Calling it again does nothing. */
  close(): void;
}

/**
 * Opens (creating the folder and the file if missing) the ledger `<stateDir>/<fileName>`.
 * Throws `LedgerError` naming the path and the cause when the folder cannot be created or the
 * file cannot be opened, is not a SQLite database, or was written by a newer dataman.
 */
export function openLedger(stateDir: string, options: LedgerOptions): Ledger {
  const dir = resolve(stateDir);
  const file = join(dir, options.fileName ?? 'ledger.sqlite');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const cause = isFsError(err) ? `${err.code}: ${err.message}` : String(err);
    throw new LedgerError(`cannot create the ledger folder ${dir}: ${cause}`, {
      path: dir, cause: err, hint: 'check paths.stateDir and its permissions',
    });
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    // Waits for a lock held by another connection instead of failing at once with SQLITE_BUSY.
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    // WAL: readers (dataman status, the status page) never block the writer, and a commit is
    // one append to the -wal file. This is also the first read of the file, so a file that is
    // not a database fails here.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`SQLite refused WAL mode (journal_mode is ${String(mode)})`);
    // NORMAL in WAL mode fsyncs at checkpoints, not at every commit. A committed transaction is
    // in the -wal file as soon as the commit returns, so a crash or kill of the *process* loses
    // nothing: the OS still writes the pages out and the next open replays the WAL. Only a power
    // cut or kernel panic may roll back the last few commits (never corrupt the file), and the
    // cost of that is bounded: a job goes back to queued and is delivered again under a unique
    // name (§6 never overwrites). FULL would add an fsync to each of the several transitions
    // every file makes.
    db.pragma('synchronous = NORMAL');
    migrate(db, file);
    options.onOpen?.(db);
    return new SqliteLedger(db, file, options.clock);
  } catch (err) {
    db?.close();
    if (err instanceof LedgerError) throw err;
    const code = sqliteCode(err);
    const why = err instanceof Error ? err.message : String(err);
    throw new LedgerError(`cannot open the ledger ${file}: ${why}${code === undefined ? '' : ` (${code})`}`, {
      path: file, cause: err, hint: code === undefined ? undefined : hintFor(code),
    });
  }
}

const SHA256 = /^[0-9a-f]{64}$/;
const OBS_DATE = /^\d{8}$/;

class SqliteLedger implements Ledger {
  private readonly s: ReturnType<typeof prepare>;
  private readonly noteTx: (path: string, origin: LedgerOrigin, input: NoteInput) => JobColumns;
  private closed = false;

  constructor(private readonly db: Database.Database, readonly file: string, private readonly clock: Clock) {
    this.s = prepare(db);
    // Immediate: takes the write lock before the read, so no other connection can insert the
    // same raw path between our SELECT and INSERT (the unique index would refuse it anyway).
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called here, not detached: the rule misreads better-sqlite3's generic method type
    this.noteTx = db.transaction((path: string, origin: LedgerOrigin, input: NoteInput): JobColumns => {
      if (origin !== 'drop') {
        const found = this.s.rawByPath.get(path);
        if (found !== undefined) return found;
      }
      return this.s.insert.get({
        path, name: basename(path), channel: input.channel, origin, size: input.size ?? null,
        mtimeMs: input.mtimeMs ?? null, obsDate: input.obsDate ?? null, now: this.now(),
      })!;
    }).immediate;
  }

  note(path: string, origin: LedgerOrigin, input: NoteInput): LedgerRow {
    return this.use('note', () => {
      if (!LEDGER_ORIGINS.includes(origin)) throw this.bug(`unknown origin ${JSON.stringify(origin)}`);
      if (input.obsDate != null) this.checkObsDate(input.obsDate);
      return this.row(this.noteTx(this.absolute(path), origin, input));
    });
  }

  get(id: number): LedgerRow | undefined {
    return this.use('get', () => this.rowOrUndefined(this.s.get.get(id)));
  }

  latestByPath(path: string): LedgerRow | undefined {
    return this.use('latestByPath', () => this.rowOrUndefined(this.s.latestByPath.get(this.absolute(path))));
  }

  isDelivered(path: string): boolean {
    return this.use('isDelivered', () => this.s.rawByPath.get(this.absolute(path))?.state === 'delivered');
  }

  markWaiting(id: number): LedgerRow {
    return this.transition(id, 'waiting', {});
  }

  markQueued(id: number): LedgerRow {
    return this.transition(id, 'queued', {});
  }

  markProcessing(id: number): LedgerRow {
    return this.transition(id, 'processing', {});
  }

  markDelivered(id: number, d: Delivery): LedgerRow {
    if (d.checksum != null) this.checkChecksum(d.checksum);
    return this.transition(id, 'delivered', {
      procPath: d.procPath, repoPath: d.repoPath, deliveredName: d.deliveredName, checksum: d.checksum ?? null,
    });
  }

  markFailed(id: number, error: ErrorInfo): LedgerRow {
    return this.transition(id, 'failed', { code: error.code, message: error.message });
  }

  markSkipped(id: number, reason: string): LedgerRow {
    return this.transition(id, 'skipped', { reason });
  }

  recordRetry(id: number, error: ErrorInfo): LedgerRow {
    return this.transition(id, 'retry', { code: error.code, message: error.message });
  }

  setDetails(id: number, details: Details): LedgerRow {
    return this.use('setDetails', () => {
      if (details.obsDate != null) this.checkObsDate(details.obsDate);
      if (details.checksum != null) this.checkChecksum(details.checksum);
      if (details.warnings !== undefined && !details.warnings.every((w) => typeof w === 'string')) {
        throw this.bug('warnings must be strings');
      }
      const params: Record<string, unknown> = { id, now: this.now() };
      for (const [key, column] of Object.entries(DETAIL_COLUMNS) as Array<[keyof Details, string]>) {
        const value = details[key];
        params[`set_${column}`] = value === undefined ? 0 : 1;
        params[column] = key === 'warnings' ? JSON.stringify(value ?? [])
          : key === 'completeAt' && typeof value === 'number' ? Math.round(value) : value ?? null;
      }
      const row = this.s.setDetails.get(params);
      if (row === undefined) throw this.noJob(id);
      return this.row(row);
    });
  }

  interrupted(): LedgerRow[] {
    return this.use('interrupted', () => this.s.interrupted.all().map((c) => this.row(c)));
  }

  recent(limit: number): LedgerRow[] {
    return this.use('recent', () => this.s.recent.all(this.checkLimit(limit)).map((c) => this.row(c)));
  }

  failures(limit: number): LedgerRow[] {
    return this.use('failures', () => this.s.failures.all(this.checkLimit(limit)).map((c) => this.row(c)));
  }

  deliveredSince(sinceMs: number, limit: number): LedgerRow[] {
    return this.use('deliveredSince', () => this.s.deliveredSince.all({ since: Math.floor(sinceMs), limit: this.checkLimit(limit) })
      .map((c) => this.row(c)));
  }

  countsByState(): LedgerCounts {
    return this.use('countsByState', () => {
      const zero = (): StateCounts => Object.fromEntries(LEDGER_STATES.map((s) => [s, 0])) as StateCounts;
      const counts: LedgerCounts = { total: 0, byState: zero(), byChannel: {} };
      for (const { channel, state, n } of this.s.counts.all()) {
        const key = channel === '' ? 'unknown' : channel;
        const perChannel = (counts.byChannel[key] ??= zero());
        counts.byState[state as LedgerState] += n;
        perChannel[state as LedgerState] += n;
        counts.total += n;
      }
      return counts;
    });
  }

  byObsDate(obsDate: string, channel?: string): LedgerRow[] {
    return this.use('byObsDate', () => {
      this.checkObsDate(obsDate);
      return this.s.byObsDate.all({ obsDate, channel: channel ?? null }).map((c) => this.row(c));
    });
  }

  byName(name: string): LedgerRow[] {
    return this.use('byName', () => this.s.byName.all(name).map((c) => this.row(c)));
  }

  newestIdByName(name: string): number | undefined {
    return this.use('newestIdByName', () => this.s.newestIdByName.get(name)?.id ?? undefined);
  }

  close(): void {
    if (this.closed) return;
    this.use('close', () => {
      try {
        // Moves every commit into the database file and empties the -wal file, even while
        // another connection (dataman status) keeps it open; the last connection to close also
        // deletes it. The database file alone is then the whole ledger, e.g. for a backup copy.
        // A reader in the middle of a transaction can stop the checkpoint short: that loses
        // nothing, the WAL stays valid and the next open carries on from it.
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        this.closed = true;
        this.db.close();
      }
    });
  }

  private transition(id: number, to: Transition, params: Record<string, unknown>): LedgerRow {
    return this.use(to === 'retry' ? 'recordRetry' : `mark ${to}`, () => {
      const row = this.s.transitions[to].get({ ...params, id, now: this.now() });
      if (row !== undefined) return this.row(row);
      const current = this.s.get.get(id);
      if (current === undefined) throw this.noJob(id);
      const target = to === 'retry' ? 'queued (retry)' : to;
      throw new LedgerError(
        `ledger ${this.file}: job ${id} (${current.name}) cannot go from ${current.state} to ${target}`,
        { path: this.file, hint: `a bug in the caller: ${target} is reached only from ${TRANSITIONS[to].from.join(', ')}` },
      );
    });
  }

  /** Runs one operation: refuses a closed ledger and turns SQLite errors into `LedgerError`. */
  private use<T>(op: string, fn: () => T): T {
    if (this.closed) {
      throw new LedgerError(`ledger ${this.file} is closed (${op} called after close)`, {
        path: this.file, hint: 'a bug: the ledger is closed only at shutdown, after everything that uses it',
      });
    }
    try {
      return fn();
    } catch (err) {
      const code = sqliteCode(err);
      if (code === undefined) throw err;
      throw new LedgerError(`ledger ${this.file}: ${op} failed: ${(err as Error).message} (${code})`, {
        path: this.file, cause: err, hint: hintFor(code),
      });
    }
  }

  /** Whole milliseconds: the time columns are STRICT integers. */
  private now(): number {
    return Math.round(this.clock.now());
  }

  private row(c: JobColumns): LedgerRow {
    return toRow(c, this.file);
  }

  private rowOrUndefined(c: JobColumns | undefined): LedgerRow | undefined {
    return c === undefined ? undefined : toRow(c, this.file);
  }

  /** Raw files are identified by path, so every caller must name a file the same way. */
  private absolute(path: string): string {
    if (!isAbsolute(path)) throw this.bug(`path ${JSON.stringify(path)} is not absolute`);
    return resolve(path);
  }

  private checkObsDate(obsDate: string): void {
    if (!OBS_DATE.test(obsDate)) throw this.bug(`observing date ${JSON.stringify(obsDate)} is not YYYYMMDD`);
  }

  private checkChecksum(checksum: string): void {
    if (!SHA256.test(checksum)) throw this.bug(`checksum ${JSON.stringify(checksum)} is not a lower-case sha256 hex digest`);
  }

  private checkLimit(limit: number): number {
    if (!Number.isInteger(limit) || limit < 1) throw this.bug(`limit ${limit} is not a positive integer`);
    return limit;
  }

  private noJob(id: number): LedgerError {
    return new LedgerError(`ledger ${this.file}: no job ${id}`, { path: this.file });
  }

  private bug(what: string): LedgerError {
    return new LedgerError(`ledger ${this.file}: ${what}`, { path: this.file, hint: 'a bug in the caller' });
  }
}
