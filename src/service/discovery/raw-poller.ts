/**
 * The raw channel folders' poller (`watch.usePolling`, the default: inotify sees nothing of files
 * that azcam writes from another machine over NFS). Its cost follows new files, not the folder:
 * each look stats the folder, lists its names (one readdir, no stat) only when the folder
 * changed, and stats only
 *   - names it has not seen before (new files), and
 *   - files it still watches: modified within the catch-up window, not yet forgotten (being
 *     written, waiting, not yet delivered).
 * Old files, found once, cost one name in a map. At its first look, names dated days
 * before the folder's newest (name-date.ts) are taken for old without a stat. chokidar's polling
 * could not do this: on every change of the folder it lists it again and lstats every entry
 * (docs/performance.md, "The raw folder").
 *
 * Like the watcher it replaces, it reports a file (`file`) when it appears and again whenever
 * its size, mtime or inode changed since the last look: the intake takes the first report, and
 * readiness does its own looks until the file is complete.
 */
import { EventEmitter } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve, dirname, basename } from 'node:path';
import { type ServiceClock, systemClock } from '../../base/clock.js';
import { oldByNameDate } from './name-date.js';
import { inBatches, type PollAge, type RawSource, type WatcherEvents } from './watcher.js';

/** What the poller needs of the filesystem (tests count and fault its calls). */
export interface PollerFs {
  readdir(folder: string): Promise<string[]>;
  stat(path: string): Promise<{ isFile(): boolean; isDirectory(): boolean; size: number; mtimeMs: number; ctimeMs: number; ino: number }>;
}

const nodeFs: PollerFs = { readdir: (folder) => readdir(folder), stat: (path) => stat(path) };

export interface RawPollerOptions {
  /** Folders to poll (not recursive). */
  folders: readonly string[];
  intervalMs: number;
  /** Base names that count. */
  namePattern: RegExp;
  /** Files last modified longer ago than this are not watched (the catch-up window, ms). */
  ignoreOlderThanMs: number;
  /** Wall time (compared with mtimes) and the timer of the next look. */
  clock?: ServiceClock;
  /** Monotonic ms, for the age of the last look (a step of the wall clock does not age it). */
  monotonicNow?: () => number;
  fs?: PollerFs;
  /** Stats in flight at once (a first look over NFS). @default 16 */
  statConcurrency?: number;
  /** A folder whose mtime did not move is listed again after this long all the same, ms. @default 30000 */
  fullListingEveryMs?: number;
  /** Called after each look (tests drive the clock look by look). */
  onLook?: () => void;
}

/** A watched file as last seen. */
interface Seen {
  size: number;
  mtimeMs: number;
  ino: number;
}

/** Per folder: every matching name seen, and what was seen of the files still watched (a few). */
interface FolderState {
  known: Set<string>;
  watched: Map<string, Seen>;
}

export class RawFolderPoller extends EventEmitter<WatcherEvents> implements RawSource {
  private readonly clock: ServiceClock;
  private readonly monotonicNow: () => number;
  private readonly fs: PollerFs;
  private readonly folders: Map<string, FolderState>;
  /** Per folder, the last listing: when (wall ms) and the folder's attributes then. */
  private readonly listings = new Map<string, { at: number; mtimeMs: number; ctimeMs: number; ino: number }>();
  private startedAt = 0;
  private startedAtWall = 0;
  private lastOkAt: number | undefined;
  private unreachable: readonly string[] = [];
  private timer: unknown;
  private looking: Promise<void> | undefined;
  private closing = false;
  private firstLookDone: () => void = () => undefined;
  /** Resolves when the first look has gone through every folder (tests; the service does not wait for it). */
  readonly firstLook = new Promise<void>((done) => { this.firstLookDone = done; });

  constructor(private readonly options: RawPollerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.fs = options.fs ?? nodeFs;
    this.folders = new Map(options.folders.map((f): [string, FolderState] => [resolve(f), { known: new Set(), watched: new Map() }]));
  }

  /** Starts polling and resolves at once: the first look runs in the background. */
  start(): Promise<void> {
    this.startedAt = this.monotonicNow();
    this.startedAtWall = this.clock.now();
    this.run(true);
    return Promise.resolve();
  }

  private run(first: boolean): void {
    this.looking = this.look(first)
      .catch((err: Error) => { this.emit('error', err); })
      .finally(() => {
        if (first) this.firstLookDone();
        this.looking = undefined;
        this.options.onLook?.();
        if (!this.closing) this.timer = this.clock.setTimeout(() => this.run(false), this.options.intervalMs);
      });
  }

  /** One look at every folder, one folder at a time. */
  private async look(first: boolean): Promise<void> {
    const unreachable: string[] = [];
    for (const [folder, state] of this.folders) {
      let names: string[] | undefined;
      try {
        names = await this.listIfChanged(folder);
      } catch (err) {
        unreachable.push(folder);
        if (!this.unreachable.includes(folder)) this.emit('error', new Error(`cannot list ${folder}: ${(err as Error).message}`));
        continue;
      }
      if (this.closing) return;
      await this.lookAt(folder, state, names?.filter((n) => this.options.namePattern.test(n)), first);
    }
    this.unreachable = unreachable;
    if (unreachable.length === 0) this.lastOkAt = this.monotonicNow();
  }

