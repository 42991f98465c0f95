import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Help } from 'commander';
import { commands } from '../../src/cli/commands/index.js';
import { processContext } from '../../src/cli/context.js';
import { generateRaw } from '../../src/simulate/index.js';
import { tempDir } from '../helpers/temp.js';
import { cliScript } from '../helpers/cli-child.js';

/** Loader hooks that write every module a process loads into $LOAD_LOG. */
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.LOAD_LOG, result.url + '\\n');
  return result;
}
`;

/** Runs `dataman ARGS` in a child process and returns what it loaded: our sources and packages. */
async function loaded(dir: string, args: string[]): Promise<{ sources: string[]; packages: string[]; status: number | null; stdout: string }> {
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(hooks, HOOKS);
  const log = join(dir, `loads-${args[0]}.txt`);
  await writeFile(log, '');
  const run = spawnSync(process.execPath, [...cliScript(dir, { hooks: pathToFileURL(hooks).href }), ...args], {
    encoding: 'utf8', cwd: dir, env: { ...process.env, LOAD_LOG: log },
  });
  const urls = [...new Set((await readFile(log, 'utf8')).trim().split('\n'))];
  return {
    sources: urls.flatMap((u) => /\/src\/(.*\.ts)$/.exec(u)?.[1] ?? []),
    packages: [...new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))],
    status: run.status,
    stdout: run.stdout + run.stderr,
  };
}

const HEAVY_PACKAGES = ['winston', 'chokidar', 'better-sqlite3', 'prom-client', 'yaml', 'p-queue'];

test('--help and --version load no command module, no service code and no package but commander', async (t) => {
  const dir = await tempDir(t);
  for (const flag of ['--help', '--version']) {
    const run = await loaded(dir, [flag]);
    assert.equal(run.status, 0, run.stdout);
    assert.deepEqual(run.sources.filter((s) => !['cli/main.ts', 'cli/context.ts', 'cli/commands/index.ts', 'cli/commands/descriptions.ts', 'errors.ts', 'version.ts'].includes(s)), [], flag);
    assert.deepEqual(run.packages.filter((p) => p !== 'commander' && p !== 'tsx'), [], flag);
  }
});

test('inspect, a one-file process and compare load no service code and none of its packages', async (t) => {
  const dir = await tempDir(t);
  const raw = generateRaw({ roi: '1k' });
  await writeFile(join(dir, raw.name), raw.bytes);
  for (const args of [['inspect', raw.name], ['process', raw.name, '--out', 'out.fits'], ['compare', raw.name, raw.name]]) {
    const run = await loaded(dir, args);
    assert.equal(run.status, 0, run.stdout);
    assert.ok(run.sources.includes('fits/index.ts'), 'the codec is loaded');
    assert.deepEqual(run.sources.filter((s) => s.startsWith('service/') || s.startsWith('ops/config') || s.startsWith('ops/logger')), [], args[0]);
    assert.deepEqual(run.packages.filter((p) => HEAVY_PACKAGES.includes(p)), [], args[0]);
    assert.deepEqual(run.sources.filter((s) => s.startsWith('cli/commands/') && !['cli/commands/index.ts', 'cli/commands/descriptions.ts'].includes(s)), [`cli/commands/${args[0]}.ts`]);
  }
});

test('the help line of each command in commands/index.ts is the one its module declares', async () => {
  for (const entry of commands) {
    const program = new Command('dataman');
    (await entry.load())(program, processContext());
    const command = program.commands.find((c) => c.name() === entry.name);
    assert.ok(command, `${entry.name} registers a command of that name`);
    assert.equal(new Help().subcommandTerm(command), entry.term, entry.name);
    assert.equal(command.description(), entry.description, entry.name);
  }
});
