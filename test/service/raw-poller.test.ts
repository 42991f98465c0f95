import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, utimesSync } from 'node:fs';
import { appendFile, mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawFolderPoller, type PollerFs } from '../../src/service/discovery/raw-poller.js';
import { ManualClock } from '../../src/base/clock.js';
import { oldByNameDate } from '../../src/service/discovery/name-date.js';
import { scanOnce } from '../../src/service/discovery/watcher.js';
import { DEFAULT_RAW_NAME_PATTERN } from '../../src/ops/config.js';
import { tempDir } from '../helpers/temp.js';

const pattern = new RegExp(DEFAULT_RAW_NAME_PATTERN);
const DAY = 86_400_000;
const WINDOW = 36 * 3600_000;

/** The real filesystem, with every stat of a file (not of the folders) and every listing counted. */
function countingFs(folders: string[]): PollerFs & { stats: string[]; listings: number } {
  const counts = {
    stats: [] as string[], listings: 0,
    readdir: (f: string) => { counts.listings += 1; return readdir(f); },
    stat: (p: string) => { if (!folders.includes(p)) counts.stats.push(p); return stat(p); },
  };
  return counts;
}

/** A poller on real files whose looks run when the test moves the clock. */
async function poller(folders: string[]) {
  const clock = new ManualClock(Date.now());
  const fs = countingFs(folders);
  let looked: () => void = () => undefined;
  const p = new RawFolderPoller({ folders, intervalMs: 1000, namePattern: pattern, ignoreOlderThanMs: WINDOW, clock, fs, onLook: () => looked() });
  const reported: string[] = [];
  const errors: string[] = [];
  p.on('file', (path) => reported.push(path));
  p.on('error', (err) => errors.push(err.message));
  /** Runs one look; returns what it stat-ed and reported. */
  const look = async () => {
    const done = new Promise<void>((r) => { looked = r; });
    fs.stats.length = 0;
    fs.listings = 0;
    const before = reported.length;
    clock.advance(1000);
    await done;
    return { stats: [...fs.stats], listings: fs.listings, reported: reported.slice(before) };
  };
  await p.start();
  await p.firstLook;
  const firstStats = [...fs.stats];
  return { p, look, reported, errors, firstStats };
}

const yyyymmdd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

/** `count` raw files of past nights (dated from `newestMs` back, 300 a night), modified 10 days ago. */
function oldFiles(folder: string, count: number, newestMs: number): void {
  const tenDaysAgo = (Date.now() - 10 * DAY) / 1000;
  for (let i = 0; i < count; i++) {
    const path = join(folder, `mods1b.${yyyymmdd(newestMs - Math.floor(i / 300) * DAY)}.${String((i % 300) + 1).padStart(4, '0')}.fits`);
    closeSync(openSync(path, 'w'));
    utimesSync(path, tenDaysAgo, tenDaysAgo);
  }
}

test('the poller reports a new file, again while it grows, and a renamed one; not a deleted, unchanged or forgotten one', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'mods1b.20260115.0001.fits'), 'there before the start');
  const { p, look, firstStats } = await poller([dir]);
  t.after(() => p.close());
  assert.equal(firstStats.length, 1, 'the file there at start is stat-ed once (it is recent by its name)');
  assert.equal(p.watchedFiles(), 1, 'recent, so watched in case it is still being written');
  assert.deepEqual((await look()).reported, [], 'a file there before the start is the catch-up scan\'s');

  const path = join(dir, 'mods1b.20260115.0002.fits');
  await writeFile(path, 'first block');
  await writeFile(join(dir, 'notes.txt'), 'not a raw name');
  await writeFile(join(dir, '.mods1b.20260115.0003.fits.part'), 'a temporary');
  assert.deepEqual((await look()).reported, [path]);
  await appendFile(path, ', second block');
  assert.deepEqual((await look()).reported, [path], 'reported again while its size changes');
  assert.deepEqual((await look()).reported, [], 'unchanged: not reported');
  assert.equal(p.watchedFiles(), 2);

  const renamed = join(dir, 'mods1b.20260115.0004.fits');
  await rename(path, renamed);
  assert.deepEqual((await look()).reported, [renamed], 'the new name is a new file');
  await rm(renamed);
  const afterDelete = await look();
  assert.deepEqual(afterDelete.reported, []);
  assert.ok(!afterDelete.stats.includes(renamed), 'a deleted name is not stat-ed');
  assert.equal(p.watchedFiles(), 1);

  const first = join(dir, 'mods1b.20260115.0001.fits');
  await p.forget(first);
  await appendFile(first, 'changed after delivery');
  const afterForget = await look();
  assert.deepEqual(afterForget.reported, [], 'a forgotten file is not reported');
  assert.deepEqual(afterForget.stats, [], 'nor stat-ed');
  assert.equal(p.watchedFiles(), 0);
  assert.equal(p.lastPoll().everOk, true);
});