  /**
   * The folder's names, or undefined when it cannot have changed since the last listing: a name
   * added, removed or renamed changes the folder's mtime and ctime. This is what chokidar's
   * polling trusted too (it stats the folder and lists it again when its mtime moves), so the
   * NFS attribute cache delays it no more than before. Distrusted while the folder's mtime is
   * within 2 s of the listing that saw it (timestamps are coarse: a name added in the same tick
   * leaves it unchanged), and a full listing at least every `fullListingEveryMs`.
   */
  private async listIfChanged(folder: string): Promise<string[] | undefined> {
    const dir = await this.fs.stat(folder);
    if (!dir.isDirectory()) throw new Error('not a folder');
    const now = this.clock.now();
    const last = this.listings.get(folder);
    if (last && last.mtimeMs === dir.mtimeMs && last.ctimeMs === dir.ctimeMs && last.ino === dir.ino
      && dir.mtimeMs < last.at - 2000 && now - last.at < (this.options.fullListingEveryMs ?? 30_000)) return undefined;
    const names = await this.fs.readdir(folder);
    this.listings.set(folder, { at: now, mtimeMs: dir.mtimeMs, ctimeMs: dir.ctimeMs, ino: dir.ino });
    return names;
  }

  /** Stats what needs it in one folder: with `names` (it was listed), new names too. */
  private async lookAt(folder: string, state: FolderState, names: string[] | undefined, first: boolean): Promise<void> {
    const { known, watched } = state;
    if (names === undefined) {
      await this.statAll(folder, state, [...watched.keys()], first);
      return;
    }
    const present = new Set(names);
    // Deleted or renamed away: a name that comes back is new again.
    for (const name of known) {
      if (!present.has(name)) {
        known.delete(name);
        watched.delete(name);
      }
    }
    const toStat = [...watched.keys()];
    const oldByName = first ? oldByNameDate(names, this.options.namePattern, this.clock.now(), this.options.ignoreOlderThanMs) : () => false;
    for (const name of names) {
      if (known.has(name)) continue;
      if (oldByName(name)) known.add(name);
      else toStat.push(name);
    }
    await this.statAll(folder, state, toStat, first);
  }

  private async statAll(folder: string, { known, watched }: FolderState, toStat: readonly string[], first: boolean): Promise<void> {
    const now = this.clock.now();
    const { ignoreOlderThanMs } = this.options;
    // A file found at the first look is reported only if it changed since about the start (the
    // catch-up scan took what was there before); a minute's slack for the file server's clock.
    const reportSince = first ? this.startedAtWall - 2 * this.options.intervalMs - 60_000 : -Infinity;
    await inBatches(toStat, this.options.statConcurrency ?? 16, async (name) => {
      const path = join(folder, name);
      const before = watched.get(name);
      let info;
      try {
        info = await this.fs.stat(path);
      } catch (err) {
        watched.delete(name);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          known.delete(name);
          return;
        }
        // Not known either: a transient failure (ESTALE, EIO, a timeout over NFS) is tried again
        // at the next listing of the folder (within 30 s), not given up for good.
        this.emit('error', new Error(`cannot stat ${path}: ${(err as Error).message}; tried again at the next listing (a UDP trigger finds it meanwhile)`));
        return;
      }
      // Forgotten while it was stat-ed: a watched file no longer watched, a new name known.
      if (this.closing || (before ? !watched.has(name) : known.has(name))) return;
      known.add(name);
      if (!info.isFile() || info.mtimeMs < now - ignoreOlderThanMs) {
        watched.delete(name);
        return;
      }
      const seen = { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
      watched.set(name, seen);
      const changed = before === undefined ? info.mtimeMs >= reportSince
        : before.size !== seen.size || before.mtimeMs !== seen.mtimeMs || before.ino !== seen.ino;
      if (changed) this.emit('file', path);
    });
  }

  lastPoll(): PollAge {
    const everOk = this.lastOkAt !== undefined;
    return {
      ageMs: this.monotonicNow() - (this.lastOkAt ?? this.startedAt), everOk,
      unreachable: everOk || this.unreachable.length > 0 ? this.unreachable : [...this.folders.keys()],
    };
  }

  /** Stops watching a file that needs nothing more (delivered): its name stays known, it is not stat-ed again. */
  forget(path: string): Promise<void> {
    const state = this.folders.get(dirname(resolve(path)));
    state?.known.add(basename(path));
    state?.watched.delete(basename(path));
    return Promise.resolve();
  }

  /** Raw files stat-ed at each look (besides names not seen before). */
  watchedFiles(): number {
    let n = 0;
    for (const { watched } of this.folders.values()) n += watched.size;
    return n;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.clock.clearTimeout(this.timer);
    await this.looking;
  }
}
