import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DatamanError } from '../../src/errors.js';
import { ManualClock } from '../../src/base/clock.js';
import { LEDGER_SCHEMA_VERSION, LedgerError, openLedger, type Ledger } from '../../src/service/ledger/ledger.js';
import { MIGRATIONS, migrate } from '../../src/service/ledger/ledger-schema.js';
import { tempDir } from '../helpers/temp.js';

const T0 = Date.UTC(2026, 0, 15, 4, 12, 33);
const RAW = '/data/mods1b/mods1b.20260115.0001.fits';
const SHA = 'ab'.repeat(32);

type TestContext = Parameters<typeof tempDir>[0];

/** A ledger in a fresh folder, closed when the test ends (unless the test closed it). */
async function fresh(t: TestContext) {
  const dir = await tempDir(t);
  const clock = new ManualClock(T0);
  const ledger = openLedger(dir, { clock });
  t.after(() => ledger.close());
  return { dir, clock, ledger, file: join(dir, 'ledger.sqlite') };
}

/** A plain SQLite connection to the ledger file, to look at what is really stored. */
function inspect(t: TestContext, file: string): Database.Database {
  const db = new Database(file);
  t.after(() => { db.close(); });
  return db;
}

function isLedgerError(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof LedgerError, `expected a LedgerError, got ${String(err)}`);
    assert.ok(err instanceof DatamanError);
    assert.equal(err.code, 'ledger');
    assert.match(err.message, pattern);
    return true;
  };
}

test('a raw file goes seen → waiting → queued → processing → retry → processing → delivered, each step stamped', async (t) => {
  const { clock, ledger } = await fresh(t);
  const seen = ledger.note(RAW, 'watcher', { channel: 'mods1b', obsDate: '20260115', size: 1000, mtimeMs: T0 - 0.5 });
  assert.equal(seen.state, 'seen');
  assert.equal(seen.name, 'mods1b.20260115.0001.fits');
  assert.equal(seen.origin, 'watcher');
  assert.equal(seen.channel, 'mods1b');
  assert.equal(seen.mtimeMs, T0 - 0.5);
  assert.deepEqual([seen.firstSeenAt, seen.updatedAt, seen.attempts, seen.startedAt], [T0, T0, 0, null]);
  assert.deepEqual(seen.warnings, []);

  clock.advance(100);
  assert.equal(ledger.markWaiting(seen.id).state, 'waiting');
  clock.advance(2000);
  const complete = ledger.setDetails(seen.id, { size: 36_000_000, completeAt: clock.now() });
  assert.equal(complete.size, 36_000_000);
  assert.equal(complete.completeAt, T0 + 2100);
  assert.equal(complete.state, 'waiting', 'details never change the state');
  const queued = ledger.markQueued(seen.id);
  assert.deepEqual([queued.state, queued.updatedAt], ['queued', T0 + 2100]);

  clock.advance(50);
  const first = ledger.markProcessing(seen.id);
  assert.deepEqual([first.state, first.attempts, first.startedAt], ['processing', 1, T0 + 2150]);
  clock.advance(300);
  const retry = ledger.recordRetry(seen.id, { code: 'ENOSPC', message: 'no space left on /newdata' });
  assert.deepEqual([retry.state, retry.errorCode, retry.errorMessage], ['queued', 'ENOSPC', 'no space left on /newdata']);

  clock.advance(5000);
  const second = ledger.markProcessing(seen.id);
  assert.deepEqual([second.attempts, second.startedAt], [2, T0 + 7450]);
  const details = ledger.setDetails(seen.id, {
    imageType: 'OBJECT', object: 'NGC 1068', exptime: 300, warnings: ['no CONPARS: temperatures are -999.9'],
  });
  assert.deepEqual([details.imageType, details.object, details.exptime, details.obsDate], ['OBJECT', 'NGC 1068', 300, '20260115']);
  clock.advance(800);
  const done = ledger.markDelivered(seen.id, {
    procPath: '/home/data/20260115/mods1b.20260115.0001.fits',
    repoPath: '/newdata/mods1b.20260115.0001.fits',
    deliveredName: 'mods1b.20260115.0001.fits',
    checksum: SHA,
  });
  assert.equal(done.state, 'delivered');
  assert.equal(done.deliveredAt, T0 + 8250);
  assert.equal(done.updatedAt, T0 + 8250);
  assert.equal(done.firstSeenAt, T0);
  assert.equal(done.completeAt, T0 + 2100);
  assert.equal(done.checksum, SHA);
  assert.equal(done.repoPath, '/newdata/mods1b.20260115.0001.fits');
  assert.deepEqual(done.warnings, ['no CONPARS: temperatures are -999.9']);
  assert.equal(done.errorCode, 'ENOSPC', 'the last error is kept for the record after success');
  assert.deepEqual(ledger.get(seen.id), done);
});

