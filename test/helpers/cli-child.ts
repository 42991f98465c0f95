import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Node arguments that run `dataman` from the TypeScript sources in a child process, with the
 * process's real standard streams (pipes or a terminal): put the CLI's arguments after them.
 * The entry script is written into `dir` (not `-e`: node would take `inspect` as its debugger).
 * `hooks`, a module URL, is registered as module loader hooks first (to watch what loads).
 */
export function cliScript(dir: string, options: { hooks?: string } = {}): string[] {
  const main = new URL('../../src/cli/main.ts', import.meta.url).href;
  const script = join(dir, 'dataman-cli.mjs');
  writeFileSync(script, [
    ...(options.hooks ? [`import { register } from 'node:module'; register(${JSON.stringify(options.hooks)});`] : []),
    `const { main } = await import(${JSON.stringify(main)});`,
    `process.exitCode = await main(process.argv);`,
  ].join('\n'));
  return ['--import', import.meta.resolve('tsx'), script];
}
