/**
 * The soak's accounting, once the service has stopped: which written raw files reached repoDir
 * (by the FILENAME card of every delivered file, whatever name it was delivered under), how
 * often, what the ledger says about each, the latencies, and whether memory grew.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readStructure, verifyFile, withFileSource } from '../src/fits/index.js';
import { percentile } from './latency.js';
import type { JobColumns } from '../src/service/ledger/ledger-schema.js';

/** One raw file the soak wrote. */
export interface WrittenFile {
  name: string;
  channel: string;
  seq: number;
  kind: 'small' | 'full';
  roi: string;
  bin: string;
  /** Sent `proc <name>` after writing it (as azcam does); otherwise only the watcher finds it. */
  trigger: boolean;
  bytes: number;
  /** When the writer closed the file for the last time (CONPARS appended), ms since the epoch. */
  writtenAt: number;
  /** Written while the service was down (between a stop signal and the restarted service's readiness). */
  duringOutage: boolean;
  /** The trigger went to a port nobody listened on (the service was down). */
  triggerWhileDown?: boolean;
}

/** The time between a stop signal and the next service being ready. */
export interface Outage {
  signal: 'SIGTERM' | 'SIGKILL';
  startAt: number;
  /** When the old process had exited. */
  exitedAt?: number;
  /** When the new one answered on its status port. */
  endAt?: number;
}

export interface Sample {
  /** ms since the soak started. */
  t: number;
  segment: number;
  /** Files in repoDir (delivered copies, any name). */
  delivered: number;
  written: number;
  rssMb: number;
  hwmMb: number;
  /** Main-thread V8 heap in use and external memory (from /metrics), when the scrape answered. */
  heapMb?: number;
  externalMb?: number;
  /** Waiting + queued + running (from /status.json). */
  inService?: number;
  /** Samples after every file was delivered (the final idle period). */
  idle?: boolean;
}

// ---------------------------------------------------------------------------------------------
// What ended up where

export interface DeliveredCopy {
  file: string;
  /** FILENAME of its primary header: the raw file it was made from. */
  raw: string | undefined;
  ok: boolean;
  problem?: string;
}

/** Every visible `.fits` in `folder` with the raw name it came from; dot-temporaries apart. */
export async function scanDelivered(folder: string, verify: boolean): Promise<{ copies: DeliveredCopy[]; temporaries: string[] }> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const temporaries = await Promise.all(names.filter((n) => n.startsWith('.')).map(async (n) => {
    const info = await stat(join(folder, n)).catch(() => undefined);
    return `${n} (${info?.size ?? '?'} bytes, modified ${info ? new Date(info.mtimeMs).toISOString() : '?'})`;
  }));
  const files = names.filter((n) => n.endsWith('.fits') && !n.startsWith('.')).sort();
  const copies: DeliveredCopy[] = [];
  const one = async (name: string): Promise<DeliveredCopy> => {
    const path = join(folder, name);
    try {
      return await withFileSource(path, async (source) => {
        const s = await readStructure(source);
        const raw = s.hdus[0]?.header.string('FILENAME')?.trim();
        if (!verify) return { file: name, raw, ok: s.complete, ...(s.complete ? {} : { problem: 'incomplete' }) };
        const report = await verifyFile(source);
        return { file: name, raw, ok: report.ok, ...(report.ok ? {} : { problem: report.problems.map((p) => p.message).join('; ') }) };
      });
    } catch (err) {
      return { file: name, raw: undefined, ok: false, problem: (err as Error).message };
    }
  };
  for (let i = 0; i < files.length; i += 8) copies.push(...(await Promise.all(files.slice(i, i + 8).map(one))));
  return { copies, temporaries };
}

/** A ledger job as SQLite returns it: the service's own row type. */
export type LedgerJob = JobColumns;

/** Every job of the ledger, read-only (the service has stopped and checkpointed it). */
export function readLedger(file: string): LedgerJob[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM jobs ORDER BY id').all() as LedgerJob[];
  } finally {
    db.close();
  }
}

export interface Accounting {
  written: number;
  /** Written files with at least one copy in repoDir. */
  delivered: number;
  lost: string[];
  /** Raw names with more than one copy in repoDir or in the day folder. */
  duplicated: Array<{ name: string; repo: string[]; proc: string[] }>;
  /** Copies that failed verification or could not be read. */
  unsound: DeliveredCopy[];
  /** Copies whose FILENAME names no written file. */
  strangers: DeliveredCopy[];
  /** Written files whose ledger does not say exactly one job, delivered, pointing at the copy found. */
  ledgerAnomalies: Array<{ name: string; problem: string; rows: LedgerJob[] }>;
  ledgerByState: Record<string, number>;
  /** Jobs that were tried more than once (restarts, retries, files changed during processing). */
  multiAttempt: number;
  temporaries: { repo: string[]; proc: string[] };
}

