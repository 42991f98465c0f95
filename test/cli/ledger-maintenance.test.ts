/**
 * `dataman ledger backup|archive` (docs/behaviour.md §5.4) on real ledger files: a backup taken
 * while another process keeps writing is one consistent ledger; an archive moves only finished
 * old jobs, names the unfinished ones, refuses a date inside the catch-up window, appends to an
 * existing archive and finishes the move when run again after a crash between its two steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { systemClock } from '../../src/base/clock.js';
import { openLedger } from '../../src/service/ledger/ledger.js';
import { archiveLedger } from '../../src/service/ledger/ledger-maintenance.js';
import { runCli } from '../helpers/cli.js';
import { fillHistory } from '../helpers/ledger-history.js';
import { makeFolders, serviceConfigText } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';

const DAY = 86_400_000;

async function setUp(t: Parameters<typeof tempDir>[0], rows: number, edit: (text: string) => string = (s) => s) {
  const root = await tempDir(t);
  await makeFolders(root);
  const config = join(root, 'dataman.yaml');
  await writeFile(config, edit(serviceConfigText(root)));
  const file = join(root, 'state', 'ledger.sqlite');
  openLedger(join(root, 'state'), { clock: systemClock }).close();
  // Two years of history up to yesterday.
  fillHistory(file, { rows, years: 2, endMs: Date.now() - DAY });
  return { root, config, file };
}

function look(t: Parameters<typeof tempDir>[0], file: string): Database.Database {
  const db = new Database(file);
  t.after(() => { db.close(); });
  return db;
}

const count = (db: Database.Database, where = '1') => (db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE ${where}`).get() as { n: number }).n;
/** The kept counts agree with the rows (the triggers saw every insert and delete). */
function assertCountsKept(db: Database.Database): void {
  const kept = (db.prepare('SELECT IFNULL(SUM(n), 0) AS n FROM job_counts').get() as { n: number }).n;
  assert.equal(kept, count(db));
}

test('a backup taken while another process writes is a whole, consistent ledger; an existing file is refused', async (t) => {
  const { root, config, file } = await setUp(t, 20_000);
  // A writer in its own process, as the service would be: a delivered file every few ms.
  const script = join(root, 'writer.mts');
  await writeFile(script, `
import { openLedger } from ${JSON.stringify(new URL('../../src/service/ledger/ledger.ts', import.meta.url).href)};
import { systemClock } from ${JSON.stringify(new URL('../../src/base/clock.ts', import.meta.url).href)};
const ledger = openLedger(${JSON.stringify(join(root, 'state'))}, { clock: systemClock });
for (let i = 1; ; i++) {
  const r = ledger.note('/data/mods1b/mods1b.20991231.' + String(i).padStart(4, '0') + '.fits', 'udp', { channel: 'mods1b' });
  ledger.markProcessing(r.id);
  ledger.markDelivered(r.id, { procPath: '/p', repoPath: '/r', deliveredName: r.name });
  if (i === 1) console.log('writing');
  if (i % 20 === 0) { console.log(i); await new Promise((ok) => setTimeout(ok, 1)); }
}
`);
  const writer = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { writer.kill('SIGKILL'); });
  const lines = createInterface({ input: writer.stdout });
  let written = 0;
  lines.on('line', (l) => { written = Number(l) || written; });
  await once(lines, 'line');

  const out = join(root, 'backup.sqlite');
  const run = await runCli(['ledger', 'backup', out, '--config', config]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^backed up \d+ jobs \(\d+\.\d MB\) to /);
  const writtenDuring = written;
  while (written < writtenDuring + 40) await once(lines, 'line');
  writer.kill('SIGKILL');

  const copy = look(t, out);
  assert.equal(copy.pragma('quick_check', { simple: true }), 'ok');
  assert.ok(count(copy) >= 20_001, `the history and what was written before: ${count(copy)}`);
  assertCountsKept(copy);
  assert.ok(count(look(t, file)) > count(copy), 'the writer went on after the backup');
  assert.equal(existsSync(join(root, '.backup.sqlite.partial')), false);

  const again = await runCli(['ledger', 'backup', out, '--config', config]);
  assert.equal(again.code, 2, 'a wrong command line');
  assert.match(again.stderr, /exists; a backup never overwrites a file/);
});

