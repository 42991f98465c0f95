/**
 * Fault injection at the level of the running service (issue #6): the ledger locked or
 * unwritable, a raw file that changes size after it looked complete, the wall clock stepped
 * across the observing-date boundary. Delivery-step faults are in deliver.test.ts.
 *
 * Each test runs a real service on temporary folders (loopback UDP, real SQLite) and checks the
 * same things: every file is delivered exactly once, from its final bytes, or recorded as failed
 * with the reason; nothing partial is ever visible in repoDir; the service keeps serving and
 * never crashes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { open, readdir, readFile, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateRaw, writeRaw } from '../../src/simulate/index.js';
import { createLogger } from '../../src/ops/logger.js';
import type { DatamanService } from '../../src/service/service.js';
import { tempDir } from '../helpers/temp.js';
import { deliveries, nextEvent, observeRepo, startService, type RunningService } from '../helpers/service.js';
import { FaultyFs, Gate } from './helpers/faulty-fs.js';
import { JumpClock } from './helpers/jump-clock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

/** Polls until `check` holds (every wait in these tests is for an event, never a duration). */
async function until(check: () => boolean | Promise<boolean>, what: string, service?: RunningService): Promise<void> {
  for (let i = 0; ; i++) {
    if (await check()) return;
    if (i === 3000) assert.fail(`never happened: ${what}${service ? `\n${service.log.lines.join('\n')}` : ''}`);
    await sleep(10);
  }
}

/** Unhandled rejections while a test runs (the service must never leave one: it ends the process). */
function watchCrashes(t: { after(fn: () => void): void }): unknown[] {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onRejection);
  t.after(() => process.off('unhandledRejection', onRejection));
  return seen;
}

const fitsIn = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.fits')).sort();
const tempsIn = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('.'));
const rawPath = (root: string, name: string) => join(root, 'raw', name.slice(0, 6), name);

/**
 * Watches repoDir for anything partial or invalid (until the returned stop, or the test's end)
 * and counts the deliveries per raw file name.
 */
function watchRepo(t: { after(fn: () => unknown): void }, root: string, service: DatamanService) {
  const repo = join(root, 'newdata');
  const stopObserving = observeRepo(repo);
  t.after(() => stopObserving()); // also when the test fails early
  return { repo, stopObserving, counts: countDeliveries(service) };
}

/** Counts `delivery:done` per raw file name. */
function countDeliveries(service: DatamanService): Map<string, number> {
  const counts = new Map<string, number>();
  service.on('delivery:done', (row) => counts.set(row.name, (counts.get(row.name) ?? 0) + 1));
  return counts;
}

// ---------------------------------------------------------------------------------------------
// The ledger locked or unwritable

/**
 * Writes raw file `seq`, triggers it, holds its delivery at the pointer's rename, takes the
 * ledger's write lock from `other` and lets the delivery finish: the file is in place while its
 * record has to wait for the lock.
 */
async function lockBetweenDeliveryAndRecord(s: RunningService, fs: FaultyFs, other: Database.Database, root: string, seq: number) {
  const gate = new Gate();
  fs.inject({ op: 'rename', path: (p) => p === join(root, 'newdata', 'MODS1B.new'), action: 'hold', gate });
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq });
  await s.send(`proc /home/data/${raw.name}`);
  await gate.reached;
  other.exec('BEGIN EXCLUSIVE');
  gate.release();
  return raw;
}

