/**
 * The operator's drop folder: a raw file copied here is processed again and then moved to
 * `done/` or `failed/` (with `<name>.error.txt` saying why). Nothing is ever deleted, and a name
 * that exists in `done/` or `failed/` gets a numbered suffix instead of replacing it.
 */
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from '../../ops/logger.js';
import type { LedgerRow } from '../ledger/ledger.js';

export async function ensureDropFolders(dropDir: string, mode: number): Promise<void> {
  for (const sub of ['', 'done', 'failed']) await mkdir(join(dropDir, sub), { recursive: true, mode });
}

/** Moves a drop-folder file to `done/` or `failed/` without replacing anything; returns where. */
export async function fileDrop(path: string, dropDir: string, outcome: 'done' | 'failed', reason?: string): Promise<string> {
  const name = basename(path);
  const folder = join(dropDir, outcome);
  await mkdir(folder, { recursive: true });
  for (let n = 1; n < 1000; n++) {
    const target = join(folder, n === 1 ? name : `${name}.${n}`);
    try {
      // link + unlink: never replaces an existing file (rename would).
      await link(path, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    await unlink(path);
    if (outcome === 'failed') await writeFile(`${target}.error.txt`, `${reason ?? 'unknown error'}\n`);
    return target;
  }
  throw new Error(`cannot file ${path} into ${folder}: 999 files of that name already there`);
}

/**
 * Moves a finished job's file to `done/` or `failed/` if the operator put it in the drop folder;
 * a failure to move it is logged, never taken for a failure of the file.
 */
export async function fileDropIfAny(
  row: LedgerRow, dropDir: string | undefined, logger: Logger, outcome: 'done' | 'failed', reason?: string,
): Promise<void> {
  // Only files the operator put in the drop folder are moved; a reprocessing request made by
  // `requeue --now` or `replay` names the raw file itself, which is never moved.
  if (row.origin !== 'drop' || !dropDir || dirname(row.path) !== resolve(dropDir)) return;
  try {
    const where = await fileDrop(row.path, dropDir, outcome, reason);
    logger.info(`${basename(row.path)}: drop-folder file moved to ${where}`);
  } catch (err) {
    logger.error(`${basename(row.path)}: cannot move the drop-folder file to ${outcome}/: ${(err as Error).message}`);
  }
}