test('archive moves only finished jobs before the date, names the unfinished ones, and is idempotent', async (t) => {
  const { root, config, file } = await setUp(t, 3000);
  const db = look(t, file);
  const before = new Date(Date.now() - 365 * DAY).toISOString().slice(0, 10);
  const beforeMs = Date.parse(before);
  // One old job left queued (a killed run long ago): it must stay.
  db.prepare(`UPDATE jobs SET state = 'queued' WHERE id = (SELECT MIN(id) FROM jobs)`).run();
  const oldFinished = count(db, `updated_at < ${beforeMs} AND state IN ('delivered', 'failed', 'skipped')`);
  const total = count(db);
  assert.ok(oldFinished > 1000 && oldFinished < total - 1000, `old finished ${oldFinished} of ${total}`);
  const oldRows = db.prepare(`SELECT * FROM jobs WHERE updated_at < ${beforeMs} AND state <> 'queued' ORDER BY id`).all();

  const out = join(root, 'archive-old.sqlite');
  const run = await runCli(['ledger', 'archive', '--before', before, out, '--config', config]);
  assert.equal(run.code, 1, 'an unfinished job was left: exit 1');
  assert.match(run.stdout, new RegExp(`^moved ${oldFinished} finished jobs last changed before ${before}`));
  assert.match(run.stderr, /left 1 unfinished job\(s\) before .*\n\s+\d+\s+mods1\w\.\d{8}\.\d{4}\.fits\s+queued/);

  assert.equal(count(db), total - oldFinished);
  assert.equal(count(db, `updated_at < ${beforeMs}`), 1, 'only the unfinished one stays');
  assertCountsKept(db);
  const archive = look(t, out);
  assert.deepEqual(archive.prepare('SELECT * FROM jobs ORDER BY id').all(), oldRows, 'every field kept');
  assertCountsKept(archive);

  const rerun = await runCli(['ledger', 'archive', '--before', before, out, '--config', config]);
  assert.match(rerun.stdout, /^moved 0 finished jobs/);
  assert.equal(count(archive), oldFinished, 'nothing copied twice');
});

test('archive after a crash between copy and delete finishes the move; an archive holding other jobs is refused', async (t) => {
  const { root, file } = await setUp(t, 2000);
  const db = look(t, file);
  const out = join(root, 'archive.sqlite');
  const first = Date.now() - 600 * DAY;
  const o = { beforeMs: first, nowMs: Date.now(), catchUpHours: 36, batch: 100 };
  const moved = archiveLedger(file, out, o).moved;
  assert.ok(moved > 0);
  // A crash after a batch was copied and committed into the archive, before the ledger's delete.
  const later = Date.now() - 400 * DAY;
  const archive = look(t, out);
  archive.exec(`ATTACH ${JSON.stringify(file).replace(/"/g, "'")} AS led`);
  const copied = archive.prepare(`INSERT INTO jobs SELECT * FROM led.jobs WHERE updated_at < ${later} AND state <> 'queued' ORDER BY id LIMIT 150`).run().changes;
  archive.exec('DETACH led');
  const inLedger = count(db);
  const appended = archiveLedger(file, out, { ...o, beforeMs: later });
  assert.equal(count(db), inLedger - appended.moved);
  assert.equal(count(archive), moved + appended.moved, `the ${copied} copied before the crash are not there twice`);
  assert.equal(count(db, `updated_at < ${later}`), 0);
  assertCountsKept(archive);
  assertCountsKept(db);

  // Another ledger's archive: its job ids mean other files; refused before anything is deleted.
  const other = join(root, 'other.sqlite');
  openLedger(root, { clock: systemClock, fileName: 'other.sqlite' }).close();
  const odb = look(t, other);
  const next = db.prepare('SELECT id FROM jobs ORDER BY id LIMIT 1').get() as { id: number };
  odb.prepare(`INSERT INTO jobs (id, path, name, channel, origin, state, first_seen_at, updated_at)
    VALUES (?, '/elsewhere/some.other.file.fits', 'some.other.file.fits', 'mods1b', 'watcher', 'delivered', 0, 0)`).run(next.id);
  const kept = count(db);
  assert.throws(() => archiveLedger(file, other, { ...o, beforeMs: Date.now() - 100 * DAY }), /already holds a different job .*some\.other\.file\.fits/);
  assert.equal(count(db), kept, 'nothing deleted');
});

