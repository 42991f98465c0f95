/**
 * Finds raw files: chokidar over a folder (the drop folder; the channel folders when
 * `watch.usePolling` is off, i.e. inotify on a local disk), and a one-pass catch-up scan at
 * start. The channel folders when polling (the default, for NFS) are raw-poller.ts's: chokidar's
 * polling costs a stat of every entry on each change of the folder. Only names matching the raw
 * pattern count; everything else is ignored here.
 */
import { EventEmitter } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { oldByNameDate } from './name-date.js';

export interface WatcherOptions {
  /** Folders to watch (not recursive). */
  folders: readonly string[];
  usePolling: boolean;
  intervalMs: number;
  /** Base names that count. */
  namePattern: RegExp;
  /**
   * Files last modified longer ago than this when the watcher first lists them are not watched
   * (the catch-up window): a raw folder keeps every night's files, and polling costs one stat
   * per watched file per interval. @default watch everything
   */
  ignoreOlderThanMs?: number;
  /** Forgotten files after which the watcher is rebuilt without them. @default 200 */
  rebuildAfterForgets?: number;
}

export interface WatcherEvents {
  /** A matching file appeared or changed. */
  file: [path: string];
  /** The watcher reported a problem (a folder unreadable, the NFS server away…). */
  error: [error: Error];
}

/** How recently the watcher last reached all its folders (`RawWatcher.lastPoll`). */
export interface PollAge {
  /** ms since the last poll that reached every folder, or since start when none has (monotonic: a clock step does not age it). */
  ageMs: number;
  everOk: boolean;
  /** The folders the last look could not reach (all of them before the first look). */
  unreachable: readonly string[];
}

/** What the service needs of a source of raw files: chokidar's `RawWatcher` or the `RawFolderPoller`. */
export interface RawSource extends EventEmitter<WatcherEvents> {
  /** Starts watching; files already there are not reported (the catch-up scan's). */
  start(): Promise<void>;
  close(): Promise<void>;
  /** Stops reporting a file that needs nothing more (delivered). */
  forget(path: string): Promise<void>;
  /** Raw files polled (each costs a stat per poll interval). */
  watchedFiles(): number;
  lastPoll(): PollAge;
}

