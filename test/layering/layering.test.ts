// The layering check of `npm test` (.dependency-cruiser.cjs) passes on the real tree and fails
// when a forbidden import or a cycle is planted in a copy of it: a check that cannot fail checks nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

function cruise(dir: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [depcruise, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd: dir, encoding: 'utf8',
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A copy of the sources and the rules, in which `plant` adds a violation. */
function withCopy(plant: (dir: string) => void): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dataman-layering-'));
  try {
    for (const name of ['src', 'tsconfig.json', '.dependency-cruiser.cjs']) cpSync(join(root, name), join(dir, name), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    plant(dir);
    return cruise(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the real tree has no forbidden import and no cycle', () => {
  const { status, output } = cruise(root);
  assert.equal(status, 0, output);
});

test('the check fails when fits imports the service', () => {
  const { status, output } = withCopy((dir) => {
    appendFileSync(join(dir, 'src/fits/card.ts'), "\nexport type { DatamanService as Planted } from '../service/service.js';\n");
  });
  assert.notEqual(status, 0, output);
  assert.match(output, /floor-knows-nothing-above: src\/fits\/card\.ts → src\/service\/service\.ts/);
});

test('the check fails when steps import ops', () => {
  const { status, output } = withCopy((dir) => {
    appendFileSync(join(dir, 'src/steps/defaults.ts'), "\nexport type { DatamanConfig as Planted } from '../ops/config.js';\n");
  });
  assert.notEqual(status, 0, output);
  assert.match(output, /steps-know-nothing-of-service-ops-cli: src\/steps\/defaults\.ts → src\/ops\/config\.ts/);
});

test('the check fails when a cycle is added', () => {
  const { status, output } = withCopy((dir) => {
    writeFileSync(join(dir, 'src/base/planted-a.ts'), "import { b } from './planted-b.js';\nexport const a = (): number => b() + 1;\n");
    writeFileSync(join(dir, 'src/base/planted-b.ts'), "import { a } from './planted-a.js';\nexport const b = (): number => (a.length > 9 ? 0 : 1);\n");
  });
  assert.notEqual(status, 0, output);
  assert.match(output, /no-cycles: src\/base\/planted-a\.ts/);
});