export function account(
  written: WrittenFile[], repo: DeliveredCopy[], proc: DeliveredCopy[], jobs: LedgerJob[], repoDir: string,
  temporaries: { repo: string[]; proc: string[] },
): Accounting {
  const group = (copies: DeliveredCopy[]) => {
    const by = new Map<string, string[]>();
    for (const c of copies) if (c.raw !== undefined) by.set(c.raw, [...(by.get(c.raw) ?? []), c.file]);
    return by;
  };
  const repoBy = group(repo);
  const procBy = group(proc);
  const jobsBy = new Map<string, LedgerJob[]>();
  for (const j of jobs.filter((j) => j.origin !== 'drop')) jobsBy.set(j.name, [...(jobsBy.get(j.name) ?? []), j]);
  const names = new Set(written.map((w) => w.name));
  const lost: string[] = [];
  const duplicated: Accounting['duplicated'] = [];
  const ledgerAnomalies: Accounting['ledgerAnomalies'] = [];
  for (const w of written) {
    const r = repoBy.get(w.name) ?? [];
    const p = procBy.get(w.name) ?? [];
    if (r.length === 0) lost.push(w.name);
    if (r.length > 1 || p.length > 1) duplicated.push({ name: w.name, repo: r, proc: p });
    const rows = jobsBy.get(w.name) ?? [];
    let problem: string | undefined;
    if (rows.length !== 1) problem = `${rows.length} ledger jobs`;
    else if (rows[0]!.state !== 'delivered') problem = `state ${rows[0]!.state}${rows[0]!.error_code ? ` (${rows[0]!.error_code}: ${rows[0]!.error_message})` : ''}`;
    else if (!r.some((f) => join(repoDir, f) === rows[0]!.repo_path)) problem = `ledger says ${rows[0]!.repo_path}, repoDir has ${r.join(', ') || 'nothing'}`;
    if (problem !== undefined) ledgerAnomalies.push({ name: w.name, problem, rows });
  }
  const ledgerByState: Record<string, number> = {};
  for (const j of jobs) ledgerByState[j.state] = (ledgerByState[j.state] ?? 0) + 1;
  return {
    written: written.length,
    delivered: written.length - lost.length,
    lost,
    duplicated,
    unsound: [...repo, ...proc].filter((c) => !c.ok),
    strangers: repo.filter((c) => c.raw === undefined || !names.has(c.raw)),
    ledgerAnomalies,
    ledgerByState,
    multiAttempt: jobs.filter((j) => j.attempts > 1).length,
    temporaries,
  };
}

// ---------------------------------------------------------------------------------------------
// Latency

export interface Percentiles { n: number; p50Ms: number; p95Ms: number; maxMs: number }

export function percentiles(xs: number[]): Percentiles | null {
  if (xs.length === 0) return null;
  return { n: xs.length, p50Ms: percentile(xs, 50), p95Ms: percentile(xs, 95), maxMs: Math.max(...xs) };
}

/**
 * Per group of files, from the writer closing the raw file to the ledger's `delivered_at`
 * (recorded right after `<CHAN>.new` was renamed into place): end to end; and its parts, the
 * wait until the service found the file complete (`complete_at`) and the last attempt's
 * processing + delivery (`started_at` → `delivered_at`). "Undisturbed" files were written and
 * delivered with no stop signal in between.
 */