test('the ledger locked by another connection: a new file waits, the ledger file and the cause are logged, it is delivered once the lock goes; no crash', async (t) => {
  const root = await tempDir(t);
  const crashes = watchCrashes(t);
  const fs = new FaultyFs();
  // A short busy timeout keeps the test quick (the service's own is 200 ms), then it backs off.
  const s = await startService(root, '', { random: () => 0.05, ledger: { busyTimeoutMs: 20 }, fs });
  t.after(() => s.stop());
  const ledgerFile = join(root, 'state', 'ledger.sqlite');
  const { repo, stopObserving, counts } = watchRepo(t, root, s.service);
  const other = new Database(ledgerFile);
  t.after(() => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
  });
  const busyWarning = (name: string) => () => s.log.messages('warn').some((m) => m.startsWith(`${name}: ledger ${ledgerFile}: `) && m.includes('(SQLITE_BUSY)') && m.includes('trying again'));

  // 1. Locked when the file arrives: it cannot even be noted. It waits for the ledger.
  other.exec('BEGIN EXCLUSIVE');
  const a = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1 });
  await s.send(`proc /home/data/${a.name}`);
  await until(busyWarning(a.name), `a warning that ${a.name} waits for the locked ledger`, s);
  assert.deepEqual(await fitsIn(repo), [], 'nothing is delivered without a record');
  const deliveredA = nextEvent(s.service, 'delivery:done');
  other.exec('COMMIT');
  const [rowA] = await deliveredA;
  assert.equal(rowA.name, a.name);
  assert.equal(rowA.state, 'delivered');

  // 2. Locked between the delivery and its record: the file is in place, only the record waits;
  // nothing is processed or copied again when the lock goes.
  const b = await lockBetweenDeliveryAndRecord(s, fs, other, root, 2);
  await until(busyWarning(b.name), `a warning that ${b.name} waits for the locked ledger`, s);
  assert.deepEqual(await fitsIn(repo), [a.name, b.name], 'the delivered file is in place');
  assert.equal(await readFile(join(repo, 'MODS1B.new'), 'utf8'), `${b.name}\n`);
  assert.equal(s.service.ledgerHandle.latestByPath(rawPath(root, b.name))?.state, 'processing', 'the record waits (reads still work)');
  const deliveredB = nextEvent(s.service, 'delivery:done');
  other.exec('COMMIT');
  const [rowB] = await deliveredB;
  assert.equal(rowB.name, b.name);
  assert.equal(rowB.attempts, 1, 'processed once');
  assert.equal(rowB.deliveredName, b.name);

  await s.service.idle();
  const seen = await stopObserving();
  assert.deepEqual(seen.bad, [], 'a partial or invalid file was visible in repoDir');
  assert.deepEqual(await fitsIn(repo), [a.name, b.name], 'each file once, under its own name');
  assert.deepEqual([...counts.entries()].sort(), [[a.name, 1], [b.name, 1]]);
  assert.equal(s.log.messages('info').filter((m) => m === `Processing ${b.name}...`).length, 1);
  assert.ok(s.log.messages('info').includes(`${b.name}: the ledger is writable again`));
  assert.deepEqual(s.log.messages('error'), []);
  assert.deepEqual(await tempsIn(join(root, 'proc', '20260115')), []);
  assert.deepEqual(crashes, []);
});

test('the ledger unwritable (read-only) while files arrive and run: they wait, the service keeps serving, each is delivered once when it is writable again', async (t) => {
  const root = await tempDir(t);
  const crashes = watchCrashes(t);
  let db: Database.Database | undefined;
  // The fault comes from SQLite itself: `query_only` fails every write with SQLITE_READONLY,
  // as a read-only remount of the state folder does (we run as root: chmod stops nothing).
  const s = await startService(root, '', { random: () => 0.05, ledger: { onOpen: (d) => { db = d; } } });
  t.after(() => s.stop());
  const ledgerFile = join(root, 'state', 'ledger.sqlite');
  const { repo, stopObserving, counts } = watchRepo(t, root, s.service);
  const failures: string[] = [];
  s.service.on('job:failed', (row, e) => failures.push(`${row.name}: ${e.message}`));
  const readOnlyWarning = (name: string) => () => s.log.messages('warn').some((m) => m.startsWith(`${name}: ledger ${ledgerFile}: `) && m.includes('(SQLITE_READONLY)'));

  const a = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1 });
  await s.send(`proc /home/data/${a.name}`);
  await nextEvent(s.service, 'delivery:done');

  // The ledger turns read-only just as the next file starts: it cannot be marked processing.
  const b = generateRaw({ instrument: 'mods1r', roi: '1k', seq: 1 });
  s.service.once('job:start', () => db!.pragma('query_only = 1'));
  await writeFile(rawPath(root, b.name), b.bytes);
  await s.send(`proc /home/data/${b.name}`);
  await until(readOnlyWarning(b.name), `a warning that ${b.name} waits for the read-only ledger`, s);
  // A file that only the watcher finds meanwhile cannot be noted.
  const c = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 2 });
  await until(readOnlyWarning(c.name), `a warning that ${c.name} waits for the read-only ledger`, s);
  // The service keeps serving: a repeated trigger is still answered from the ledger.
  const skipped = nextEvent(s.service, 'file:skipped');
  await s.send(`proc /home/data/${a.name}`);
  assert.equal((await skipped)[2], 'already delivered');
  assert.deepEqual(await fitsIn(repo), [a.name]);

  const both = deliveries(s.service, 2);
  db!.pragma('query_only = 0');
  const done = await both;
  assert.deepEqual(done.map((d) => d.name).sort(), [b.name, c.name].sort());
  await s.service.idle();
  const seen = await stopObserving();
  assert.deepEqual(seen.bad, [], 'a partial or invalid file was visible in repoDir');
  assert.deepEqual(await fitsIn(repo), [a.name, b.name, c.name].sort());
  assert.deepEqual([...counts.values()], [1, 1, 1], 'each delivered once');
  assert.deepEqual(failures, []);
  const ledger = s.service.ledgerHandle.countsByState();
  assert.equal(ledger.byState.delivered, 3);
  assert.equal(ledger.total, 3);
  assert.deepEqual(s.log.messages('error'), []);
  assert.deepEqual(crashes, []);
});

