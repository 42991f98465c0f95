/**
 * The name, usage and one-line help of each `dataman` command: what the top-level help lists
 * without loading any command, and what each command's module declares as its description
 * (one text for both helps). Kept apart from the loaders (index.ts) so that a command's module
 * can read it without importing the list of commands.
 */
export interface CommandHelp {
  name: string;
  /** How the top-level help lists it (commander's form: name, `[options]`, arguments). */
  term: string;
  description: string;
}

export const COMMAND_HELP: readonly CommandHelp[] = [
  { name: 'inspect', term: 'inspect [options] <file>', description: 'list the HDUs of a FITS file and every header card (reads headers only)' },
  { name: 'verify', term: 'verify <files...>', description: 'check that FITS files are complete and that their checksums match' },
  { name: 'process', term: 'process [options] <raw...>', description: 'process raw MODS files offline: header fixes, time keywords, temperatures, MERGED preview' },
  { name: 'time', term: 'time [options]', description: 'compute MJD-OBS, HJD-OBS and BJD-OBS the way the processing step does' },
  { name: 'simulate', term: 'simulate [options]', description: 'write synthetic raw MODS files the way azcam does (for tests, demos and benchmarks)' },
  { name: 'serve', term: 'serve [options]', description: 'run the data manager: watch, trigger, process and deliver (the dataMan service)' },
  { name: 'nightlog', term: 'nightlog [options] <date>', description: 'rebuild the night logs (OSU modsLog format, one per instrument) of an observing date from the processed files' },
  { name: 'status', term: 'status [options]', description: 'show the ledger: counts by state and channel, the last files, failures with their reasons' },
  { name: 'requeue', term: 'requeue [options] [file...]', description: 'process raw files again: through the drop folder while the service runs, else (or with --now) here, in place' },
  { name: 'compare', term: 'compare [options] <a> <b>', description: "compare the reference's processed files (A) with dataman's (B), two files or two night folders: every card and pixel, each difference explained by behaviour.md §9 or unexpected" },
  { name: 'replay', term: 'replay [options]', description: 'process every raw file of an observing date again, here, and deliver each again' },
  { name: 'ledger', term: 'ledger', description: 'keep a ledger of years: "backup FILE" while the service runs, "archive --before DATE OUT" moves finished old jobs out' },
];

/** The description of a command, for its module's own registration. */
export function descriptionOf(name: string): string {
  const entry = COMMAND_HELP.find((c) => c.name === name);
  if (entry === undefined) throw new Error(`internal: no command ${name} in commands/descriptions.ts`);
  return entry.description;
}