test('archive into the same file again: a raw file with a second job since, and a copy left stale by a crash, are both taken', async (t) => {
  const { root, file } = await setUp(t, 2000);
  const db = look(t, file);
  const out = join(root, 'archive.sqlite');
  const o = { nowMs: Date.now(), catchUpHours: 36, batch: 100 };
  assert.ok(archiveLedger(file, out, { ...o, beforeMs: Date.now() - 600 * DAY }).moved > 0);
  const archive = look(t, out);
  const first = archive.prepare('SELECT * FROM jobs ORDER BY id LIMIT 1').get() as { path: string; name: string; channel: string };
  // The same raw file processed again (a proc naming it), long ago too, and a newer job after it.
  const again = Date.now() - 500 * DAY;
  const insert = db.prepare(`INSERT INTO jobs (path, name, channel, origin, state, first_seen_at, updated_at)
    VALUES (?, ?, ?, 'udp', 'delivered', ?, ?)`);
  const secondId = Number(insert.run(first.path, first.name, first.channel, again, again).lastInsertRowid);
  insert.run('/data/mods1b/mods1b.20991231.0001.fits', 'mods1b.20991231.0001.fits', 'mods1b', Date.now() - DAY, Date.now() - DAY);
  // A crash after a copy, before its delete; the job changed in the ledger since.
  const stale = db.prepare(`SELECT * FROM jobs WHERE updated_at < ${Date.now() - 450 * DAY} AND state = 'delivered' AND id <> ? ORDER BY id LIMIT 1`).get(secondId) as { id: number };
  archive.exec(`ATTACH ${JSON.stringify(file).replace(/"/g, "'")} AS led`);
  archive.prepare('INSERT INTO jobs SELECT * FROM led.jobs WHERE id = ?').run(stale.id);
  archive.exec('DETACH led');
  db.prepare("UPDATE jobs SET error_message = 'changed after the copy' WHERE id = ?").run(stale.id);

  const moved = archiveLedger(file, out, { ...o, beforeMs: Date.now() - 400 * DAY }).moved;
  assert.ok(moved > 0);
  assert.equal(count(archive, `path = '${first.path}'`), 2, 'both jobs of the raw file are in the archive');
  assert.equal(count(db, `id IN (${secondId}, ${stale.id})`), 0, 'both moved out of the ledger');
  assert.equal((archive.prepare('SELECT error_message AS m FROM jobs WHERE id = ?').get(stale.id) as { m: string }).m, 'changed after the copy', 'the stale copy replaced by the job as it was');
  assertCountsKept(archive);
  assertCountsKept(db);
});

test('archive refuses a date inside the catch-up window or too recent, before touching anything', async (t) => {
  const { config, file } = await setUp(t, 200, (s) => s.replace('catchUpHours: 36', 'catchUpHours: 2400'));
  const total = count(new Database(file, { readonly: true }));
  const recent = new Date(Date.now() - 10 * DAY).toISOString().slice(0, 10);
  const inWindow = new Date(Date.now() - 60 * DAY).toISOString().slice(0, 10);
  const tooRecent = await runCli(['ledger', 'archive', '--before', recent, join(file, '..', 'a.sqlite'), '--config', config]);
  assert.equal(tooRecent.code, 2);
  assert.match(tooRecent.stderr, /inside the catch-up window \(watch\.catchUpHours 2400\)/);
  const window = await runCli(['ledger', 'archive', '--before', inWindow, join(file, '..', 'a.sqlite'), '--config', config]);
  assert.match(window.stderr, /inside the catch-up window/);
  const bad = await runCli(['ledger', 'archive', '--before', '2025-02-30', join(file, '..', 'a.sqlite'), '--config', config]);
  assert.match(bad.stderr, /"2025-02-30" is not a date/);
  assert.equal(existsSync(join(file, '..', 'a.sqlite')), false);
  assert.equal(count(new Database(file, { readonly: true })), total);
});

test('with the default window, a date of last week is refused as too recent', async (t) => {
  const { config, file } = await setUp(t, 10);
  const lastWeek = new Date(Date.now() - 7 * DAY).toISOString().slice(0, 10);
  const run = await runCli(['ledger', 'archive', '--before', lastWeek, join(file, '..', 'a.sqlite'), '--config', config]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /too recent: jobs of the last 30 days stay in the ledger/);
});