test('each look stats new names and watched files only, whatever the number of old files in the folder', async (t) => {
  const dir = await tempDir(t);
  const today = Date.now();
  // 3,000 files of past nights (the newest 10 days ago) and, dated tonight, one of them old by
  // its mtime only (copied in with its time kept) and one written just before the start.
  oldFiles(dir, 3000, today - 10 * DAY);
  const copied = join(dir, `mods1b.${yyyymmdd(today)}.0001.fits`);
  await writeFile(copied, 'x');
  await utimes(copied, (today - 10 * DAY) / 1000, (today - 10 * DAY) / 1000);
  const recent = join(dir, `mods1b.${yyyymmdd(today)}.0002.fits`);
  await writeFile(recent, 'tonight');
  const { p, look, firstStats } = await poller([dir]);
  t.after(() => p.close());
  // The first look stats names dated within the window (plus margin) of the newest name only.
  assert.deepEqual(firstStats.sort(), [copied, recent].sort(), 'old names are not stat-ed');
  assert.equal(p.watchedFiles(), 1);
  assert.deepEqual((await look()).stats, [recent], 'a look stats the watched file only');

  const fresh = join(dir, `mods1b.${yyyymmdd(today)}.0003.fits`);
  await writeFile(fresh, 'new');
  const found = await look();
  assert.deepEqual(found.reported, [fresh]);
  assert.deepEqual(found.stats.sort(), [fresh, recent].sort(), 'the new name and the watched file');

  // A new name is stat-ed whatever its date: a file appearing now is new, even named for a past night.
  const lateOld = join(dir, 'mods1b.20200101.0001.fits');
  await writeFile(lateOld, 'odd name, written now');
  assert.deepEqual((await look()).reported, [lateOld]);
  await p.forget(recent);
  await p.forget(fresh);
  await p.forget(lateOld);
  assert.deepEqual((await look()).stats, [], 'nothing watched: no stat at all, with 3,003 files in the folder');
});

test('a folder whose mtime did not move is not listed again, until the full listing is due; a new name is listed at once', async (t) => {
  const dir = await tempDir(t);
  const clock = new ManualClock(Date.now());
  const fs = countingFs([dir]);
  let looked: () => void = () => undefined;
  const p = new RawFolderPoller({ folders: [dir], intervalMs: 1000, namePattern: pattern, ignoreOlderThanMs: WINDOW, clock, fs, fullListingEveryMs: 10_000, onLook: () => looked() });
  const reported: string[] = [];
  p.on('file', (path) => reported.push(path));
  t.after(() => p.close());
  // The folder last changed a minute ago: older than the 2 s a coarse timestamp could hide.
  const minuteAgo = (Date.now() - 60_000) / 1000;
  await utimes(dir, minuteAgo, minuteAgo);
  await p.start();
  await p.firstLook;
  const listingsOver = async (looks: number) => {
    fs.listings = 0;
    for (let i = 0; i < looks; i++) {
      const done = new Promise<void>((r) => { looked = r; });
      clock.advance(1000);
      await done;
    }
    return fs.listings;
  };
  assert.equal(await listingsOver(5), 0, 'unchanged folder: stat-ed, not listed');
  assert.equal(await listingsOver(5), 1, 'the full listing every 10 s');
  const path = join(dir, 'mods1b.20260115.0001.fits');
  await writeFile(path, 'new');
  assert.equal(await listingsOver(1), 1);
  assert.deepEqual(reported, [path]);
});

