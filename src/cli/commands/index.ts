/**
 * The commands of `dataman`, each loaded only when it runs: a command's module (and what it
 * imports: the codec, the ledger, the logger…) costs start-up time, and a shell loop over
 * hundreds of files pays it every time. The top-level help is made from this list alone.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** A command module adds its sub-command to the program. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export interface CommandEntry {
  name: string;
  /** How the top-level help lists it (commander's form: name, `[options]`, arguments). */
  term: string;
  description: string;
  load(): Promise<RegisterCommand>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'inspect', term: 'inspect [options] <file>',
    description: 'list the HDUs of a FITS file and every header card (reads headers only)',
    load: async () => (await import('./inspect.js')).registerInspect,
  },
  {
    name: 'verify', term: 'verify <files...>',
    description: 'check that FITS files are complete and that their checksums match',
    load: async () => (await import('./verify.js')).registerVerify,
  },
  {
    name: 'process', term: 'process [options] <raw...>',
    description: 'process raw MODS files offline: header fixes, time keywords, temperatures, MERGED preview',
    load: async () => (await import('./process.js')).registerProcess,
  },
  {
    name: 'time', term: 'time [options]',
    description: 'compute MJD-OBS, HJD-OBS and BJD-OBS the way the processing step does',
    load: async () => (await import('./time.js')).registerTime,
  },
  {
    name: 'simulate', term: 'simulate [options]',
    description: 'write synthetic raw MODS files the way azcam does (for tests, demos and benchmarks)',
    load: async () => (await import('./simulate.js')).registerSimulate,
  },
  {
    name: 'serve', term: 'serve [options]',
    description: 'run the data manager: watch, trigger, process and deliver (the dataMan service)',
    load: async () => (await import('./serve.js')).registerServe,
  },
  {
    name: 'nightlog', term: 'nightlog [options] <date>',
    description: 'rebuild the night logs (OSU modsLog format, one per instrument) of an observing date from the processed files',
    load: async () => (await import('./nightlog.js')).registerNightlog,
  },
  {
    name: 'status', term: 'status [options]',
    description: 'show the ledger: counts by state and channel, the last files, failures with their reasons',
    load: async () => (await import('./status.js')).registerStatus,
  },
  {
    name: 'requeue', term: 'requeue [options] [file...]',
    description: 'process raw files again: through the drop folder while the service runs, else (or with --now) here, in place',
    load: async () => (await import('./requeue.js')).registerRequeue,
  },
  {
    name: 'replay', term: 'replay [options]',
    description: 'process every raw file of an observing date again, here, and deliver each again',
    load: async () => (await import('./replay.js')).registerReplay,
  },
];

/** The description of a command, for its module's own registration (one text for both helps). */
export function descriptionOf(name: string): string {
  const entry = commands.find((c) => c.name === name);
  if (entry === undefined) throw new Error(`internal: no command ${name} in commands/index.ts`);
  return entry.description;
}

/**
 * The command a command line runs: its first word that is not an option (the program's own
 * options, --help and --version, take no value), or for `help NAME` the NAME. Undefined for the
 * program's own help and version.
 */
export function commandOf(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
