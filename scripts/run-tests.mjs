#!/usr/bin/env node
// Runs every test/**/*.test.ts with the node test runner (TypeScript through tsx).
// Node 20 does not expand globs in `node --test`, hence this small walker.
// Usage: npm test [-- substring…]  (only test files whose path contains one of the substrings;
// without a filter the sources and tests are type-checked, linted and layering-checked first)
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...walk(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
if (filters.length === 0) {
  // The whole suite also type-checks sources, tests and benchmarks (tsx itself does not).
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'test/tsconfig.json'], {
    cwd: root, stdio: 'inherit',
  });
  if (tsc.status !== 0) {
    console.error('type check failed');
    process.exit(tsc.status ?? 1);
  }
  // Lint with type information (eslint.config.js) and the layering rules (.dependency-cruiser.cjs).
  const checks = [
    ['lint', 'node_modules/eslint/bin/eslint.js', ['src', 'test', 'bench']],
    ['layering check', 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs', ['src', '--config', '.dependency-cruiser.cjs']],
  ];
  for (const [name, bin, args] of checks) {
    const run = spawnSync(process.execPath, [join(root, bin), ...args], { cwd: root, stdio: 'inherit' });
    if (run.status !== 0) {
      console.error(`${name} failed`);
      process.exit(run.status ?? 1);
    }
  }
}
const result = spawnSync(
  process.execPath,
  // A per-test timeout turns a hang into a failure instead of a stuck CI run.
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=180000', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
