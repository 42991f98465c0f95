/**
 * One file's own status page data (`GET /file/<name>`): every ledger job of that base name (the
 * raw file and each drop of it) with attempts, errors and timings, the processed file's header
 * cards as `dataman inspect` prints them, and its quick look, made on first view and kept.
 *
 * Names come from a URL: only a plain base name (`FILE_NAME`) is looked up, and only in the
 * ledger; the paths read are the ledger's own, never built from the request.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { formatInspectText, inspectFile } from '../../fits/inspect-report.js';
import { writeQuickLook } from '../../quicklook/index.js';
import type { LedgerRow } from '../ledger/ledger.js';
import type { StatusSource } from './status-source.js';

/** A base name: letters, digits, `.`, `_`, `-`, `+`, starting with a letter or digit; no `..`. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/;

/** Why a requested name is refused, or null when it is a plain base name. */
export function badFileName(name: string): string | null {
  if (!FILE_NAME.test(name) || name.includes('..')) return `${JSON.stringify(name)} is not a file name (letters, digits, . _ - + only, no folders)`;
  return null;
}

export interface FileJob {
  row: LedgerRow;
  /** From found complete to delivered, s. */
  latencySeconds: number | null;
  /** Processing time of the last attempt (start to delivery), s. */
  processingSeconds: number | null;
}

export interface FileDetail {
  name: string;
  /** Oldest first. */
  jobs: FileJob[];
  /** The job whose processed file is shown (the newest with one), or undefined. */
  shown: LedgerRow | undefined;
  /** `dataman inspect` text of the processed file, or why it cannot be shown. */
  header: { text: string } | { error: string };
}

/** The detail of `name`, or undefined when the ledger has no job of that name. The name must have passed `badFileName`. */
export async function readFileDetail(source: StatusSource, name: string): Promise<FileDetail | undefined> {
  const rows = source.ledger.byName(name);
  if (rows.length === 0) return undefined;
  const jobs = rows.map((row) => ({
    row,
    latencySeconds: row.deliveredAt !== null && row.completeAt !== null ? (row.deliveredAt - row.completeAt) / 1000 : null,
    processingSeconds: row.deliveredAt !== null && row.startedAt !== null ? (row.deliveredAt - row.startedAt) / 1000 : null,
  }));
  const shown = [...rows].reverse().find((r) => r.procPath !== null);
  let header: FileDetail['header'];
  if (shown?.procPath == null) {
    header = { error: 'not processed yet: no header to show' };
  } else {
    try {
      const { report, hdus } = await inspectFile(shown.procPath);
      header = { text: formatInspectText(report, hdus) };
    } catch (err) {
      header = { error: `cannot read ${shown.procPath}: ${(err as Error).message}` };
    }
  }
  return { name, jobs, shown, header };
}

/**
 * The quick-look PNG of `name`'s processed file: `<dir>/<job id>-<name>.png` (a reprocessing
 * is a new job, so never a stale picture), made from the processed
 * file on the first request and served from there afterwards. Undefined when the ledger has no
 * processed file of that name. Throws what the quick look throws (no MERGED, unreadable file).
 */
export async function fileQuickLook(source: StatusSource, dir: string, name: string): Promise<string | undefined> {
  const shown = [...source.ledger.byName(name)].reverse().find((r) => r.procPath !== null);
  if (shown?.procPath == null) return undefined;
  const png = join(dir, `${shown.id}-${name}.png`);
  if (!existsSync(png)) {
    await mkdir(dir, { recursive: true });
    await writeQuickLook(shown.procPath, png);
  }
  return png;
}