test('a file can end failed with its error or skipped with a reason', async (t) => {
  const { clock, ledger } = await fresh(t);
  const a = ledger.note('/data/mods1r/mods1r.20260115.0002.fits', 'udp', { channel: 'mods1r' });
  const b = ledger.note('/data/mods1r/mods1r.20260115.0003.fits', 'catchup', { channel: 'mods1r' });
  ledger.markWaiting(a.id);
  clock.advance(120_000);
  const failed = ledger.markFailed(a.id, new LedgerError('still incomplete after 120 s'));
  assert.deepEqual([failed.state, failed.errorCode, failed.errorMessage, failed.updatedAt],
    ['failed', 'ledger', 'still incomplete after 120 s', T0 + 120_000]);
  const skipped = ledger.markSkipped(b.id, 'older than the catch-up window');
  assert.deepEqual([skipped.state, skipped.skipReason, skipped.errorCode], ['skipped', 'older than the catch-up window', null]);
  // A later trigger for a failed file may queue it again.
  assert.equal(ledger.markQueued(a.id).state, 'queued');
});

test('a repeated trigger for a delivered raw file returns the delivered job instead of a new one', async (t) => {
  const { ledger } = await fresh(t);
  const job = ledger.note(RAW, 'watcher', { channel: 'mods1b' });
  ledger.markQueued(job.id);
  ledger.markProcessing(job.id);
  ledger.markDelivered(job.id, { procPath: '/p/x.fits', repoPath: '/newdata/x.fits', deliveredName: 'x.fits' });

  const again = ledger.note(RAW, 'udp', { channel: 'mods1b' });
  assert.equal(again.id, job.id);
  assert.equal(again.state, 'delivered');
  assert.equal(again.origin, 'watcher', 'origin is where the file was first seen');
  assert.equal(ledger.note('/data/mods1b//mods1b.20260115.0001.fits', 'catchup', { channel: 'mods1b' }).id, job.id,
    'the same file named with a doubled slash is the same job');
  assert.equal(ledger.isDelivered(RAW), true);
  assert.equal(ledger.isDelivered('/data/mods1b/mods1b.20260115.0002.fits'), false);
  assert.equal(ledger.latestByPath(RAW)?.id, job.id);
  assert.equal(ledger.countsByState().total, 1);
  assert.throws(() => ledger.note('mods1b.20260115.0001.fits', 'cli', { channel: 'mods1b' }), isLedgerError(/not absolute/));
});

