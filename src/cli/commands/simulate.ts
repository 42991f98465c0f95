/**
 * `dataman simulate`: writes synthetic raw MODS files as azcam would — under their final name,
 * optionally slowly or with CONPARS appended later, optionally broken — and can send azcam's
 * UDP trigger after each one. One output line per file: its path and size.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Command, Option } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../../errors.js';
import { channelById } from '../../mods/channels.js';
import { observingDate } from '../../ops/obs-date.js';
import { loadConfig } from '../../ops/config.js';
import {
  BROKEN_VARIANTS, WRITE_MODES, type RawWriteOptions, type WriteMode, nextSequenceNumber, parseHostPort, procMessage, resolveOptions,
  sendDatagram, writeRaw,
} from '../../simulate/index.js';

/** The time zone of the MODS hosts, which names the observing date. */
const MODS_TIME_ZONE = 'America/Phoenix';

interface SimulateCliOptions {
  out?: string;
  config?: string;
  instrument: string;
  roi: string;
  bin: string;
  date?: string;
  seq?: string;
  count: string;
  intervalMs: string;
  seed: string;
  write: string;
  conparsDelayMs: string;
  chunkBytes: string;
  chunkDelayMs: string;
  telescope: boolean;
  instrumentBlock: boolean;
  broken?: string;
  missingKeywords?: string;
  truncateAt?: string;
  udp?: string;
  imageType?: string;
  kind: string;
  object?: string;
  exptime?: string;
  detector: string;
  utcStart?: string;
}

function integer(text: string, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new UsageError(`${option} must be an integer, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${option} must be ${min}..${max}, got ${n}`);
  return n;
}