export class RawWatcher extends EventEmitter<WatcherEvents> implements RawSource {
  private watcher: FSWatcher | undefined;
  /** performance.now() of the start and of the last poll that reached every folder. */
  private startedAt = 0;
  private lastOkAt: number | undefined;
  private unreachable: readonly string[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;
  /** Files that need nothing more: not reported, and not polled once the watcher is rebuilt. */
  private readonly forgotten = new Set<string>();
  private forgottenSinceRebuild = 0;
  private rebuilding: Promise<void> | undefined;

  constructor(private readonly options: WatcherOptions) {
    super();
  }

  /** Starts watching; resolves once the initial listing is done (existing files are not reported). */
  async start(): Promise<void> {
    this.startedAt = performance.now();
    this.watcher = await this.open();
    this.scheduleHeartbeat();
  }

  /** How long since the folders last answered (the health's `watcher-stale`). */
  lastPoll(): PollAge {
    const everOk = this.lastOkAt !== undefined;
    return { ageMs: performance.now() - (this.lastOkAt ?? this.startedAt), everOk, unreachable: everOk || this.unreachable.length > 0 ? this.unreachable : this.options.folders };
  }

  /**
   * chokidar does not say when a poll went through, nor that one hangs (NFS server away): the
   * watcher stats its folders itself at the poll interval, one look at a time, and notes when
   * all of them answered as folders.
   */
  private scheduleHeartbeat(): void {
    if (this.closing) return;
    this.heartbeat = setTimeout(() => {
      const { folders } = this.options;
      void Promise.all(folders.map((f) => stat(f).then((s) => s.isDirectory(), () => false))).then((ok) => {
        this.unreachable = folders.filter((_, i) => !ok[i]);
        if (this.unreachable.length === 0) this.lastOkAt = performance.now();
        this.scheduleHeartbeat();
      });
    }, this.options.intervalMs);
    this.heartbeat.unref();
  }

  /**
   * A chokidar watcher. With `reportSinceMs`, files it finds in its initial listing that were
   * modified since then are reported too: a new watcher taking over from an old one must not
   * miss what appeared after the old one's last poll.
   */
  private async open(reportSinceMs?: number): Promise<FSWatcher> {
    const { folders, usePolling, intervalMs, namePattern, ignoreOlderThanMs } = this.options;
    const tooOld = (mtimeMs: number) => ignoreOlderThanMs !== undefined && mtimeMs < Date.now() - ignoreOlderThanMs;
    let initial = reportSinceMs !== undefined;
    const watcher = watch([...folders], {
      ignoreInitial: reportSinceMs === undefined,
      alwaysStat: true,
      depth: 0,
      usePolling,
      interval: intervalMs,
      binaryInterval: intervalMs,
      // Temporaries (dot files), anything that is not a raw name, old files and forgotten ones.
      ignored: (path, stats) => this.forgotten.has(resolve(path))
        || (stats?.isFile() === true && (!namePattern.test(basename(path)) || tooOld(stats.mtimeMs))),
    });
    const report = (path: string, stats?: Stats) => {
      if (!namePattern.test(basename(path)) || this.forgotten.has(resolve(path))) return;
      if (initial && (stats === undefined || stats.mtimeMs < reportSinceMs!)) return;
      this.emit('file', path);
    };
    watcher.on('add', report);
    watcher.on('change', report);
    watcher.on('error', (err) => this.emit('error', err instanceof Error ? err : new Error(String(err))));
    await new Promise<void>((ready) => watcher.once('ready', () => ready()));
    initial = false;
    return watcher;
  }

  /**
   * Stops reporting a file that needs nothing more (delivered). chokidar's own `unwatch` would
   * make every later check slower (it keeps a list it compares each path against), so forgotten
   * files are left out of a new watcher instead, rebuilt after `rebuildAfterForgets` of them:
   * it takes over before the old one closes and reports the files that changed lately, so that
   * no new file goes unseen in between.
   */
  async forget(path: string): Promise<void> {
    this.forgotten.add(resolve(path));
    this.forgottenSinceRebuild += 1;
    if (this.watcher === undefined || this.rebuilding !== undefined) return;
    if (this.forgottenSinceRebuild < (this.options.rebuildAfterForgets ?? 200)) return;
    this.rebuilding = (async () => {
      this.forgottenSinceRebuild = 0;
      // The old watcher saw everything up to its last poll, at most an interval ago; a minute
      // more for the file server's clock. What the new one reports twice, intake ignores.
      const next = await this.open(Date.now() - 2 * this.options.intervalMs - 60_000);
      const old = this.watcher;
      this.watcher = next;
      await old?.close();
    })().finally(() => {
      this.rebuilding = undefined;
    });
    await this.rebuilding;
  }

  /** Raw files being polled (each costs a stat per poll interval), forgotten ones included until a rebuild. */
  watchedFiles(): number {
    const watched = this.watcher?.getWatched() ?? {};
    return Object.values(watched).reduce((n, names) => n + names.filter((name) => this.options.namePattern.test(name)).length, 0);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.heartbeat);
    await this.rebuilding;
    await this.watcher?.close();
    this.watcher = undefined;
  }
}

export interface ScanResult {
  path: string;
  mtimeMs: number;
  size: number;
}

/**
 * One pass over the folders: matching files modified at or after `sinceMs`, oldest first. A
 * missing folder is reported in `problems`, not thrown: the others are still scanned. Names
 * dated days before the folder's newest are old without a stat (name-date.ts): the scan's cost
 * follows the window, not a raw folder nobody cleaned.
 */
export async function scanOnce(folders: readonly string[], namePattern: RegExp, sinceMs: number): Promise<{ files: ScanResult[]; problems: string[] }> {
  const files: ScanResult[] = [];
  const problems: string[] = [];
  const now = Date.now();
  for (const folder of folders) {
    let names: string[];
    try {
      names = (await readdir(folder)).filter((n) => namePattern.test(n));
    } catch (err) {
      problems.push(`cannot list ${folder}: ${(err as Error).message}`);
      continue;
    }
    const old = oldByNameDate(names, namePattern, now, now - sinceMs);
    await inBatches(names.filter((n) => !old(n)), 16, async (name) => {
      const path = join(folder, name);
      try {
        const info = await stat(path);
        if (info.isFile() && info.mtimeMs >= sinceMs) files.push({ path, mtimeMs: info.mtimeMs, size: info.size });
      } catch (err) {
        // Deleted between readdir and stat: nothing to catch up on.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`cannot stat ${path}: ${(err as Error).message}`);
      }
    });
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path));
  return { files, problems };
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function inBatches<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
