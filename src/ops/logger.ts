/**
 * The service log (behaviour.md §7, raw-format.md §10.3): winston, created once, writing the
 * reference's line format
 *
 *     2026-01-14 21:12:33,456 | INFO | Processing mods1b.20260115.0001.fits...
 *
 * into `<logDir>/<host[:5]>dm.<obsDate>.txt` and, for journald, to standard output. Unlike the
 * reference (whose file name was fixed at start-up, §11 item 12) the file follows the observing
 * date: every line goes into the file of the observing date of its own time stamp.
 *
 * Everything else receives a {@link Logger}, usually a `child` with a scope (file, step, job); the
 * scope is kept as metadata (tests see it) but not printed — the reference format has no field
 * for it. Tests use {@link memoryLogger}.
 */
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import winston from 'winston';
import { systemClock, type Clock } from '../base/clock.js';
import type { DatamanConfig } from './config.js';
import { localParts } from '../base/local-time.js';
import { observingDate } from './obs-date.js';

/** Levels, most severe first (winston's order); printed as Python's logging spells them. */
export const LOG_LEVELS = { error: 0, warn: 1, info: 2, debug: 3 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;
const PYTHON_LEVEL: Record<LogLevel, string> = { error: 'ERROR', warn: 'WARNING', info: 'INFO', debug: 'DEBUG' };
export type PythonLevel = 'ERROR' | 'WARNING' | 'INFO' | 'DEBUG';

/** Structured context carried with a message (not printed). */
export type LogMeta = Readonly<Record<string, unknown>>;

export interface Logger {
  error(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  debug(message: string, meta?: LogMeta): void;
  /**
   * A logger whose entries carry `scope` as metadata. A string is shorthand for `{ scope }`;
   * nested string scopes join with `.` (`service.udp`).
   */
  child(scope: string | LogMeta): Logger;
  /** Whether DEBUG lines are written (to skip building expensive debug messages). */
  isDebugEnabled(): boolean;
}

/** The logger made by {@link createLogger} or {@link memoryLogger}: the one that owns the output. */
export interface RootLogger extends Logger {
  /** The log file the latest line went to (undefined before the first line or without a file). */
  currentFile(): string | undefined;
  /** Flushes and closes the outputs. Lines logged afterwards go to standard error. */
  close(): Promise<void>;
}

/** Where text lines can be written: `process.stdout`, or a test's capture. */
export interface TextSink {
  write(text: string): unknown;
}

export interface CreateLoggerOptions {
  /** Folder of the log files; created if missing. */
  logDir: string;
  /** Host name; its first 5 characters start the file name (`mods1` → `mods1dm.<date>.txt`). @default os.hostname() */
  hostName?: string;
  /** Log DEBUG lines too (config `debug`). @default false */
  debug?: boolean;
  /** Time stamps and the observing date of each line. @default the system clock */
  clock?: Clock;
  /** IANA zone of time stamps and observing date (config `timeZone`). @default the host's */
  timeZone?: string | undefined;
  /** Also write every line to standard output (journald). @default true */
  console?: boolean;
  /** Standard output. @default process.stdout */
  stdout?: TextSink;
  /** Where a failing log file is reported. @default process.stderr */
  stderr?: TextSink;
}

/** The log file name of an observing date: `<first 5 chars of host>dm.<YYYYMMDD>.txt`. */
export function logFileName(hostName: string, obsDate: string): string {
  return `${hostName.slice(0, 5)}dm.${obsDate}.txt`;
}

/** One line in the reference's format (Python logging's default `asctime`, local time). */
export function formatLogLine(epochMs: number, level: LogLevel, message: string, timeZone?: string): string {
  const t = Math.floor(epochMs);
  const p = localParts(t, timeZone);
  const ms = ((t % 1000) + 1000) % 1000;
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}:${two(p.second)},${String(ms).padStart(3, '0')}`;
  return `${stamp} | ${PYTHON_LEVEL[level]} | ${message}`;
}

/** The service logger: file by observing date, plus standard output when `console` is on. */
export function createLogger(options: CreateLoggerOptions): RootLogger {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const consoleOn = options.console ?? true;
  const file = new ObservingDateFile({
    logDir: options.logDir,
    hostName: options.hostName ?? hostname(),
    timeZone: options.timeZone,
    stderr,
    // A log file that cannot be written must not silence the log: lines then go to standard
    // output, which journald keeps, unless they go there anyway.
    fallback: consoleOn ? undefined : stdout,
  });
  const transports: TransportStream[] = [file];
  if (consoleOn) transports.push(new StreamTransport(stdout));
  return new WinstonRoot(transports, options, stderr, () => file.currentFile());
}

/** {@link createLogger} with the configuration's `paths.logDir`, `debug` and `timeZone`. */
export function createLoggerFromConfig(
  config: DatamanConfig,
  options: Omit<CreateLoggerOptions, 'logDir' | 'debug' | 'timeZone'> = {},
): RootLogger {
  return createLogger({ ...options, logDir: config.paths.logDir, debug: config.debug, timeZone: config.timeZone });
}

/** One entry captured by {@link memoryLogger}. */
export interface LogEntry {
  level: LogLevel;
  message: string;
  /** The line as it would be written to the file. */
  line: string;
  epochMs: number;
  /** The scope and metadata passed with the message. */
  meta: Record<string, unknown>;
}

export interface MemoryLogger {
  logger: RootLogger;
  /** Every line, formatted as in the log file. */
  lines: string[];
  entries: LogEntry[];
  /** The messages of one level (`'warn'` or Python's `'WARNING'`), or of all levels. */
  messages(level?: LogLevel | PythonLevel): string[];
  /** Forgets what was captured so far. */
  clear(): void;
}

/**
 * A capturing logger for tests, going through the same winston pipeline and line format.
 * DEBUG is on and the zone is UTC unless given, so that captured lines are reproducible.
 */
export function memoryLogger(options: { clock?: Clock; timeZone?: string; debug?: boolean } = {}): MemoryLogger {
  const entries: LogEntry[] = [];
  const lines: string[] = [];
  const sink = new CaptureTransport((entry) => {
    entries.push(entry);
    lines.push(entry.line);
  });
  const settings = { debug: options.debug ?? true, timeZone: options.timeZone ?? 'UTC', ...(options.clock ? { clock: options.clock } : {}) };
  const logger = new WinstonRoot([sink], settings, process.stderr, () => undefined);
  const toLevel = (level: LogLevel | PythonLevel): LogLevel =>
    level in LOG_LEVELS ? (level as LogLevel) : (Object.keys(PYTHON_LEVEL) as LogLevel[]).find((l) => PYTHON_LEVEL[l] === level)!;
  return {
    logger,
    lines,
    entries,
    messages: (level) => {
      const wanted = level === undefined ? undefined : toLevel(level);
      return entries.filter((e) => wanted === undefined || e.level === wanted).map((e) => e.message);
    },
    clear: () => {
      entries.length = 0;
      lines.length = 0;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// winston plumbing

/** winston's transport class (winston-transport), taken from winston, whose typings omit it. */
type TransportStream = winston.Logger['transports'][number];
const Transport = (winston as unknown as { Transport: new () => TransportStream }).Transport;

/** winston's (triple-beam's) key of the formatted message. */
const MESSAGE = Symbol.for('message');
/** Our key of the entry's time stamp, taken from the clock when the message is logged. */
const STAMP = Symbol.for('dataman.stamp');

interface Info {
  level: string;
  message: unknown;
  [MESSAGE]?: string;
  [STAMP]?: number;
  [key: string]: unknown;
}

function stampedLine(clock: Clock, timeZone: string | undefined) {
  return winston.format((info) => {
    const i = info as Info;
    const epochMs = clock.now();
    i[STAMP] = epochMs;
    i[MESSAGE] = formatLogLine(epochMs, i.level as LogLevel, String(i.message), timeZone);
    return info;
  })();
}

class WinstonRoot implements RootLogger {
  private readonly w: winston.Logger;
  private readonly root: ScopedLogger;
  private closed: Promise<void> | undefined;

  constructor(
    transports: TransportStream[],
    private readonly options: { debug?: boolean; clock?: Clock; timeZone?: string | undefined },
    private readonly stderr: TextSink,
    readonly currentFile: () => string | undefined,
  ) {
    this.w = winston.createLogger({
      levels: LOG_LEVELS,
      level: options.debug ? 'debug' : 'info',
      format: stampedLine(options.clock ?? systemClock, options.timeZone),
      transports,
      exitOnError: false,
    });
    // Our transports report their own failures and never emit 'error'; anything else that does
    // must not become an unhandled 'error' event that ends the process.
    this.w.on('error', (err: Error) => {
      this.stderr.write(`dataman: logger error - ${err.message}\n`);
    });
    this.root = new ScopedLogger((level, message, meta) => this.log(level, message, meta), {}, this.isDebugEnabled());
  }

  private log(level: LogLevel, message: string, meta: LogMeta): void {
    if (this.closed) {
      const now = (this.options.clock ?? systemClock).now();
      this.stderr.write(`${formatLogLine(now, level, message, this.options.timeZone)}\n`);
      return;
    }
    this.w.log(level, message, meta);
  }

  error(message: string, meta?: LogMeta): void { this.root.error(message, meta); }
  warn(message: string, meta?: LogMeta): void { this.root.warn(message, meta); }
  info(message: string, meta?: LogMeta): void { this.root.info(message, meta); }
  debug(message: string, meta?: LogMeta): void { this.root.debug(message, meta); }
  child(scope: string | LogMeta): Logger { return this.root.child(scope); }
  isDebugEnabled(): boolean { return this.options.debug === true; }

  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      // 'finish' comes after every transport has finished (winston's Logger._final).
      this.w.once('finish', () => resolve());
      this.w.end();
    });
    return this.closed;
  }
}

type Sink = (level: LogLevel, message: string, meta: LogMeta) => void;

class ScopedLogger implements Logger {
  constructor(private readonly sink: Sink, private readonly scope: LogMeta, private readonly debugOn: boolean) {}

  error(message: string, meta?: LogMeta): void { this.sink('error', message, meta ? { ...this.scope, ...meta } : this.scope); }
  warn(message: string, meta?: LogMeta): void { this.sink('warn', message, meta ? { ...this.scope, ...meta } : this.scope); }
  info(message: string, meta?: LogMeta): void { this.sink('info', message, meta ? { ...this.scope, ...meta } : this.scope); }
  debug(message: string, meta?: LogMeta): void {
    if (this.debugOn) this.sink('debug', message, meta ? { ...this.scope, ...meta } : this.scope);
  }
  isDebugEnabled(): boolean { return this.debugOn; }

  child(scope: string | LogMeta): Logger {
    if (typeof scope !== 'string') return new ScopedLogger(this.sink, { ...this.scope, ...scope }, this.debugOn);
    const parent = this.scope.scope;
    const joined = typeof parent === 'string' && parent !== '' ? `${parent}.${scope}` : scope;
    return new ScopedLogger(this.sink, { ...this.scope, scope: joined }, this.debugOn);
  }
}

/** Lines to a stream (standard output for journald). */
class StreamTransport extends Transport {
  constructor(private readonly stream: TextSink) {
    super();
  }

  override log(info: Info, next: () => void): void {
    this.stream.write(`${info[MESSAGE] ?? String(info.message)}\n`);
    next();
  }
}

/** Entries to a callback, for {@link memoryLogger}. */
class CaptureTransport extends Transport {
  constructor(private readonly onEntry: (entry: LogEntry) => void) {
    super();
  }

  override log(info: Info, next: () => void): void {
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(info)) if (k !== 'level' && k !== 'message') meta[k] = v;
    this.onEntry({
      level: info.level as LogLevel,
      message: String(info.message),
      line: info[MESSAGE] ?? String(info.message),
      epochMs: info[STAMP] ?? Date.now(),
      meta,
    });
    next();
  }
}

/**
 * Appends each line to the file of its observing date, switching files when the date changes.
 *
 * Writes are synchronous, one `write` per line, as Python's `FileHandler` does: a line is in the
 * file (page cache) when the call returns, nothing is lost when the process is killed, and a
 * failure is known at once, so that the line can still go to standard output. The service logs
 * a few lines per exposure, so the cost is nothing.
 */
class ObservingDateFile extends Transport {
  private fd: number | undefined;
  private date: string | undefined;
  private path: string | undefined;
  /** The path that failed and when to try it again; undefined while writing works. */
  private failure: { path: string; retryAt: number } | undefined;

  /** After a failure, how long to fall back before trying the file again (a full disk clears). */
  static readonly RETRY_MS = 60_000;

  constructor(private readonly o: { logDir: string; hostName: string; timeZone: string | undefined; stderr: TextSink; fallback: TextSink | undefined }) {
    super();
  }

  currentFile(): string | undefined {
    return this.path;
  }

  override log(info: Info, next: () => void): void {
    const epochMs = info[STAMP] ?? Date.now();
    const line = `${info[MESSAGE] ?? String(info.message)}\n`;
    if (!this.append(epochMs, line)) this.o.fallback?.write(line);
    next();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeFile();
    callback();
  }

  /** True when the line reached the file. */
  private append(epochMs: number, line: string): boolean {
    const date = observingDate(epochMs, this.o.timeZone);
    if (date !== this.date) {
      this.closeFile();
      this.date = date;
      this.path = join(this.o.logDir, logFileName(this.o.hostName, date));
      if (this.failure) this.failure.retryAt = epochMs; // a new file: try it at once
    }
    const path = this.path!;
    if (this.failure && epochMs < this.failure.retryAt) return false;
    try {
      if (this.fd === undefined) {
        mkdirSync(this.o.logDir, { recursive: true });
        this.fd = openSync(path, 'a');
      }
      writeFileSync(this.fd, line);
    } catch (err) {
      this.closeFile();
      if (this.failure === undefined) {
        this.o.stderr.write(`dataman: cannot write log file ${path} - ${(err as Error).message}; logging to standard output only\n`);
      }
      this.failure = { path, retryAt: epochMs + ObservingDateFile.RETRY_MS };
      return false;
    }
    if (this.failure) {
      this.o.stderr.write(`dataman: writing log file ${path} again\n`);
      this.failure = undefined;
    }
    return true;
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch (err) {
      this.o.stderr.write(`dataman: closing log file ${this.path ?? ''} failed - ${(err as Error).message}\n`);
    }
  }
}