export function latencies(written: WrittenFile[], jobs: LedgerJob[], outages: Outage[]) {
  const byName = new Map(jobs.filter((j) => j.origin !== 'drop').map((j) => [j.name, j]));
  type Entry = { e2e: number; detect: number | null; work: number | null };
  const groups: Record<string, Entry[]> = { smallUdp: [], smallWatcher: [], full: [], disturbed: [] };
  for (const w of written) {
    const j = byName.get(w.name);
    if (j?.delivered_at == null) continue;
    const entry: Entry = {
      e2e: j.delivered_at - w.writtenAt,
      detect: j.complete_at === null ? null : j.complete_at - w.writtenAt,
      work: j.started_at === null ? null : j.delivered_at - j.started_at,
    };
    const disturbed = w.duringOutage || outages.some((o) => o.startAt >= w.writtenAt - 1 && o.startAt <= j.delivered_at!);
    const key = disturbed ? 'disturbed' : w.kind === 'full' ? 'full' : w.trigger ? 'smallUdp' : 'smallWatcher';
    groups[key]!.push(entry);
  }
  const out: Record<string, { endToEnd: Percentiles | null; untilComplete: Percentiles | null; processAndDeliver: Percentiles | null }> = {};
  for (const [key, entries] of Object.entries(groups)) {
    out[key] = {
      endToEnd: percentiles(entries.map((e) => e.e2e)),
      untilComplete: percentiles(entries.flatMap((e) => (e.detect === null ? [] : [e.detect]))),
      processAndDeliver: percentiles(entries.flatMap((e) => (e.work === null ? [] : [e.work]))),
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Memory

/** Least-squares slope of y over x; null with fewer than 3 points or no spread in x. */
export function slope(points: Array<[number, number]>): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  return sxx === 0 ? null : sxy / sxx;
}

export interface SegmentMemory {
  segment: number;
  samples: number;
  /** Files delivered while this process ran (by the repoDir count). */
  filesDelivered: number;
  /** Post-warm-up files over which the slopes are taken. */
  slopeSpanFiles: number;
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  /** VmHWM at the last sample: the process's peak RSS. */
  hwmMb: number;
  heapStartMb: number | null;
  heapEndMb: number | null;
  /** MB per 1000 delivered files after warm-up: all RSS samples, the RSS floor (the minimum of each window of ten samples, which ignores the transient peaks of full frames) and the main thread's V8 heap. */
  rssSlopeMbPer1000: number | null;
  rssFloorSlopeMbPer1000: number | null;
  heapSlopeMbPer1000: number | null;
  /** The same for the heap's floor (the minimum of each window: nearest to what survives a full GC). */
  heapFloorSlopeMbPer1000: number | null;
}

export function segmentMemory(samples: Sample[], segment: number, warmupFiles: number): SegmentMemory | null {
  const all = samples.filter((s) => s.segment === segment);
  if (all.length === 0) return null;
  const first = all[0]!;
  const busy = all.filter((s) => !s.idle && s.delivered - first.delivered >= warmupFiles);
  const per1000 = (v: number | null) => (v === null ? null : v * 1000);
  const floors: Array<[number, number]> = [];
  const heapFloors: Array<[number, number]> = [];
  for (let i = 0; i + 10 <= busy.length; i += 10) {
    const w = busy.slice(i, i + 10);
    const x = w.reduce((s, v) => s + v.delivered, 0) / w.length;
    floors.push([x, Math.min(...w.map((v) => v.rssMb))]);
    const heaps = w.flatMap((v) => (v.heapMb === undefined ? [] : [v.heapMb]));
    if (heaps.length > 0) heapFloors.push([x, Math.min(...heaps)]);
  }
  const heap = all.filter((s) => s.heapMb !== undefined);
  const busyHeap = busy.filter((s) => s.heapMb !== undefined);
  const span = busy.length > 0 ? busy[busy.length - 1]!.delivered - busy[0]!.delivered : 0;
  const enough = span >= 100;
  return {
    segment,
    samples: all.length,
    filesDelivered: all[all.length - 1]!.delivered - first.delivered,
    slopeSpanFiles: span,
    rssStartMb: first.rssMb,
    rssEndMb: all[all.length - 1]!.rssMb,
    rssMaxMb: Math.max(...all.map((s) => s.rssMb)),
    hwmMb: all[all.length - 1]!.hwmMb,
    heapStartMb: heap[0]?.heapMb ?? null,
    heapEndMb: heap[heap.length - 1]?.heapMb ?? null,
    rssSlopeMbPer1000: enough ? per1000(slope(busy.map((s) => [s.delivered, s.rssMb]))) : null,
    rssFloorSlopeMbPer1000: enough ? per1000(slope(floors)) : null,
    heapSlopeMbPer1000: enough ? per1000(slope(busyHeap.map((s) => [s.delivered, s.heapMb!]))) : null,
    heapFloorSlopeMbPer1000: enough ? per1000(slope(heapFloors)) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Service memory and logs

/** VmRSS and VmHWM of a process in MB, from /proc (undefined once it is gone). */
export async function procMemory(pid: number): Promise<{ rssMb: number; hwmMb: number } | undefined> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const rss = kb('VmRSS');
  return Number.isFinite(rss) ? { rssMb: rss / 1024, hwmMb: kb('VmHWM') / 1024 } : undefined;
}

/** A Prometheus sample value by metric name (no labels), in MB. */
export function metricMb(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} ([0-9.eE+-]+)`, 'm').exec(text);
  return m ? Number(m[1]) / 2 ** 20 : undefined;
}

/** Log lines worth counting: what restarts and retries did. */
export const LOG_EVENTS: Record<string, RegExp> = {
  resumed: /Resuming /,
  orphanRecovered: /the last run stopped while delivering it/,
  staleTempRemoved: /removed .*, left by a run that stopped/,
  changedWhileProcessed: /changed while it was processed/,
  retries: /retrying in /,
  noConpars: /no CONPARS table after/,
  renamedOnClash: /copied to .* as (?!mods[12][br]\.\d{8}\.\d{4}\.fits)/,
  warnings: /\| WARN(ING)? \|/,
  errors: /\| (ERROR|CRITICAL) \|/,
  internal: /internal error/,
};

export function countLogEvents(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  const lines = text.split('\n');
  for (const [key, re] of Object.entries(LOG_EVENTS)) counts[key] = lines.filter((l) => re.test(l)).length;
  return counts;
}

/** Lines of the service's output that mention `name` (for a lost or duplicated file). */
export function linesAbout(text: string, name: string, max = 40): string[] {
  return text.split('\n').filter((l) => l.includes(name)).slice(0, max);
}
