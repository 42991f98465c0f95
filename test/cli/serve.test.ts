// Black-box runs of the built program (bin/dataman.js → dist/): `npm install` builds it; the
// test builds it first if dist/ is missing or older than the sources it needs.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp.js';
import { makeFolders, serviceConfigText } from '../helpers/service.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'dataman.js');

before(() => {
  const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stdout + build.stderr);
});

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
}

test('serve with a bad configuration exits 2 and names the file, the key and the problem', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string, RegExp]> = [
    ['server: {ipAddr: 127.0.0.1, ipPort: 99999}\npaths: {dataDir: a, procDir: b, repoDir: c, logDir: d}\n', /server\.ipPort: expected an integer from 0 to 65535, got 99999/],
    ['server: {ipAddr: 127.0.0.1, ipPort: 1}\npaths: {dataDir: a, procDir: b, repoDir: c, logDir: d}\nprocessing: {fixDETSEC: perhaps}\n', /processing\.fixDETSEC: expected Y\/N/],
    ['server: {ipAddr: 127.0.0.1, ipPort: 1}\npaths: {dataDir: a, procDir: b, repoDir: c, logDir: d}\nspeed: fast\n', /unknown key speed/],
  ];
  for (const [i, [text, message]] of cases.entries()) {
    const file = join(dir, `bad${i}.yaml`);
    await writeFile(file, text);
    const r = run(['serve', '--config', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^dataman: ${file.replace(/[.]/g, '\\.')}: `));
    assert.match(r.stderr, message);
  }
  const missing = run(['serve', '--config', join(dir, 'nope.yaml')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read configuration file .*nope\.yaml: ENOENT/);
});

test('serve starts on a configuration, logs in the reference format, and stops cleanly on SIGTERM', async (t) => {
  const root = await tempDir(t);
  await makeFolders(root);
  const config = join(root, 'dataman.yaml');
  await writeFile(config, serviceConfigText(root));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  for (let i = 0; i < 300 && !out.includes('dataMan server started on'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \| INFO \| \S+ dataMan server started on 127\.0\.0\.1:\d+$/m);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, out);
  assert.match(out, /\| INFO \| Stopping \(SIGTERM\)$/m);
  assert.match(out, /\| INFO \| Done: \S+ dataMan server shutdown complete$/m);
});