test('an unreachable folder is reported once and shows in lastPoll; the other folder is still polled', async (t) => {
  const dir = await tempDir(t);
  const here = join(dir, 'mods1b');
  const away = join(dir, 'mods1r');
  await mkdir(here);
  const { p, look, errors } = await poller([away, here]);
  t.after(() => p.close());
  assert.deepEqual(p.lastPoll().unreachable, [away]);
  assert.equal(p.lastPoll().everOk, false);
  const path = join(here, 'mods1b.20260115.0001.fits');
  await writeFile(path, 'new');
  assert.deepEqual((await look()).reported, [path]);
  assert.equal(errors.length, 1, 'reported once, not at every look');
  assert.match(errors[0]!, /cannot list .*mods1r: ENOENT/);
  await mkdir(away);
  await look();
  assert.deepEqual(p.lastPoll().unreachable, []);
  assert.equal(p.lastPoll().everOk, true);
});

test('which names are old by their date alone (a table)', () => {
  const now = Date.UTC(2026, 11, 7, 5, 0);
  const cases: Array<[string, string[], number, string, boolean]> = [
    // [what, names in the folder, window ms, name asked, old?]
    ['5 days before the newest name, 36 h window (2 days) + 2 days margin', ['mods1b.20261207.0001.fits'], WINDOW, 'mods1b.20261202.0001.fits', true],
    ['4 days before: within the window and margin', ['mods1b.20261207.0001.fits'], WINDOW, 'mods1b.20261203.0001.fits', false],
    ['a folder of one old date only (camera date not rolled, simulator)', ['mods1b.20260115.0001.fits'], WINDOW, 'mods1b.20260115.0002.fits', false],
    ['a name from the future anchors at tomorrow, not beyond', ['mods1b.20991231.0001.fits'], WINDOW, 'mods1b.20261204.0001.fits', false],
    ['…and names older than that are still old', ['mods1b.20991231.0001.fits'], WINDOW, 'mods1b.20261203.0001.fits', true],
    ['a name without a calendar date is never old by name', ['mods1b.20261207.0001.fits'], WINDOW, 'mods1b.20261399.0001.fits', false],
    ['the drop folder\'s scan (a window of years): nothing is', ['mods1b.20261207.0001.fits'], now, 'mods1b.20200101.0001.fits', false],
  ];
  for (const [what, names, windowMs, name, old] of cases) {
    assert.equal(oldByNameDate([...names, name], pattern, now, windowMs)(name), old, what);
  }
});

test('the catch-up scan does not look at names dated days before the folder\'s newest', async (t) => {
  const dir = await tempDir(t);
  const today = Date.now();
  const tonight = join(dir, `mods1b.${yyyymmdd(today)}.0001.fits`);
  const lastWeekName = join(dir, `mods1b.${yyyymmdd(today - 7 * DAY)}.0001.fits`);
  for (const p of [tonight, lastWeekName]) await writeFile(p, 'x'); // both modified now
  const { files } = await scanOnce([dir], pattern, today - WINDOW);
  assert.deepEqual(files.map((f) => f.path), [tonight], 'a file of last week\'s name is taken for last week\'s, without a stat');
  // With names of one past date only (a simulator's fixed date), nothing is old by name.
  const sim = await tempDir(t);
  await writeFile(join(sim, 'mods1b.20200101.0001.fits'), 'x');
  assert.equal((await scanOnce([sim], pattern, today - WINDOW)).files.length, 1);
});
