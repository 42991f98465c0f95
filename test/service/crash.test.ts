import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeRaw } from '../../src/simulate/index.js';
import { openLedger } from '../../src/service/ledger/ledger.js';
import { systemClock } from '../../src/base/clock.js';
import { createPrng } from '../../src/simulate/index.js';
import { tempDir } from '../helpers/temp.js';
import { makeFolders, observeRepo, serviceConfigText } from '../helpers/service.js';
import { startChild } from '../helpers/service-child.js';

test('SIGKILL while files are processed and delivered, then restart: every file delivered exactly once, nothing partial ever visible', async (t) => {
  const root = await tempDir(t);
  await makeFolders(root);
  const configPath = join(root, 'dataman.yaml');
  await writeFile(configPath, serviceConfigText(root));
  const files: string[] = [];
  for (let i = 0; i < 16; i++) {
    const instrument = i % 2 === 0 ? 'mods1b' : 'mods1r';
    const raw = await writeRaw(join(root, 'raw', instrument), { instrument, roi: '1k', seq: Math.floor(i / 2) + 1, seed: i });
    files.push(raw.name);
  }
  const stopObserving = observeRepo(join(root, 'newdata'), 5);
  // First the worst moments, each a crash right after a file got a final name (processed copy,
  // repository copy, pointer) and before the ledger knew; then kills at random moments.
  for (const crash of ['proc-link', 'repo-link', 'pointer']) {
    const run = startChild(configPath, { DATAMAN_TEST_CRASH: crash });
    await run.ready;
    const [, signal] = await once(run.child, 'exit');
    assert.equal(signal, 'SIGKILL', `the ${crash} crash did not happen:\n${run.output()}`);
  }
  const rand = createPrng(424242);
  for (let round = 1; round <= 3; round++) {
    const run = startChild(configPath);
    await run.ready;
    // Kill somewhere inside the first or second file this run works on — or after 3 s if the
    // earlier runs left it nothing to do (then the kill just tests an idle restart).
    const working = run.processing(1 + Math.floor(rand.next() * 2));
    working.catch(() => undefined); // rejects when the child is killed while still waiting
    await Promise.race([working, new Promise((r) => setTimeout(r, 3000))]);
    await new Promise((r) => setTimeout(r, Math.floor(rand.next() * 250)));
    run.child.kill('SIGKILL');
    await once(run.child, 'exit');
  }
  const last = startChild(configPath);
  t.after(() => { last.child.kill('SIGKILL'); });
  await last.ready;
  const ledger = openLedger(join(root, 'state'), { clock: systemClock });
  try {
    for (let i = 0; i < 600; i++) {
      if (ledger.countsByState().byState.delivered === files.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(ledger.countsByState().byState.delivered, files.length, last.output());
  } finally {
    ledger.close();
  }
  last.child.kill('SIGTERM');
  await once(last.child, 'exit');
  const seen = await stopObserving();
  assert.deepEqual(seen.bad, [], 'a partial or invalid file was visible in repoDir');
  const repo = (await readdir(join(root, 'newdata'))).filter((n) => n.endsWith('.fits'));
  assert.deepEqual(repo.sort(), [...files].sort(), 'each file delivered once, under its own name');
  const proc = (await readdir(join(root, 'proc', '20260115'))).filter((n) => n.endsWith('.fits'));
  assert.deepEqual(proc.sort(), [...files].sort(), 'one processed copy of each file');
  // The killed runs' temporaries are gone too, although each restart came at once (found by the soak).
  for (const folder of [join(root, 'newdata'), join(root, 'proc', '20260115')]) {
    assert.deepEqual((await readdir(folder)).filter((n) => n.startsWith('.')), [], `temporaries left in ${folder}`);
  }
});