test('each drop of the same file is a new job, and delivering one does not block the next', async (t) => {
  const { clock, ledger } = await fresh(t);
  const raw = ledger.note(RAW, 'watcher', { channel: 'mods1b' });
  ledger.markProcessing(raw.id);
  ledger.markDelivered(raw.id, { procPath: '/p/a.fits', repoPath: '/newdata/a.fits', deliveredName: 'a.fits' });

  const dropPath = '/home/data/drop/mods1b.20260115.0001.fits';
  const first = ledger.note(dropPath, 'drop', { channel: 'mods1b' });
  ledger.markProcessing(first.id);
  ledger.markDelivered(first.id, {
    procPath: '/p/b.fits', repoPath: '/newdata/mods1b.20260115.051233.fits', deliveredName: 'mods1b.20260115.051233.fits',
  });
  clock.advance(7 * 86_400_000);
  const second = ledger.note(dropPath, 'drop', { channel: null });
  assert.notEqual(second.id, first.id);
  assert.equal(second.state, 'seen');
  assert.equal(ledger.markProcessing(second.id).attempts, 1, 'a drop job never conflicts with earlier jobs');

  assert.equal(ledger.latestByPath(dropPath)?.id, second.id);
  assert.equal(ledger.latestByPath(RAW)?.id, raw.id, 'a raw path finds its raw job, not a drop');
  assert.deepEqual(ledger.byName('mods1b.20260115.0001.fits').map((r) => [r.id, r.origin]),
    [[raw.id, 'watcher'], [first.id, 'drop'], [second.id, 'drop']]);
});

test('impossible transitions are refused with a LedgerError naming the job and both states', async (t) => {
  const { ledger } = await fresh(t);
  const job = ledger.note(RAW, 'watcher', { channel: 'mods1b' });
  assert.throws(() => ledger.markDelivered(job.id, { procPath: '/p', repoPath: '/r', deliveredName: 'n' }),
    isLedgerError(/job \d+ \(mods1b\.20260115\.0001\.fits\) cannot go from seen to delivered/));
  ledger.markProcessing(job.id);
  assert.throws(() => ledger.markProcessing(job.id), isLedgerError(/from processing to processing/));
  ledger.markDelivered(job.id, { procPath: '/p', repoPath: '/r', deliveredName: 'n' });
  for (const change of [
    () => ledger.markProcessing(job.id),
    () => ledger.markQueued(job.id),
    () => ledger.markWaiting(job.id),
    () => ledger.markFailed(job.id, { code: 'fits', message: 'x' }),
    () => ledger.markSkipped(job.id, 'x'),
    () => ledger.recordRetry(job.id, { code: 'EIO', message: 'x' }),
  ]) {
    assert.throws(change, isLedgerError(/cannot go from delivered to/));
  }
  assert.equal(ledger.get(job.id)?.state, 'delivered', 'a refused change leaves the job as it was');
  assert.throws(() => ledger.markQueued(999), isLedgerError(/no job 999/));
  assert.throws(() => ledger.setDetails(999, { object: 'x' }), isLedgerError(/no job 999/));
  assert.throws(() => ledger.setDetails(job.id, { checksum: 'not hex' }), isLedgerError(/sha256/));
  assert.throws(() => ledger.byObsDate('2026-01-15'), isLedgerError(/YYYYMMDD/));
  assert.equal(ledger.get(999), undefined);
});

test('interrupted() finds unfinished work after a crash (the first connection never closed), oldest first', async (t) => {
  const dir = await tempDir(t);
  const clock = new ManualClock(T0);
  let crashed: Ledger | undefined = openLedger(dir, { clock });
  const ids: number[] = [];
  for (const [i, step] of (['seen', 'waiting', 'queued', 'processing', 'delivered', 'failed', 'skipped'] as const).entries()) {
    const { id } = crashed.note(`/data/mods2r/mods2r.20260115.000${i + 1}.fits`, 'watcher', { channel: 'mods2r' });
    ids.push(id);
    clock.advance(1000);
    if (step === 'waiting') crashed.markWaiting(id);
    if (step === 'queued') crashed.markQueued(id);
    if (step === 'processing' || step === 'delivered') crashed.markProcessing(id);
    if (step === 'delivered') crashed.markDelivered(id, { procPath: '/p', repoPath: '/r', deliveredName: 'n' });
    if (step === 'failed') crashed.markFailed(id, { code: 'fits', message: 'truncated' });
    if (step === 'skipped') crashed.markSkipped(id, 'duplicate');
  }
  const wal = join(dir, 'ledger.sqlite-wal');
  assert.ok(statSync(wal).size > 0, 'the commits are still in the WAL file');
  crashed = undefined; // dropped without close(), as a killed process would leave it

  const reopened = openLedger(dir, { clock });
  t.after(() => reopened.close());
  const left = reopened.interrupted();
  assert.deepEqual(left.map((r) => r.id), ids.slice(0, 4));
  assert.deepEqual(left.map((r) => r.state), ['seen', 'waiting', 'queued', 'processing']);
  // On start the service queues them again, including the one that was being processed.
  for (const r of left) assert.equal(reopened.markQueued(r.id).state, 'queued');
  assert.equal(reopened.countsByState().byState.queued, 4);
});

