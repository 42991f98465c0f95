/**
 * Node arguments that run `dataman` from the TypeScript sources in a child process, with the
 * process's real standard streams (pipes or a terminal): put the CLI's arguments after them.
 * `hooks`, a module URL, is registered as module loader hooks first (to watch what loads).
 */
export function cliScript(options: { hooks?: string } = {}): string[] {
  const main = new URL('../../src/cli/main.ts', import.meta.url).href;
  const code = [
    ...(options.hooks ? [`import { register } from 'node:module'; register(${JSON.stringify(options.hooks)});`] : []),
    `const { main } = await import(${JSON.stringify(main)});`,
    `process.exitCode = await main(['node', 'dataman', ...process.argv.slice(1)]);`,
  ].join('\n');
  return ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', code];
}