test('stopping while the ledger is locked: the service stops, and the next start finishes the delivery without a second copy', async (t) => {
  const root = await tempDir(t);
  const crashes = watchCrashes(t);
  const fs = new FaultyFs();
  const first = await startService(root, '', { random: () => 0.05, ledger: { busyTimeoutMs: 20 }, fs, stopTimeoutMs: 300 });
  const ledgerFile = join(root, 'state', 'ledger.sqlite');
  const repo = join(root, 'newdata');
  const other = new Database(ledgerFile);
  t.after(() => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
  });
  const a = await lockBetweenDeliveryAndRecord(first, fs, other, root, 1);
  await until(() => first.log.messages('warn').some((m) => m.startsWith(`${a.name}: ledger ${ledgerFile}: `)), 'the record waiting for the lock', first);
  await first.stop();
  assert.ok(first.log.messages('warn').some((m) => m.startsWith(`${a.name}: left for the next start; the ledger could not record its progress`)), first.log.messages('warn').join('\n'));
  other.exec('COMMIT');

  const second = await startService(root, '', { random: () => 0.05 });
  t.after(() => second.stop());
  await second.service.idle();
  const row = second.service.ledgerHandle.latestByPath(rawPath(root, a.name))!;
  assert.equal(row.state, 'delivered');
  assert.equal(row.deliveredName, a.name);
  assert.deepEqual(await fitsIn(repo), [a.name], 'one copy, under its own name');
  assert.deepEqual(await fitsIn(join(root, 'proc', '20260115')), [a.name]);
  assert.ok(second.log.messages('warn').some((m) => m.includes(`${a.name}: the last run stopped while delivering it`)), second.log.messages('warn').join('\n'));
  assert.deepEqual(crashes, []);
});

// ---------------------------------------------------------------------------------------------
// A raw file that changes size after it looked complete

/** Writes the rest of `bytes` into a file from `from` on, a chunk at a time, as azcam writes. */
async function writeRestSlowly(path: string, bytes: Uint8Array, from: number, chunkBytes: number, delayMs: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    for (let at = from; at < bytes.length; at += chunkBytes) {
      await sleep(delayMs);
      await handle.write(bytes, at, Math.min(chunkBytes, bytes.length - at), at);
    }
  } finally {
    await handle.close();
  }
}

