/**
 * Finishing a delivery that a crash interrupted. If the service died after a delivered file got
 * its final name but before the ledger recorded it, processing the raw file again would deliver
 * a second copy under a unique name. Instead, the next start looks for such orphans — files in
 * the day folder or repoDir whose header names this raw file (FILENAME), written since the
 * file was first seen, sound (complete, checksums), and claimed by no other ledger job —
 * and resumes the delivery after them.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { FitsError, readStructure, verifyFile, withFileSource } from '../../fits/index.js';
import type { DeliveryProgress } from './delivery-errors.js';
import type { Ledger, LedgerRow } from '../ledger/ledger.js';

/** The delivered names a file can have: its own, or UNIQNAME with an optional suffix. */
const UNIQUE = /^[a-z0-9]+\.\d{8}\.\d{6}(?:-\d+)?\.fits$/i;
/** Slack for file-system time stamps that are coarser or slightly behind the clock. */
const MTIME_SLACK_MS = 2000;

export async function findOrphans(
  row: LedgerRow, dayDir: string, repoDir: string, ledger: Pick<Ledger, 'byName'>,
  /** Runs the ledger read (the job waits through a ledger that is unavailable for a while). */
  read: <T>(fn: () => T) => Promise<T> = async (fn) => fn(),
): Promise<DeliveryProgress | undefined> {
  if (row.startedAt === null) return undefined;
  const name = basename(row.path);
  const jobs = await read(() => ledger.byName(name));
  const claimed = new Set(jobs.filter((r) => r.id !== row.id).flatMap((r) => [r.procPath, r.repoPath]));
  // Since the file was first seen, not since the last attempt: a run can be interrupted more
  // than once, and an orphan from the first interruption is still this job's.
  const since = row.firstSeenAt - MTIME_SLACK_MS;
  const proc = await newestOrphan(dayDir, name, since, claimed);
  const repo = await newestOrphan(repoDir, name, since, claimed);
  if (proc === undefined && repo === undefined) return undefined;
  const progress: DeliveryProgress = { warnings: [] };
  // A repository copy is only ever made from the processed copy, so without one there is
  // nothing to resume from: process again.
  if (proc === undefined) return undefined;
  progress.procPath = proc;
  if (repo !== undefined) {
    progress.repo = { path: repo, bytes: (await stat(repo)).size };
  }
  return progress;
}

async function newestOrphan(folder: string, name: string, sinceMs: number, claimed: Set<string | null>): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    // No folder, no orphan. Any other error (EIO, EACCES) goes to the job, which retries it:
    // guessing "no orphan" could deliver the file twice.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let best: { path: string; mtimeMs: number } | undefined;
  for (const candidate of names) {
    if (candidate !== name && !UNIQUE.test(candidate)) continue;
    const path = join(folder, candidate);
    if (claimed.has(path)) continue;
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || !info.isFile() || info.mtimeMs < sinceMs) continue;
    if (best !== undefined && best.mtimeMs >= info.mtimeMs) continue;
    if (!(await isDeliveredCopyOf(path, name))) continue;
    best = { path, mtimeMs: info.mtimeMs };
  }
  return best?.path;
}

async function isDeliveredCopyOf(path: string, name: string): Promise<boolean> {
  try {
    return await withFileSource(path, async (source) => {
      const s = await readStructure(source);
      if (!s.complete || s.hdus[0]?.header.string('FILENAME')?.trim() !== name) return false;
      return (await verifyFile(source)).ok;
    });
  } catch (err) {
    // Not sound FITS, or gone meanwhile: not a delivered copy to adopt. Disk errors go to the job.
    if (err instanceof FitsError || (err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Temporaries older than this belong to a run that died, not to a delivery in progress. */
const STALE_TEMP_MS = 10_000;

/**
 * Removes the dot-prefixed temporaries (`.<name>.part-…`, `.<name>.tmp-…`) that a killed run left
 * for this name in the given folders; returns what was removed. A temporary is stale when it was
 * last written before `runningSinceMs` (the start of this service: nothing of this run made it,
 * however young it is) or is older than STALE_TEMP_MS.
 */
export async function removeStaleTemps(folders: string[], name: string, nowMs: number, runningSinceMs = Number.NEGATIVE_INFINITY): Promise<string[]> {
  const removed: string[] = [];
  for (const folder of folders) {
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const candidate of names) {
      if (!candidate.startsWith(`.${name}.`)) continue;
      const path = join(folder, candidate);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || (info.mtimeMs >= runningSinceMs && nowMs - info.mtimeMs < STALE_TEMP_MS)) continue;
      await unlink(path);
      removed.push(path);
    }
  }
  return removed;
}