test('interrupted() finds unfinished work after a proper close, which leaves no WAL behind', async (t) => {
  const dir = await tempDir(t);
  const clock = new ManualClock(T0);
  const first = openLedger(dir, { clock });
  const a = first.note('/data/mods1b/mods1b.20260115.0007.fits', 'udp', { channel: 'mods1b' });
  clock.advance(10);
  const b = first.note('/data/mods1b/mods1b.20260115.0008.fits', 'udp', { channel: 'mods1b' });
  first.markQueued(b.id);
  first.markProcessing(a.id);
  first.close();
  assert.equal(existsSync(join(dir, 'ledger.sqlite-wal')), false, 'close() checkpoints everything into the database file');

  const second = openLedger(dir, { clock });
  t.after(() => second.close());
  assert.deepEqual(second.interrupted().map((r) => [r.id, r.state, r.attempts]), [[a.id, 'processing', 1], [b.id, 'queued', 0]]);
});

test('a process killed with SIGKILL mid-run loses no committed change', async (t) => {
  const dir = await tempDir(t);
  const ledgerUrl = new URL('../../src/service/ledger/ledger.ts', import.meta.url).href;
  const clockUrl = new URL('../../src/base/clock.ts', import.meta.url).href;
  const child = `
    const { openLedger } = await import(${JSON.stringify(ledgerUrl)});
    const { ManualClock } = await import(${JSON.stringify(clockUrl)});
    const ledger = openLedger(${JSON.stringify(dir)}, { clock: new ManualClock(${T0}) });
    const a = ledger.note('/data/mods1b/mods1b.20260115.0011.fits', 'watcher', { channel: 'mods1b' });
    const b = ledger.note('/data/mods1b/mods1b.20260115.0012.fits', 'watcher', { channel: 'mods1b' });
    ledger.markProcessing(a.id);
    ledger.markProcessing(b.id);
    ledger.markDelivered(b.id, { procPath: '/p', repoPath: '/r', deliveredName: 'n' });
    process.kill(process.pid, 'SIGKILL');
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { encoding: 'utf8' });
  assert.equal(run.signal, 'SIGKILL', run.stderr);

  const ledger = openLedger(dir, { clock: new ManualClock(T0) });
  t.after(() => ledger.close());
  assert.deepEqual(ledger.interrupted().map((r) => [r.name, r.state]), [['mods1b.20260115.0011.fits', 'processing']]);
  assert.equal(ledger.isDelivered('/data/mods1b/mods1b.20260115.0012.fits'), true);
});

test('the database is in WAL mode and stores its schema version', async (t) => {
  const { ledger, file } = await fresh(t);
  ledger.note(RAW, 'cli', { channel: 'mods1b' });
  assert.ok(existsSync(`${file}-wal`));
  const db = inspect(t, file);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), LEDGER_SCHEMA_VERSION);
  assert.equal(LEDGER_SCHEMA_VERSION, MIGRATIONS.length);
  const row = db.prepare('SELECT path, state, first_seen_at FROM jobs').get();
  assert.deepEqual(row, { path: RAW, state: 'seen', first_seen_at: T0 });
});

test('a later schema version adds a column to an existing ledger, and this version then refuses that file', async (t) => {
  const dir = await tempDir(t);
  const clock = new ManualClock(T0);
  const ledger = openLedger(dir, { clock });
  ledger.note(RAW, 'watcher', { channel: 'mods1b' });
  ledger.close();

  const file = join(dir, 'ledger.sqlite');
  const db = inspect(t, file);
  const next = [...MIGRATIONS, (d: Database.Database) => { d.exec('ALTER TABLE jobs ADD COLUMN grating TEXT'); }];
  const v = LEDGER_SCHEMA_VERSION;
  assert.equal(migrate(db, file, next), v, `found version ${v}`);
  assert.equal(migrate(db, file, next), v + 1, 'a second run has nothing to do');
  assert.equal(db.pragma('user_version', { simple: true }), v + 1);
  assert.deepEqual(db.prepare('SELECT name, grating FROM jobs').get(), { name: 'mods1b.20260115.0001.fits', grating: null });
  db.close();

  assert.throws(() => openLedger(dir, { clock }), isLedgerError(new RegExp(`schema version ${v + 1}, newer than this dataman understands \\(${v}\\)`)));
});

/** The counts straight from the table, as version 1 read them, for comparison. */
function countedByScan(db: Database.Database): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const r of db.prepare('SELECT channel, state, COUNT(*) AS n FROM jobs GROUP BY channel, state').all() as Array<{ channel: string | null; state: string; n: number }>) {
    (out[r.channel ?? 'unknown'] ??= {})[r.state] = r.n;
  }
  return out;
}

function nonZero(counts: Record<string, Record<string, number>>): Record<string, Record<string, number>> {
  return Object.fromEntries(Object.entries(counts).map(([c, byState]) => [c, Object.fromEntries(Object.entries(byState).filter(([, n]) => n > 0))]));
}

test('a version-1 ledger (a ledger of years, before the kept counts) is migrated at open: counts filled, index added, later changes counted', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ledger.sqlite');
  const old = new Database(file);
  old.pragma('journal_mode = WAL');
  migrate(old, file, MIGRATIONS.slice(0, 1));
  const add = old.prepare(`INSERT INTO jobs (path, name, channel, origin, state, first_seen_at, updated_at, delivered_at)
    VALUES (?, ?, ?, 'watcher', ?, ${T0}, ${T0}, ?)`);
  for (let i = 1; i <= 30; i++) {
    const chan = i % 3 === 0 ? 'mods1r' : 'mods1b';
    const name = `${chan}.20250101.${String(i).padStart(4, '0')}.fits`;
    const state = i % 10 === 0 ? 'failed' : 'delivered';
    add.run(`/data/${chan}/${name}`, name, chan, state, state === 'delivered' ? T0 : null);
  }
  add.run('/drop/odd.fits', 'odd.fits', null, 'seen', null);
  const before = countedByScan(old);
  old.close();

  const clock = new ManualClock(T0);
  const ledger = openLedger(dir, { clock });
  t.after(() => ledger.close());
  const db = inspect(t, file);
  assert.equal(db.pragma('user_version', { simple: true }), LEDGER_SCHEMA_VERSION);
  assert.ok(db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'jobs_delivered'`).get());
  assert.deepEqual(nonZero(ledger.countsByState().byChannel), before);
  assert.equal(ledger.countsByState().total, 31);

  const r = ledger.note(RAW, 'udp', { channel: 'mods1b' });
  ledger.markProcessing(r.id);
  ledger.markDelivered(r.id, { procPath: '/p', repoPath: '/r', deliveredName: 'n' });
  const odd = ledger.latestByPath('/drop/odd.fits')!;
  ledger.setDetails(odd.id, { channel: 'mods1r' });
  ledger.markFailed(odd.id, { code: 'fits', message: 'bad' });
  assert.deepEqual(nonZero(ledger.countsByState().byChannel), nonZero(countedByScan(db)));
  assert.equal(ledger.countsByState().byChannel.unknown, undefined, 'no channel left with only zeros');
  assert.equal(ledger.deliveredSince(T0, 100).length, 28);

  // Opening again (the migration already done) changes nothing.
  ledger.close();
  const again = openLedger(dir, { clock });
  assert.deepEqual(nonZero(again.countsByState().byChannel), nonZero(countedByScan(db)));
  again.close();
});