test('a raw file rewritten larger just after it looked complete: nothing from the stale bytes is delivered, the final bytes are delivered once', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  t.after(() => s.stop());
  const { repo, stopObserving, counts } = watchRepo(t, root, s.service);
  const failures: string[] = [];
  s.service.on('job:failed', (row, e) => failures.push(`${row.name}: ${e.message}`));
  // Same name; binned 2x2 first (0.66 MB), then the 1x1 frame (2.3 MB).
  const stale = generateRaw({ roi: '1k', bin: '2x2', object: 'stale version' });
  const final = generateRaw({ roi: '1k', object: 'final version' });
  assert.equal(stale.name, final.name);
  assert.ok(final.bytes.length > stale.bytes.length);
  const path = rawPath(root, stale.name);
  await writeFile(path, stale.bytes);
  // azcam starts the file over just as the service starts on the complete-looking stale one:
  // the worker reads a file cut short. The rest is written, a chunk at a time, once the
  // service has reacted to that.
  const chunk = 256 * 1024;
  s.service.once('job:start', () => writeFileSync(path, final.bytes.subarray(0, chunk)));
  const done = nextEvent(s.service, 'delivery:done');
  await s.send(`proc /home/data/${stale.name}`);
  await until(() => failures.length > 0 || s.log.messages('info').some((m) => m.startsWith(`${stale.name}: changed while it was processed`)), 'the service reacting to the rewrite', s);
  assert.deepEqual(failures, [], 'a file rewritten under the service is not a failed file');
  assert.equal(s.service.ledgerHandle.latestByPath(path)?.state, 'waiting', 'waited for again');
  assert.deepEqual(await fitsIn(repo), []);
  await writeRestSlowly(path, final.bytes, chunk, chunk, 30);
  const [row] = await done;
  await s.service.idle();

  assert.deepEqual(failures, []);
  const seen = await stopObserving();
  assert.deepEqual(seen.bad, [], 'a partial or invalid file was visible in repoDir');
  assert.deepEqual(await fitsIn(repo), [stale.name]);
  assert.deepEqual([...counts.entries()], [[stale.name, 1]], 'delivered once');
  const delivered = await readFile(join(repo, stale.name));
  assert.ok(delivered.includes(Buffer.from("'final version'")) && !delivered.includes(Buffer.from("'stale version'")), 'made from the final bytes');
  assert.ok(delivered.length > final.bytes.length, 'the full 1x1 frame (plus MERGED)');
  assert.equal(row.size, final.bytes.length, 'the ledger records the final size');
  assert.deepEqual(await fitsIn(join(root, 'proc', '20260115')), [stale.name]);
  assert.deepEqual(await tempsIn(join(root, 'proc', '20260115')), [], 'the stale output was removed');
});

/**
 * A service whose first flush of a MODS1B repository copy hangs until `gate` is released (the
 * copy is made before the raw file is checked and the names given), watched for crashes and for
 * partial files.
 */
async function startWithHeldCopy(t: { after(fn: () => unknown): void }) {
  const root = await tempDir(t);
  const crashes = watchCrashes(t);
  const repo = join(root, 'newdata');
  const fs = new FaultyFs();
  const gate = new Gate();
  fs.inject({ op: 'fsync', path: (p) => p.startsWith(`${repo}/.mods1b.`), action: 'hold', gate });
  const s = await startService(root, '', { fs });
  t.after(() => s.stop());
  t.after(() => gate.release()); // a failed assertion must not leave the service stuck in its stop
  return { root, crashes, fs, gate, s, ...watchRepo(t, root, s.service) };
}

/** Writes a raw file, triggers it, touches it while its repository copy is held, and waits for its delivery. */
async function touchWhileCopied(h: Awaited<ReturnType<typeof startWithHeldCopy>>, onTouched: () => Promise<void> = async () => {}) {
  const raw = await writeRaw(join(h.root, 'raw', 'mods1b'), { roi: '1k', seq: 1 });
  const done = nextEvent(h.s.service, 'delivery:done');
  await h.s.send(`proc /home/data/${raw.name}`);
  await h.gate.reached;
  const later = new Date(Date.now() + 60_000);
  await utimes(raw.path, later, later);
  h.gate.release();
  await onTouched();
  await done;
  await h.s.service.idle();
  return { raw, later };
}

