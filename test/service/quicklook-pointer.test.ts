/** The status page's quick look follows `<CHAN>.new` (behaviour.md §6 step 3): an earlier exposure delivered later is not shown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { writeRaw } from '../../src/simulate/index.js';
import { attachQuickLookUpdater } from '../../src/service/surface/quicklook-updater.js';
import { deliveries, startService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';

test('the quick look is made for a delivery that moved the pointer, not for one that left it', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  const written: string[] = [];
  const quickLooks = attachQuickLookUpdater(s.service, { dir: join(root, 'state', 'quicklook'), onWritten: (_c, _png, procPath) => written.push(basename(procPath)) });
  t.after(async () => { await quickLooks.detach(); await s.stop(); });
  // The generator exposes sequence n at 04:12:33.456 + 60 s per number: 6 is earlier than 7.
  for (const seq of [7, 6, 8]) {
    const done = deliveries(s.service, 1);
    const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', bin: '4x4', seq });
    await s.send(`proc /home/data/${raw.name}`);
    await done;
    await quickLooks.idle();
  }
  assert.deepEqual(written, ['mods1b.20260115.0007.fits', 'mods1b.20260115.0008.fits']);
});