test('the kept counts follow every change, including a row deleted (an archive) and a channel learnt later', async (t) => {
  const { ledger, file, clock } = await fresh(t);
  const rows = [];
  for (let i = 1; i <= 40; i++) {
    const chan = i % 2 === 0 ? 'mods1r' : 'mods1b';
    rows.push(ledger.note(`/data/${chan}/${chan}.20260115.${String(i).padStart(4, '0')}.fits`, i % 5 === 0 ? 'drop' : 'watcher', { channel: i % 7 === 0 ? null : chan }));
  }
  for (const [i, r] of rows.entries()) {
    clock.advance(1);
    if (i % 4 === 0) { ledger.markProcessing(r.id); ledger.markDelivered(r.id, { procPath: '/p', repoPath: '/r', deliveredName: r.name }); }
    if (i % 4 === 1) ledger.markFailed(r.id, { code: 'fits', message: 'bad' });
    if (i % 4 === 2) { ledger.markQueued(r.id); ledger.recordRetry(r.id, { code: 'ENOSPC', message: 'full' }); }
    if (r.channel === null) ledger.setDetails(r.id, { channel: 'mods1b' });
  }
  const db = inspect(t, file);
  db.prepare(`DELETE FROM jobs WHERE state = 'delivered' AND id % 3 = 0`).run();
  assert.deepEqual(nonZero(ledger.countsByState().byChannel), nonZero(countedByScan(db)));
  assert.equal(ledger.countsByState().total, (db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n);
});

test('counts by state and by channel', async (t) => {
  const { ledger } = await fresh(t);
  const note = (chan: string, n: number) =>
    ledger.note(`/data/${chan}/${chan}.20260115.${String(n).padStart(4, '0')}.fits`, 'watcher', { channel: chan });
  ledger.markQueued(note('mods1b', 1).id);
  const r = note('mods1r', 1);
  ledger.markProcessing(r.id);
  ledger.markDelivered(r.id, { procPath: '/p', repoPath: '/r', deliveredName: 'n' });
  ledger.markFailed(note('mods1r', 2).id, { code: 'fits', message: 'bad' });
  note('mods1r', 3);
  ledger.note('/drop/odd-name.fits', 'drop', { channel: null });

  const counts = ledger.countsByState();
  assert.equal(counts.total, 5);
  assert.deepEqual(counts.byState, { seen: 2, waiting: 0, queued: 1, processing: 0, delivered: 1, failed: 1, skipped: 0 });
  assert.deepEqual(Object.keys(counts.byChannel).sort(), ['mods1b', 'mods1r', 'unknown']);
  assert.deepEqual(counts.byChannel.mods1r, { seen: 1, waiting: 0, queued: 0, processing: 0, delivered: 1, failed: 1, skipped: 0 });
  assert.equal(counts.byChannel.mods1b?.queued, 1);
  assert.equal(counts.byChannel.unknown?.seen, 1);
});

test('recent, failures and byObsDate list the jobs the status page shows', async (t) => {
  const { clock, ledger } = await fresh(t);
  const a = ledger.note('/data/mods1b/mods1b.20260115.0001.fits', 'watcher', { channel: 'mods1b', obsDate: '20260115' });
  clock.advance(10);
  const b = ledger.note('/data/mods1r/mods1r.20260115.0001.fits', 'watcher', { channel: 'mods1r', obsDate: '20260115' });
  clock.advance(10);
  const c = ledger.note('/data/mods1b/mods1b.20260116.0001.fits', 'watcher', { channel: 'mods1b', obsDate: '20260116' });
  clock.advance(10);
  ledger.markFailed(a.id, { code: 'fits', message: 'truncated' });
  clock.advance(10);
  ledger.markFailed(c.id, { code: 'fits', message: 'no header' });

  assert.deepEqual(ledger.recent(2).map((r) => r.id), [c.id, a.id]);
  assert.deepEqual(ledger.recent(10).map((r) => r.id), [c.id, a.id, b.id]);
  assert.deepEqual(ledger.failures(10).map((r) => [r.id, r.errorMessage]), [[c.id, 'no header'], [a.id, 'truncated']]);
  assert.deepEqual(ledger.byObsDate('20260115').map((r) => r.id), [a.id, b.id]);
  assert.deepEqual(ledger.byObsDate('20260115', 'mods1r').map((r) => r.id), [b.id]);
  assert.deepEqual(ledger.byObsDate('20260117'), []);
  assert.equal(ledger.newestIdByName('mods1b.20260115.0001.fits'), a.id);
  const again = ledger.note('/drop/mods1b.20260115.0001.fits', 'drop', { channel: 'mods1b' });
  assert.equal(ledger.newestIdByName('mods1b.20260115.0001.fits'), again.id);
  assert.equal(ledger.newestIdByName('nothing.fits'), undefined);
  assert.throws(() => ledger.recent(0), isLedgerError(/limit 0/));
});

test('a file that is not a SQLite database gives a LedgerError naming the file and the cause', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'ledger.sqlite');
  writeFileSync(file, 'This is bad data'.repeat(300));
  assert.throws(() => openLedger(dir, { clock: new ManualClock() }), (err: unknown) => {
    assert.ok(err instanceof LedgerError);
    assert.equal(err.code, 'ledger');
    assert.equal(err.path, file);
    assert.ok(err.message.includes(file), err.message);
    assert.match(err.message, /file is not a database/);
    assert.match(err.hint ?? '', /move it aside/);
    return true;
  });
});