test('a raw file touched while its repository copy is made: the copy is removed, nothing is named, the file is delivered once after it holds still', async (t) => {
  // Touched while the copy is held: azcam writing it again, or an NFS client late with its attributes.
  const held = await startWithHeldCopy(t);
  const { root, crashes, repo, s, stopObserving, counts } = held;
  const { raw, later } = await touchWhileCopied(held, () => until(() => s.log.messages('info').some((m) => m.includes(': changed while it was processed')), 'the service noticing the change', s));

  assert.deepEqual(crashes, []);
  const seen = await stopObserving();
  assert.deepEqual(seen.bad, [], 'a partial or invalid file was visible in repoDir');
  assert.deepEqual([...counts.entries()], [[raw.name, 1]], 'delivered once');
  assert.deepEqual(await fitsIn(repo), [raw.name]);
  assert.deepEqual(await tempsIn(repo), [], 'the abandoned copy was removed');
  assert.deepEqual(await tempsIn(join(root, 'proc', '20260115')), [], 'and the processed temporary');
  const recorded = s.service.ledgerHandle.latestByPath(raw.path)?.mtimeMs ?? Number.NaN;
  assert.ok(Math.abs(recorded - later.getTime()) < 1, `the ledger records the file as it held still (${recorded})`);
});

test('a copy that cannot be removed when the raw file changed is removed by the next attempt', async (t) => {
  const held = await startWithHeldCopy(t);
  const { crashes, repo, fs, s, stopObserving, counts } = held;
  fs.inject({ op: 'unlink', path: (p) => p.startsWith(`${repo}/.mods1b.`), action: 'fail', errno: 'EACCES' });
  const { raw } = await touchWhileCopied(held);

  assert.deepEqual(crashes, []);
  assert.ok(s.log.messages('warn').some((m) => m.startsWith(`${raw.name}: could not remove ${repo}/.mods1b.`)), s.log.lines.join('\n'));
  assert.deepEqual((await stopObserving()).bad, []);
  assert.deepEqual([...counts.entries()], [[raw.name, 1]]);
  assert.deepEqual(await tempsIn(repo), [], 'the leftover was removed by the next attempt');
});

test('a copy that never verifies fails the file with the reason and leaves no temporary behind', async (t) => {
  const root = await tempDir(t);
  const repo = join(root, 'newdata');
  const fs = new FaultyFs().inject({ op: 'write', path: (p) => p.startsWith(`${repo}/.mods1b.`), action: 'corrupt', times: Infinity });
  const s = await startService(root, '', { fs });
  t.after(() => s.stop());
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1 });
  const failed = nextEvent(s.service, 'job:failed');
  await s.send(`proc /home/data/${raw.name}`);
  const [row, error] = await failed;
  await s.service.idle();
  assert.equal(row.name, raw.name);
  assert.match(error.message, /failed verification twice/);
  assert.deepEqual(await readdir(repo), []);
  assert.deepEqual(await readdir(join(root, 'proc', '20260115')), [], 'the processed temporary was removed');
});

test('a delivery call that hangs (a slow NFS server) holds only its own file: the other channel is delivered meanwhile', async (t) => {
  const { root, crashes, repo, gate, s, stopObserving, counts } = await startWithHeldCopy(t);
  const blue = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1 });
  await s.send(`proc /home/data/${blue.name}`);
  await gate.reached;
  const red = await writeRaw(join(root, 'raw', 'mods1r'), { roi: '1k', instrument: 'mods1r', seq: 1 });
  const redDone = nextEvent(s.service, 'delivery:done');
  await s.send(`proc /home/data/${red.name}`);
  const [redRow] = await redDone;
  assert.equal(redRow.name, red.name);
  assert.deepEqual(await fitsIn(repo), [red.name], 'the blue file is not named while its call hangs');
  assert.equal(s.service.ledgerHandle.latestByPath(blue.path)?.state, 'processing', 'the blue file is still in progress');
  const blueDone = nextEvent(s.service, 'delivery:done');
  gate.release();
  await blueDone;
  await s.service.idle();

  assert.deepEqual(crashes, []);
  assert.deepEqual((await stopObserving()).bad, [], 'a partial or invalid file was visible in repoDir');
  assert.deepEqual([...counts.entries()].sort(), [[blue.name, 1], [red.name, 1]]);
  assert.deepEqual(await fitsIn(repo), [blue.name, red.name].sort());
  assert.equal(await readFile(join(repo, 'MODS1B.new'), 'utf8'), `${blue.name}\n`);
  assert.equal(await readFile(join(repo, 'MODS1R.new'), 'utf8'), `${red.name}\n`);
});

