/**
 * Keeping a ledger of years (docs/behaviour.md §5.4): an online backup while the service writes,
 * and moving the finished jobs of old years into an archive file without losing the duplicate
 * protection the catch-up window needs. Both run in an operator's command (`dataman ledger
 * backup|archive`), beside the running service: every write here is a short transaction, so the
 * service's own writes wait milliseconds, never seconds.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { LedgerError, migrate, UNFINISHED_STATES, type JobColumns } from './ledger-schema.js';

const DAY_MS = 86_400_000;

/** The youngest `--before` accepted is this many days ago (and never inside the catch-up window). */
export const MIN_ARCHIVE_AGE_DAYS = 30;

/** Jobs moved per transaction: the service's writes wait for at most one such step. */
export const ARCHIVE_BATCH = 2000;

function openFile(file: string, options: { mustExist: boolean }): Database.Database {
  if (options.mustExist && !existsSync(file)) throw new LedgerError(`no ledger ${file}`, { path: file });
  try {
    const db = new Database(file, { fileMustExist: options.mustExist });
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (err) {
    throw new LedgerError(`cannot open ${file}: ${(err as Error).message}`, { path: file, cause: err });
  }
}

export interface BackupResult {
  file: string;
  bytes: number;
  jobs: number;
}

/**
 * Copies the ledger at `ledgerFile` to `outFile` with SQLite's online backup, while the service
 * keeps writing: the copy is one consistent moment of the ledger (every committed transaction
 * up to it, none after). Written under a temporary name, checked (`quick_check`, its jobs
 * counted), then renamed into place; an existing `outFile` is refused.
 */
export async function backupLedger(ledgerFile: string, outFile: string): Promise<BackupResult> {
  const out = resolve(outFile);
  if (existsSync(out)) throw new LedgerError(`${out} exists; a backup never overwrites a file`, { path: out, hint: 'name a new file' });
  const temp = join(dirname(out), `.${basename(out)}.partial`);
  rmSync(temp, { force: true });
  const db = openFile(ledgerFile, { mustExist: true });
  try {
    // After a first step, everything left in one step: a step reads one snapshot, so no write of
    // the service in between can send the copy back to its start.
    await db.backup(temp, { progress: ({ remainingPages }) => Math.max(remainingPages, 1) });
  } catch (err) {
    rmSync(temp, { force: true });
    throw new LedgerError(`backup of ${ledgerFile} to ${out} failed: ${(err as Error).message}`, { path: out, cause: err });
  } finally {
    db.close();
  }
  const copy = new Database(temp, { fileMustExist: true });
  let jobs: number;
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new LedgerError(`the backup ${temp} fails its check: ${String(check)}`, { path: temp });
    jobs = (copy.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n;
  } catch (err) {
    copy.close();
    rmSync(temp, { force: true });
    throw err;
  }
  copy.close();
  renameSync(temp, out);
  return { file: out, bytes: statSync(out).size, jobs };
}

export interface ArchiveOptions {
  /** Jobs last changed before this time (ms since the epoch) are moved. */
  beforeMs: number;
  /** The clock: `beforeMs` must be `MIN_ARCHIVE_AGE_DAYS` and the catch-up window before it. */
  nowMs: number;
  /** watch.catchUpHours of the configuration. */
  catchUpHours: number;
  /** Jobs per transaction. @default ARCHIVE_BATCH */
  batch?: number;
}

export interface ArchiveResult {
  archive: string;
  /** Jobs moved by this run. */
  moved: number;
  /** Jobs before the date left in the ledger because they are not finished (named for the operator). */
  unfinished: Array<{ id: number; name: string; state: string }>;
  /** Jobs that changed while being moved: left in the ledger, removed from the archive again. */
  changed: number;
}

/** Why `beforeMs` is refused, or null. */
export function archiveDateProblem(o: Pick<ArchiveOptions, 'beforeMs' | 'nowMs' | 'catchUpHours'>): string | null {
  const latest = o.nowMs - Math.max(MIN_ARCHIVE_AGE_DAYS * DAY_MS, o.catchUpHours * 3_600_000);
  if (o.beforeMs <= latest) return null;
  const why = o.catchUpHours * 3_600_000 > MIN_ARCHIVE_AGE_DAYS * DAY_MS
    ? `inside the catch-up window (watch.catchUpHours ${o.catchUpHours}): the service needs those jobs to know a file was delivered`
    : `too recent: jobs of the last ${MIN_ARCHIVE_AGE_DAYS} days stay in the ledger`;
  return `${new Date(o.beforeMs).toISOString().slice(0, 10)} is ${why}; the latest date accepted is ${new Date(latest).toISOString().slice(0, 10)}`;
}

const FINISHED = `state NOT IN (${UNFINISHED_STATES.map((s) => `'${s}'`).join(', ')})`;
const COLUMNS_EQUAL = (row: JobColumns, other: JobColumns | undefined) => other !== undefined && JSON.stringify(row) === JSON.stringify(other);

/**
 * Moves the finished jobs last changed before `beforeMs` from the ledger into `archiveFile` (a
 * ledger file of the same schema, created if missing, appended to if not). Each batch is copied
 * into the archive and committed there first; then, in one transaction of the ledger, each job
 * is read again, compared field by field with its archived copy and only then deleted. A crash
 * at any point leaves every job in the ledger, the archive or both, and running the command again
 * finishes the move (a job already archived identically is not copied twice). The newest job is
 * never moved, so SQLite never hands out its id again.
 */
export function archiveLedger(ledgerFile: string, archiveFile: string, o: ArchiveOptions): ArchiveResult {
  const problem = archiveDateProblem(o);
  if (problem !== null) throw new LedgerError(`refused: --before ${problem}`, { path: ledgerFile });
  const archivePath = resolve(archiveFile);
  if (resolve(ledgerFile) === archivePath) throw new LedgerError('the archive cannot be the ledger itself', { path: archivePath });
  const db = openFile(ledgerFile, { mustExist: true });
  const out = openFile(archivePath, { mustExist: false });
  try {
    out.pragma('journal_mode = WAL');
    out.pragma('synchronous = FULL');
    migrate(db, ledgerFile);
    migrate(out, archivePath);
    // In the ledger a raw file has one job at a time (this index); an archive keeps years of them:
    // a file processed again after its first job was archived has a second one to archive.
    out.exec('DROP INDEX IF EXISTS jobs_raw_path');
    const batch = o.batch ?? ARCHIVE_BATCH;
    const pick = db.prepare<[{ before: number; limit: number }], JobColumns>(
      `SELECT * FROM jobs WHERE updated_at < @before AND ${FINISHED} AND id < (SELECT MAX(id) FROM jobs)
       ORDER BY updated_at, id LIMIT @limit`,
    );
    const getMain = db.prepare<[number], JobColumns>('SELECT * FROM jobs WHERE id = ?');
    const del = db.prepare<[number], unknown>('DELETE FROM jobs WHERE id = ?');
    const getArchived = out.prepare<[number], JobColumns>('SELECT * FROM jobs WHERE id = ?');
    const columns = getMain.columns().map((c) => c.name);
    const insert = out.prepare<[JobColumns], unknown>(
      `INSERT INTO jobs (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    const unarchive = out.prepare<[number], unknown>('DELETE FROM jobs WHERE id = ?');

    const copy = out.transaction((rows: JobColumns[]) => {
      for (const row of rows) {
        const there = getArchived.get(row.id);
        if (there === undefined) insert.run(row);
        else if (there.name === row.name && there.path === row.path) {
          // Copied by a run that stopped before its delete, and changed in the ledger since: the
          // ledger's row is the job as it is; the archive's copy is only replaced.
          if (!COLUMNS_EQUAL(row, there)) {
            unarchive.run(row.id);
            insert.run(row);
          }
        } else {
          throw new LedgerError(`${archivePath} already holds a different job ${row.id} (${there.name}, not ${row.name}): an archive of another ledger?`, {
            path: archivePath, hint: 'archive into a new file',
          });
        }
      }
    });
    const remove = db.transaction((rows: JobColumns[]): JobColumns[] => {
      const changed: JobColumns[] = [];
      for (const row of rows) {
        const now = getMain.get(row.id);
        if (now !== undefined && COLUMNS_EQUAL(now, getArchived.get(row.id))) del.run(row.id);
        else if (now !== undefined) changed.push(row);
      }
      return changed;
    });

    let moved = 0;
    let changed = 0;
    // Jobs that changed while being moved (kept in the ledger), not picked again in this run.
    const changedIds = new Set<number>();
    for (;;) {
      const rows = pick.all({ before: o.beforeMs, limit: batch }).filter((r) => !changedIds.has(r.id));
      if (rows.length === 0) break;
      copy.immediate(rows);
      const stillChanging = remove.immediate(rows);
      for (const r of stillChanging) { unarchive.run(r.id); changedIds.add(r.id); }
      moved += rows.length - stillChanging.length;
      changed += stillChanging.length;
    }
    const unfinished = db.prepare<[number], { id: number; name: string; state: string }>(
      `SELECT id, name, state FROM jobs WHERE updated_at < ? AND NOT (${FINISHED}) ORDER BY updated_at, id`,
    ).all(o.beforeMs);
    out.pragma('wal_checkpoint(TRUNCATE)');
    return { archive: archivePath, moved, unfinished, changed };
  } finally {
    out.close();
    db.close();
  }
}