test('a state folder that cannot be created gives a LedgerError naming the folder and the cause', async (t) => {
  const dir = await tempDir(t);
  const notADir = join(dir, 'a-file');
  writeFileSync(notADir, '');
  const stateDir = join(notADir, 'state');
  assert.throws(() => openLedger(stateDir, { clock: new ManualClock() }), (err: unknown) => {
    assert.ok(err instanceof LedgerError);
    assert.ok(err.message.includes(stateDir), err.message);
    assert.match(err.message, /ENOTDIR/);
    return true;
  });
});

test('the state folder is created when missing, and a custom file name is used', async (t) => {
  const dir = await tempDir(t);
  const ledger = openLedger(join(dir, 'var', '.dataman'), { clock: new ManualClock(), fileName: 'mods1.sqlite' });
  assert.equal(ledger.file, join(dir, 'var', '.dataman', 'mods1.sqlite'));
  ledger.close();
  assert.ok(existsSync(ledger.file));
});

test('every call after close() throws a LedgerError; close() itself may be repeated', async (t) => {
  const dir = await tempDir(t);
  const ledger = openLedger(dir, { clock: new ManualClock() });
  const job = ledger.note(RAW, 'watcher', { channel: 'mods1b' });
  ledger.close();
  ledger.close();
  for (const call of [
    () => ledger.get(job.id),
    () => ledger.note(RAW, 'watcher', { channel: 'mods1b' }),
    () => ledger.markQueued(job.id),
    () => ledger.interrupted(),
    () => ledger.countsByState(),
  ]) {
    assert.throws(call, isLedgerError(/is closed/));
  }
});

test('the ledger survives 1000 rapid updates and reopens with all of them', async (t) => {
  const dir = await tempDir(t);
  const clock = new ManualClock(T0);
  const ledger = openLedger(dir, { clock });
  for (let i = 1; i <= 250; i++) {
    const { id } = ledger.note(`/data/mods2b/mods2b.20260115.${String(i).padStart(4, '0')}.fits`, 'udp', { channel: 'mods2b' });
    ledger.markQueued(id);
    ledger.markProcessing(id);
    clock.advance(1);
    ledger.markDelivered(id, { procPath: `/p/${i}`, repoPath: `/r/${i}`, deliveredName: `${i}`, checksum: SHA });
  }
  ledger.close();

  const again = openLedger(dir, { clock });
  t.after(() => again.close());
  const counts = again.countsByState();
  assert.equal(counts.total, 250);
  assert.equal(counts.byState.delivered, 250);
  assert.deepEqual(again.interrupted(), []);
  assert.equal(again.recent(1)[0]?.deliveredName, '250');
});