function nonNegative(text: string, option: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${option} must be a non-negative number, got ${JSON.stringify(text)}`);
  return n;
}

/** `--kind` values and the IMAGETYP each writes; `mix` cycles through NIGHT_SEQUENCE. */
const KIND_IMAGE_TYPES: Readonly<Record<string, string>> = { object: 'object', std: 'std', arc: 'comp', flat: 'flat', bias: 'bias', dark: 'dark' };
const KINDS = [...Object.keys(KIND_IMAGE_TYPES), 'mix'];
/** A night's order: calibrations first, then science with a standard star between. */
const NIGHT_SEQUENCE = ['bias', 'flat', 'comp', 'object', 'object', 'std'];

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export const registerSimulate: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('simulate')
    .description(descriptionOf('simulate'))
    .option('--out <dir>', 'folder to write into (created if missing; default: <dataDir>/<channel> with --config, else .)')
    .option('-c, --config <file>', 'a dataman configuration: write into its raw folder and send the trigger to its UDP address')
    .option('--instrument <id>', 'MODS1B, MODS1R, MODS2B or MODS2R', 'MODS1B')
    .option('--roi <preset>', 'ROI preset: full|off|8kx3k, 3k|3kx3k, 1k|1kx1k, 4k|4kx3k', 'full')
    .option('--bin <CxR>', 'column x row binning, e.g. 2x2', '1x1')
    .option('--date <YYYYMMDD>', 'observing date in the file name (default: the current observing date)')
    .option('--seq <n>', 'first sequence number (default: next free number in the folder)')
    .option('--count <n>', 'number of files', '1')
    .option('--interval-ms <ms>', 'wait between files', '0')
    .option('--seed <n>', 'pixel-noise seed of the first file (file i uses seed + i)', '1')
    .option('--write <mode>', `how to write: ${WRITE_MODES.join('|')}`, 'atonce')
    .option('--conpars-delay-ms <ms>', 'azcam mode: wait before appending CONPARS', '500')
    .option('--chunk-bytes <n>', 'slow mode: bytes per write', '1048576')
    .option('--chunk-delay-ms <ms>', 'slow mode: wait between writes', '50')
    .option('--no-telescope', 'omit the Telescope header block (TCS offline)')
    .addOption(new RenamedOption('--no-instrument', 'omit the Instrument header block', 'instrumentBlock'))
    .option('--broken <variants>', `comma-separated: ${BROKEN_VARIANTS.join(', ')}`)
    .option('--missing-keywords <keys>', 'comma-separated keywords to remove (implies missing-keywords)')
    .option('--truncate-at <byte>', 'cut the file at this byte (implies truncated)')
    .option('--udp <host:port>', 'send azcam\'s "proc /home/data/<name>" datagram after each file')
    .option('--kind <kind>', `what the exposure records: ${KINDS.join('|')} (mix: a night's sequence of them)`, 'object')
    .option('--image-type <type>', 'IMAGETYP written, overriding --kind\'s: object, bias, flat, dark, comp, std, zero')
    .option('--object <text>', 'OBJECT (default per kind)')
    .option('--exptime <s>', 'exposure time in seconds (default per kind: object 300, std 30, flat and arc 10, bias 0)')
    .option('--detector <format>', 'detector format: current (8292 columns) or dec2025 (8288)', 'current')
    .option('--utc-start <iso>', 'shutter-open instant of the first file, e.g. 2026-01-15T04:12:33.456Z (then +60 s per file)')
    .action(async (opts: Omit<SimulateCliOptions, 'instrumentBlock'> & { instrumentBlock?: boolean }) => {
      await runSimulate(ctx, { ...opts, instrumentBlock: opts.instrumentBlock ?? true });
    });
};

/**
 * An option stored under a name of our choosing: commander would store `--no-instrument` as
 * `instrument`, the attribute `--instrument <id>` already uses.
 */
class RenamedOption extends Option {
  constructor(flags: string, description: string, private readonly attribute: string) {
    super(flags, description);
  }

  override attributeName(): string {
    return this.attribute;
  }
}

async function runSimulate(ctx: CliContext, opts: SimulateCliOptions): Promise<void> {
  const channel = channelById(opts.instrument);
  if (channel === undefined) throw new UsageError(`--instrument must be MODS1B, MODS1R, MODS2B or MODS2R, got ${JSON.stringify(opts.instrument)}`);
  if (!(WRITE_MODES as readonly string[]).includes(opts.write)) {
    throw new UsageError(`--write must be one of ${WRITE_MODES.join(', ')}, got ${JSON.stringify(opts.write)}`);
  }
  if (opts.detector !== 'current' && opts.detector !== 'dec2025') {
    throw new UsageError(`--detector must be current or dec2025, got ${JSON.stringify(opts.detector)}`);
  }
  const config = opts.config === undefined ? undefined : await loadConfig(resolve(ctx.cwd, opts.config));
  const dir = opts.out !== undefined ? resolve(ctx.cwd, opts.out) : config ? join(config.paths.dataDir, channel.id) : ctx.cwd;
  // The hosts run US/Arizona time (MST, no DST), whatever this machine's zone.
  const obsDate = opts.date ?? observingDate(Date.now(), MODS_TIME_ZONE);
  const count = integer(opts.count, '--count', 1, 9999);
  const intervalMs = nonNegative(opts.intervalMs, '--interval-ms');
  const seed = integer(opts.seed, '--seed', -(2 ** 31), 2 ** 32 - 1);
  const exptimeS = opts.exptime === undefined ? undefined : nonNegative(opts.exptime, '--exptime');
  if (!KINDS.includes(opts.kind)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(opts.kind)}`);
  const imageTypeOf = (i: number) => opts.imageType ?? (opts.kind === 'mix' ? NIGHT_SEQUENCE[i % NIGHT_SEQUENCE.length]! : KIND_IMAGE_TYPES[opts.kind]!);
  const udpText = opts.udp ?? (config ? `${config.server.ipAddr}:${config.server.ipPort}` : undefined);
  const udp = udpText === undefined ? undefined : parseHostPort(udpText);
  if (opts.udp !== undefined && udp === undefined) throw new UsageError(`--udp must be HOST:PORT, got ${JSON.stringify(opts.udp)}`);
  const utcStartMs = opts.utcStart === undefined ? undefined : Date.parse(opts.utcStart);
  if (utcStartMs !== undefined && !Number.isFinite(utcStartMs)) throw new UsageError(`--utc-start must be an ISO 8601 instant, got ${JSON.stringify(opts.utcStart)}`);

  const base: RawWriteOptions = {
    instrument: channel.id,
    obsDate,
    roi: opts.roi,
    bin: opts.bin,
    detector: opts.detector,
    imageType: imageTypeOf(0),
    ...(opts.object !== undefined ? { object: opts.object } : {}),
    ...(exptimeS !== undefined ? { exptimeS } : {}),
    telescopeBlock: opts.telescope,
    instrumentBlock: opts.instrumentBlock,
    broken: list(opts.broken) ?? [],
    ...(opts.missingKeywords !== undefined ? { missingKeywords: list(opts.missingKeywords) } : {}),
    ...(opts.truncateAt !== undefined ? { truncateAt: integer(opts.truncateAt, '--truncate-at', 0) } : {}),
    write: opts.write as WriteMode,
    conparsDelayMs: nonNegative(opts.conparsDelayMs, '--conpars-delay-ms'),
    chunkBytes: integer(opts.chunkBytes, '--chunk-bytes', 1),
    chunkDelayMs: nonNegative(opts.chunkDelayMs, '--chunk-delay-ms'),
  };
  // Every option checked before anything touches the disk.
  resolveOptions({ ...base, ...(opts.utcStart !== undefined ? { utcStart: opts.utcStart } : {}) });
  const seq = opts.seq !== undefined ? integer(opts.seq, '--seq', 1, 9999) : undefined;
  if (seq !== undefined && seq + count - 1 > 9999) throw new UsageError(`sequence numbers would pass 9999 (first ${seq}, count ${count})`);
  await mkdir(dir, { recursive: true });
  const firstSeq = seq ?? (await nextSequenceNumber(dir, channel.id, obsDate));
  if (firstSeq + count - 1 > 9999) throw new UsageError(`sequence numbers would pass 9999 (first ${firstSeq}, count ${count})`);

  for (let i = 0; i < count; i++) {
    if (i > 0 && intervalMs > 0) await delay(intervalMs);
    const written = await writeRaw(dir, {
      ...base,
      seq: firstSeq + i,
      seed: seed + i,
      imageType: imageTypeOf(i),
      ...(utcStartMs !== undefined ? { utcStart: new Date(utcStartMs + i * 60_000).toISOString() } : {}),
    });
    ctx.stdout.write(`${join(opts.out ?? (config ? dir : "."), written.name)} ${written.bytes.length} bytes\n`);
    if (udp !== undefined) await sendDatagram(udp.host, udp.port, procMessage(written.name));
  }
}