// ---------------------------------------------------------------------------------------------
// The wall clock stepped across the observing-date boundary (local noon, America/Phoenix)

/** The service with the real log file, stamped by `clock`. */
async function startWithClock(root: string, clock: JumpClock, fs?: FaultyFs): Promise<RunningService> {
  const logger = createLogger({
    logDir: join(root, 'log'), hostName: 'mods1', clock, timeZone: 'America/Phoenix', console: false, stderr: { write: () => true },
  });
  return startService(root, '', { clock, logger, random: () => 0.05, ...(fs ? { fs } : {}) });
}

async function logFile(root: string, obsDate: string): Promise<string[]> {
  return (await readFile(join(root, 'log', `mods1dm.${obsDate}.txt`), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
}

async function nightLogNames(root: string, obsDate: string, chan: string): Promise<string[]> {
  const text = await readFile(join(root, 'proc', 'nightlogs', `${obsDate}_${chan}.txt`), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').slice(1).map((l) => l.trim().split(/\s+/).at(-1)!).sort();
}

test('the clock stepped forward past local noon while files are written: none fails or is taken early, each goes to the folder of its name, the log rolls over', { timeout: 60_000 }, async (t) => {
  const root = await tempDir(t);
  // 11:58 MST on 2026-01-15: observing date 20260115; three hours on it is 20260116.
  const clock = new JumpClock(Date.parse('2026-01-15T11:58:00-07:00'));
  const s = await startWithClock(root, clock);
  t.after(() => s.stop());
  const { repo, stopObserving, counts } = watchRepo(t, root, s.service);
  const ledger = s.service.ledgerHandle;

  const a = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1 });
  await s.send(`proc /home/data/${a.name}`);
  await nextEvent(s.service, 'delivery:done');

  // b has its images but not yet CONPARS; c is cut off inside the images. Both wait.
  const b = generateRaw({ roi: '1k', seq: 2 });
  const c = generateRaw({ roi: '1k', seq: 3 });
  await writeFile(rawPath(root, b.name), b.bytes.subarray(0, b.imagesLength));
  await writeFile(rawPath(root, c.name), c.bytes.subarray(0, 1_000_000));
  await s.send(`proc /home/data/${b.name}`);
  await s.send(`proc /home/data/${c.name}`);
  await until(() => [b, c].every((r) => ledger.latestByPath(rawPath(root, r.name))?.state === 'waiting'), 'b and c waiting');
  // A few looks at each (polls 100 ms apart, each one wait): b's grace period (1.5 s) is running.
  await clock.waitsAfter(6);
  const three = deliveries(s.service, 3); // rejects on any failure
  clock.step(3 * HOUR);
  // A few more looks on the new time: the step is longer than the incomplete timeout (20 s) and
  // the grace period, yet b's grace is not over by the service's own waits.
  await clock.waitsAfter(8);
  assert.equal(ledger.latestByPath(rawPath(root, b.name))?.state, 'waiting', 'b is not taken without its CONPARS');
  assert.equal(ledger.latestByPath(rawPath(root, c.name))?.state, 'waiting', 'c has not failed');
  await writeFile(rawPath(root, b.name), b.bytes);
  await writeFile(rawPath(root, c.name), c.bytes);
  // The new night's first file.
  const d = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', obsDate: '20260116', seq: 1 });
  await s.send(`proc /home/data/${d.name}`);
  await three;
  await s.service.idle();

  const seen = await stopObserving();
  assert.deepEqual(seen.bad, [], 'a partial or invalid file was visible in repoDir');
  assert.deepEqual(await fitsIn(repo), [a.name, b.name, c.name, d.name].sort());
  assert.deepEqual([...counts.values()], [1, 1, 1, 1], 'each delivered once');
  assert.ok((await readFile(join(repo, b.name))).includes(Buffer.from("EXTNAME = 'CONPARS '")), 'b was delivered with its CONPARS');
  // Folders by the observing date in the file's name, not by the clock.
  assert.deepEqual(await fitsIn(join(root, 'proc', '20260115')), [a.name, b.name, c.name].sort());
  assert.deepEqual(await fitsIn(join(root, 'proc', '20260116')), [d.name]);
  assert.equal(ledger.countsByState().byState.delivered, 4);
  await s.stop(); // also waits for the night log's appends
  assert.deepEqual(await nightLogNames(root, '20260115', 'mods1b'), [a.name, b.name, c.name].sort());
  assert.deepEqual(await nightLogNames(root, '20260116', 'mods1b'), [d.name]);
  // The log: lines before the step in the 20260115 file, after it in the 20260116 file.
  const before = await logFile(root, '20260115');
  const after = await logFile(root, '20260116');
  assert.ok(before.some((l) => l.endsWith(`| INFO | Done: ${a.name} processed and archived`)), before.join('\n'));
  for (const r of [b, c, d]) assert.ok(after.some((l) => l.endsWith(`| INFO | Done: ${r.name} processed and archived`)), `${r.name}\n${after.join('\n')}`);
  assert.ok(before.every((l) => l.startsWith('2026-01-15 11:')), 'only morning lines in the 20260115 file');
  assert.ok(after.every((l) => l.startsWith('2026-01-15 1') && l.slice(11, 13) >= '14'), 'only afternoon lines in the 20260116 file');
  assert.equal([...before, ...after].filter((l) => l.includes('| Done: mods1b.')).length, 4, 'no line lost or written twice');
  assert.deepEqual([...before, ...after].filter((l) => l.includes('| ERROR |')), []);
});

test('the clock stepped back across local noon: waits, the CONPARS grace period and retries are not stretched by the step, the log goes back to the earlier file', { timeout: 60_000 }, async (t) => {
  const root = await tempDir(t);
  // 14:00 MST on 2026-01-15 is observing date 20260116; stepped back to about 11:00, 20260115.
  const clock = new JumpClock(Date.parse('2026-01-15T14:00:00-07:00'));
  const fs = new FaultyFs();
  const s = await startWithClock(root, clock, fs);
  t.after(() => s.stop());
  const { repo, stopObserving, counts } = watchRepo(t, root, s.service);
  const tooLong = clock.tooLongWait();

  const a = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', obsDate: '20260116', seq: 1 });
  await s.send(`proc /home/data/${a.name}`);
  await Promise.race([nextEvent(s.service, 'delivery:done'), tooLong]);

  // c never gets CONPARS: it is taken after the grace period, which is running when the clock
  // steps. b is taken at its first complete look and is processed while its settle interval
  // runs: the clock steps back just then. d's delivery fails once (disk full) and its retry
  // waits across a second step back.
  const c = generateRaw({ roi: '1k', obsDate: '20260116', seq: 3 });
  await writeFile(rawPath(root, c.name), c.bytes.subarray(0, c.imagesLength));
  await s.send(`proc /home/data/${c.name}`);
  let stepped = false;
  let cReadyAfterStep: boolean | undefined;
  s.service.on('file:ready', (row) => { if (row.name === c.name) cReadyAfterStep = stepped; });
  const b = generateRaw({ roi: '1k', obsDate: '20260116', seq: 2 });
  s.service.on('job:start', (row) => {
    if (row.name === b.name && !stepped) {
      clock.step(-3 * HOUR);
      stepped = true;
    }
  });
  const d = generateRaw({ roi: '1k', obsDate: '20260116', seq: 4 });
  fs.inject({ op: 'open', path: (p) => p.startsWith(join(repo, `.${d.name}.`)), action: 'fail', errno: 'ENOSPC' });
  s.service.on('job:retry', (row) => { if (row.name === d.name) clock.step(-1 * HOUR); });
  const three = deliveries(s.service, 3);
  // Whole at the first look (written aside, then renamed into place), so that b is taken at
  // once and its settle interval is confirmed after processing.
  for (const r of [b, d]) {
    await writeFile(join(root, 'raw', 'mods1b', `${r.name}.part`), r.bytes);
    await rename(join(root, 'raw', 'mods1b', `${r.name}.part`), rawPath(root, r.name));
    await s.send(`proc /home/data/${r.name}`);
  }
  await Promise.race([three, tooLong]);
  await s.service.idle();

  assert.equal(cReadyAfterStep, true, 'c was still in its grace period when the clock stepped (else this test proves nothing about it)');
  assert.ok(fs.fired >= 1, 'the fault on d fired');
  const seen = await stopObserving();
  assert.deepEqual(seen.bad, [], 'a partial or invalid file was visible in repoDir');
  assert.deepEqual(await fitsIn(repo), [a.name, b.name, c.name, d.name].sort());
  assert.deepEqual([...counts.values()], [1, 1, 1, 1], 'each delivered once');
  // Folders by the observing date in the file's name, whatever the clock says now.
  assert.deepEqual(await fitsIn(join(root, 'proc', '20260116')), [a.name, b.name, c.name, d.name].sort());
  assert.deepEqual(await fitsIn(join(root, 'proc', '20260115')), []);
  assert.equal(s.service.ledgerHandle.countsByState().byState.delivered, 4);
  await s.stop(); // also waits for the night log's appends
  assert.deepEqual(await nightLogNames(root, '20260116', 'mods1b'), [a.name, b.name, c.name, d.name].sort());
  const later = await logFile(root, '20260116');
  const earlier = await logFile(root, '20260115');
  assert.ok(later.some((l) => l.endsWith(`| INFO | Done: ${a.name} processed and archived`)), later.join('\n'));
  for (const r of [b, d]) assert.ok(earlier.some((l) => l.endsWith(`| INFO | Done: ${r.name} processed and archived`)), `${r.name}\n${earlier.join('\n')}`);
  assert.ok(earlier.some((l) => l.endsWith(`| WARNING | ${c.name}: no CONPARS table after 2 s; processed without it (temperatures -999.9)`)), earlier.join('\n'));
  assert.ok(later.every((l) => l.startsWith('2026-01-15 14:')), 'only afternoon lines in the 20260116 file');
  assert.ok(earlier.every((l) => l.startsWith('2026-01-15 1') && l.slice(11, 13) < '12'), 'only morning lines in the 20260115 file');
  assert.equal([...later, ...earlier].filter((l) => l.includes('| Done: mods1b.')).length, 4, 'no line lost or written twice');
  assert.deepEqual([...later, ...earlier].filter((l) => l.includes('| ERROR |')), []);
});

test('a triggered raw file replaced by another of the same size and mtime while its copy is made: nothing is named, the new bytes are delivered once', async (t) => {
  const { root, crashes, gate, repo, s, stopObserving, counts } = await startWithHeldCopy(t);
  const before = generateRaw({ roi: '1k', seq: 1, object: 'version A' });
  const after = generateRaw({ roi: '1k', seq: 1, object: 'version B' });
  assert.equal(before.bytes.length, after.bytes.length);
  const path = rawPath(root, before.name);
  const stamp = new Date('2026-01-15T10:00:00Z');
  await writeFile(path, before.bytes);
  await utimes(path, stamp, stamp);
  const done = nextEvent(s.service, 'delivery:done');
  await s.send(`proc /home/data/${before.name}`);
  await gate.reached;
  // Another file put under the name (new inode, ctime): size and mtime alone cannot tell.
  await writeFile(`${path}.new`, after.bytes);
  await utimes(`${path}.new`, stamp, stamp);
  await rename(`${path}.new`, path);
  gate.release();
  await done;
  await s.service.idle();

  assert.deepEqual(crashes, []);
  assert.ok(s.log.messages('info').some((m) => m.startsWith(`${before.name}: changed while it was processed`)), s.log.lines.join('\n'));
  assert.deepEqual([...counts.entries()], [[before.name, 1]], 'delivered once');
  const bytes = await readFile(join(repo, before.name));
  assert.ok(bytes.includes(Buffer.from("'version B'")) && !bytes.includes(Buffer.from("'version A'")), 'made from the new file');
  assert.deepEqual((await stopObserving()).bad, []);
  assert.deepEqual(await tempsIn(repo), [], 'the abandoned copy was removed');
  assert.deepEqual(await tempsIn(join(root, 'proc', '20260115')), [], 'and the processed temporary');
});
