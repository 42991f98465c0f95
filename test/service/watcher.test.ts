import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawWatcher, scanOnce } from '../../src/service/discovery/watcher.js';
import { DEFAULT_RAW_NAME_PATTERN } from '../../src/ops/config.js';
import { tempDir } from '../helpers/temp.js';

const pattern = new RegExp(DEFAULT_RAW_NAME_PATTERN);

for (const usePolling of [true, false]) {
  test(`the watcher reports new raw files and ignores other names (${usePolling ? 'polling, as on NFS' : 'fs.watch'})`, async (t) => {
    const dir = await tempDir(t);
    const chans = [join(dir, 'mods1b'), join(dir, 'mods1r')];
    for (const c of chans) await mkdir(c);
    await writeFile(join(chans[0]!, 'mods1b.20260115.0001.fits'), 'old');
    const watcher = new RawWatcher({ folders: chans, usePolling, intervalMs: 50, namePattern: pattern });
    t.after(() => watcher.close());
    const seen: string[] = [];
    watcher.on('file', (p) => seen.push(p));
    await watcher.start();
    await writeFile(join(chans[1]!, '.mods1r.20260115.0002.fits.part'), 'temp');
    await writeFile(join(chans[1]!, 'notes.txt'), 'x');
    const target = join(chans[1]!, 'mods1r.20260115.0002.fits');
    const reported = once(watcher, 'file');
    await writeFile(target, 'new');
    assert.deepEqual(await reported, [target]);
    assert.deepEqual(seen, [target], 'the file present at start, the temporary and notes.txt are not reported');
  });
}

test('files older than the catch-up window are not watched, and a forgotten file is watched no more', async (t) => {
  const dir = await tempDir(t);
  const old = join(dir, 'mods1b.20250101.0001.fits');
  const recent = join(dir, 'mods1b.20260115.0001.fits');
  await writeFile(old, 'a night long past');
  const twoDaysAgo = (Date.now() - 48 * 3600_000) / 1000;
  await utimes(old, twoDaysAgo, twoDaysAgo);
  await writeFile(recent, 'tonight');
  const watcher = new RawWatcher({ folders: [dir], usePolling: true, intervalMs: 50, namePattern: pattern, ignoreOlderThanMs: 24 * 3600_000, rebuildAfterForgets: 2 });
  t.after(() => watcher.close());
  const seen: string[] = [];
  watcher.on('file', (p) => seen.push(p));
  await watcher.start();
  assert.equal(watcher.watchedFiles(), 1, 'only the recent file');
  const later = join(dir, 'mods1b.20260115.0002.fits');
  const reported = once(watcher, 'file');
  await writeFile(later, 'new');
  assert.deepEqual(await reported, [later]);
  assert.equal(watcher.watchedFiles(), 2);
  await watcher.forget(recent);
  assert.equal(watcher.watchedFiles(), 2, 'still polled until the rebuild');
  await watcher.forget(later);
  assert.equal(watcher.watchedFiles(), 0, 'the rebuilt watcher leaves both out');
  // The new watcher reports new files; a forgotten one that changes is not reported.
  await writeFile(later, 'changed after delivery');
  const third = join(dir, 'mods1b.20260115.0003.fits');
  const next = once(watcher, 'file');
  await writeFile(third, 'new');
  assert.deepEqual(await next, [third]);
  assert.deepEqual(seen, [later, third]);
  // A file that appears while the watcher is being rebuilt is reported (found by the soak).
  const fourth = join(dir, 'mods1b.20260115.0004.fits');
  const reportedFourth = new Promise<void>((resolve) => watcher.on('file', (p) => p === fourth && resolve()));
  const rebuilt = watcher.forget(third).then(() => watcher.forget(join(dir, 'mods1b.20260115.0099.fits')));
  await writeFile(fourth, 'written during the rebuild');
  await rebuilt;
  let timer: NodeJS.Timeout | undefined;
  const missed = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${fourth} was never reported`)), 10_000); });
  await Promise.race([reportedFourth, missed]).finally(() => clearTimeout(timer));
});

test('the catch-up scan finds raw files modified within the window, oldest first, and reports missing folders', async (t) => {
  const dir = await tempDir(t);
  const chan = join(dir, 'mods1b');
  await mkdir(chan);
  const now = Date.now();
  const files: Array<[string, number]> = [
    ['mods1b.20260115.0003.fits', now - 1000],
    ['mods1b.20260115.0001.fits', now - 3 * 3600_000],
    ['mods1b.20250101.0001.fits', now - 40 * 3600_000],
    ['other.fits', now],
  ];
  for (const [name, mtime] of files) {
    await writeFile(join(chan, name), 'x');
    await utimes(join(chan, name), mtime / 1000, mtime / 1000);
  }
  const { files: found, problems } = await scanOnce([chan, join(dir, 'mods1r')], pattern, now - 36 * 3600_000);
  assert.deepEqual(found.map((f) => f.path), [join(chan, 'mods1b.20260115.0001.fits'), join(chan, 'mods1b.20260115.0003.fits')]);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /cannot list .*mods1r: ENOENT/);
});
