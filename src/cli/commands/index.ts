/**
 * The commands of `dataman`, each loaded only when it runs: a command's module (and what it
 * imports: the codec, the ledger, the logger…) costs start-up time, and a shell loop over
 * hundreds of files pays it every time. The top-level help is made from `COMMAND_HELP` alone.
 */
import { COMMAND_HELP, type CommandHelp } from './descriptions.js';
import type { RegisterCommand } from './register.js';

export type { RegisterCommand } from './register.js';

export interface CommandEntry extends CommandHelp {
  load(): Promise<RegisterCommand>;
}

const LOADERS: Record<string, () => Promise<RegisterCommand>> = {
  inspect: async () => (await import('./inspect.js')).registerInspect,
  verify: async () => (await import('./verify.js')).registerVerify,
  process: async () => (await import('./process.js')).registerProcess,
  time: async () => (await import('./time.js')).registerTime,
  simulate: async () => (await import('./simulate.js')).registerSimulate,
  serve: async () => (await import('./serve.js')).registerServe,
  nightlog: async () => (await import('./nightlog.js')).registerNightlog,
  status: async () => (await import('./status.js')).registerStatus,
  requeue: async () => (await import('./requeue.js')).registerRequeue,
  replay: async () => (await import('./replay.js')).registerReplay,
  compare: async () => (await import('./compare.js')).registerCompare,
  ledger: async () => (await import('./ledger.js')).registerLedger,
};

export const commands: readonly CommandEntry[] = COMMAND_HELP.map((help) => {
  const load = LOADERS[help.name];
  if (load === undefined) throw new Error(`internal: no loader for the command ${help.name}`);
  return { ...help, load };
});

/**
 * The command a command line runs: its first word that is not an option (the program's own
 * options, --help and --version, take no value), or for `help NAME` the NAME. Undefined for the
 * program's own help and version.
 */
export function commandOf(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
