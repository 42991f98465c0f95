import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/base/clock.js';
import { createLogger, formatLogLine, logFileName, memoryLogger, type TextSink } from '../../src/ops/logger.js';
import { tempDir } from '../helpers/temp.js';

const ARIZONA = 'America/Phoenix';
/** 2026-01-14 21:12:33.456 MST = 2026-01-15 04:12:33.456 UTC: observing date 20260115. */
const EVENING = Date.UTC(2026, 0, 15, 4, 12, 33, 456);

function capture(): TextSink & { text: () => string; lines: () => string[] } {
  const chunks: string[] = [];
  return {
    write: (s: string) => chunks.push(s),
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter((l) => l !== ''),
  };
}

function setup(dir: string, extra: { debug?: boolean; console?: boolean; clock?: ManualClock; logDir?: string } = {}) {
  const clock = extra.clock ?? new ManualClock(EVENING);
  const stdout = capture();
  const stderr = capture();
  const logger = createLogger({
    logDir: extra.logDir ?? dir, hostName: 'mods1.lbto.org', debug: extra.debug ?? false, clock, timeZone: ARIZONA,
    console: extra.console ?? false, stdout, stderr,
  });
  return { clock, stdout, stderr, logger };
}

describe('log line format', () => {
  test('a line is "YYYY-MM-DD hh:mm:ss,mmm | LEVEL | message" in local time', () => {
    assert.equal(formatLogLine(EVENING, 'info', 'Processing mods1b.20260115.0001.fits...', ARIZONA),
      '2026-01-14 21:12:33,456 | INFO | Processing mods1b.20260115.0001.fits...');
    assert.equal(formatLogLine(Date.UTC(2026, 0, 1, 0, 0, 0, 7), 'warn', 'w', 'UTC'), '2026-01-01 00:00:00,007 | WARNING | w');
    assert.equal(formatLogLine(EVENING, 'error', 'e', 'UTC'), '2026-01-15 04:12:33,456 | ERROR | e');
    assert.equal(formatLogLine(EVENING, 'debug', 'd', 'UTC'), '2026-01-15 04:12:33,456 | DEBUG | d');
  });

  test('the file is named after the first five characters of the host and the observing date', () => {
    assert.equal(logFileName('mods1.lbto.org', '20260115'), 'mods1dm.20260115.txt');
    assert.equal(logFileName('mods2', '20260115'), 'mods2dm.20260115.txt');
  });
});

describe('createLogger', () => {
  test('writes the reference line format into <logDir>/<host[:5]>dm.<obsDate>.txt', async (t) => {
    const dir = await tempDir(t);
    const { logger } = setup(dir);
    logger.info('Started MODS1 dataMan server');
    logger.warn('mods1b.20260115.0001.fits processing had 1 error(s)');
    logger.error('proc: /data/mods1b/mods1b.20260115.0002.fits not found');
    await logger.close();
    assert.deepEqual(await readdir(dir), ['mods1dm.20260115.txt']);
    assert.equal(await readFile(join(dir, 'mods1dm.20260115.txt'), 'utf8'), [
      '2026-01-14 21:12:33,456 | INFO | Started MODS1 dataMan server',
      '2026-01-14 21:12:33,456 | WARNING | mods1b.20260115.0001.fits processing had 1 error(s)',
      '2026-01-14 21:12:33,456 | ERROR | proc: /data/mods1b/mods1b.20260115.0002.fits not found',
      '',
    ].join('\n'));
  });

  test('a line is in the file as soon as the call returns', async (t) => {
    const dir = await tempDir(t);
    const { logger } = setup(dir);
    logger.info('one');
    assert.match(await readFile(join(dir, 'mods1dm.20260115.txt'), 'utf8'), /\| INFO \| one\n$/);
    assert.equal(logger.currentFile(), join(dir, 'mods1dm.20260115.txt'));
    await logger.close();
  });

  test('appends to the file of the same observing date after a restart', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'mods1dm.20260115.txt');
    await writeFile(file, 'earlier line\n');
    const { logger } = setup(dir);
    logger.info('Started MODS1 dataMan server');
    await logger.close();
    assert.equal(await readFile(file, 'utf8'), 'earlier line\n2026-01-14 21:12:33,456 | INFO | Started MODS1 dataMan server\n');
  });

  test('switches to a new file when the clock crosses local noon (the observing date changes)', async (t) => {
    const dir = await tempDir(t);
    const clock = new ManualClock(Date.parse('2026-01-15T11:59:59.999-07:00'));
    const { logger } = setup(dir, { clock });
    logger.info('last of the night of Jan 15');
    clock.advance(1);
    logger.info('first of the night of Jan 16');
    clock.advance(6 * 3_600_000);
    logger.info('evening of Jan 15 local, still the night of Jan 16');
    await logger.close();
    assert.deepEqual((await readdir(dir)).sort(), ['mods1dm.20260115.txt', 'mods1dm.20260116.txt']);
    assert.equal(await readFile(join(dir, 'mods1dm.20260115.txt'), 'utf8'),
      '2026-01-15 11:59:59,999 | INFO | last of the night of Jan 15\n');
    assert.equal(await readFile(join(dir, 'mods1dm.20260116.txt'), 'utf8'), [
      '2026-01-15 12:00:00,000 | INFO | first of the night of Jan 16',
      '2026-01-15 18:00:00,000 | INFO | evening of Jan 15 local, still the night of Jan 16',
      '',
    ].join('\n'));
  });

  test('writes DEBUG lines only when debug is on', async (t) => {
    const dir = await tempDir(t);
    const quiet = setup(join(dir, 'quiet'));
    quiet.logger.debug('received command: proc /home/data/mods1b.20260115.0001.fits');
    quiet.logger.info('Processing mods1b.20260115.0001.fits...');
    assert.equal(quiet.logger.isDebugEnabled(), false);
    await quiet.logger.close();
    const loud = setup(join(dir, 'loud'), { debug: true });
    loud.logger.debug('received command: proc /home/data/mods1b.20260115.0001.fits');
    loud.logger.child('udp').debug('from a child');
    await loud.logger.close();
    const levels = async (d: string) =>
      (await readFile(join(dir, d, 'mods1dm.20260115.txt'), 'utf8')).trimEnd().split('\n').map((l) => l.split(' | ')[1]);
    assert.deepEqual(await levels('quiet'), ['INFO']);
    assert.deepEqual(await levels('loud'), ['DEBUG', 'DEBUG']);
  });

  test('also writes every line to standard output when console is on', async (t) => {
    const dir = await tempDir(t);
    const { logger, stdout } = setup(dir, { console: true });
    logger.info('Started MODS1 dataMan server');
    logger.child({ file: 'mods1b.20260115.0001.fits' }).warn('no CONPARS table');
    await logger.close();
    assert.deepEqual(stdout.lines(), [
      '2026-01-14 21:12:33,456 | INFO | Started MODS1 dataMan server',
      '2026-01-14 21:12:33,456 | WARNING | no CONPARS table',
    ]);
    assert.equal(await readFile(join(dir, 'mods1dm.20260115.txt'), 'utf8'), `${stdout.text()}`);
  });

  test('creates a missing log folder', async (t) => {
    const dir = await tempDir(t);
    const logDir = join(dir, 'home', 'Logs', 'dataMan');
    const { logger } = setup(dir, { logDir });
    logger.info('Started MODS1 dataMan server');
    await logger.close();
    assert.ok(existsSync(join(logDir, 'mods1dm.20260115.txt')));
  });

  test('an unwritable log folder does not throw: reported once on stderr, lines go to standard output', async (t) => {
    const dir = await tempDir(t);
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const { logger, stdout, stderr } = setup(dir, { logDir: join(blocker, 'logs') });
    assert.doesNotThrow(() => {
      logger.info('Started MODS1 dataMan server');
      logger.error('Cannot write mods1b.20260115.0001.fits to /home/data/20260115 - ENOSPC');
      logger.info('third');
    });
    assert.equal(stderr.lines().length, 1);
    assert.match(stderr.text(), /cannot write log file .*not-a-folder\/logs\/mods1dm\.20260115\.txt - ENOTDIR/);
    assert.deepEqual(stdout.lines().map((l) => l.split(' | ')[2]), [
      'Started MODS1 dataMan server', 'Cannot write mods1b.20260115.0001.fits to /home/data/20260115 - ENOSPC', 'third',
    ]);
    await logger.close();
  });

  test('with console on, a failing file does not duplicate lines on standard output', async (t) => {
    const dir = await tempDir(t);
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const { logger, stdout, stderr } = setup(dir, { logDir: blocker, console: true });
    logger.info('a');
    logger.info('b');
    await logger.close();
    assert.deepEqual(stdout.lines().map((l) => l.split(' | ')[2]), ['a', 'b']);
    assert.equal(stderr.lines().length, 1);
  });

  test('the file is tried again a minute after a failure and used once it works', async (t) => {
    const dir = await tempDir(t);
    const logDir = join(dir, 'logs');
    await writeFile(logDir, ''); // a file where the folder should be
    const { logger, clock, stdout, stderr } = setup(dir, { logDir });
    logger.info('while broken');
    await rm(logDir);
    clock.advance(30_000);
    logger.info('still waiting');
    clock.advance(30_000);
    logger.info('working again');
    await logger.close();
    assert.deepEqual(stdout.lines().map((l) => l.split(' | ')[2]), ['while broken', 'still waiting']);
    assert.equal(await readFile(join(logDir, 'mods1dm.20260115.txt'), 'utf8'), '2026-01-14 21:13:33,456 | INFO | working again\n');
    assert.equal(stderr.lines().length, 2);
    assert.match(stderr.lines()[1]!, /writing log file .* again/);
  });

  test('lines logged after close go to standard error, not lost', async (t) => {
    const dir = await tempDir(t);
    const { logger, stderr } = setup(dir);
    await logger.close();
    await logger.close(); // twice is harmless
    logger.warn('late');
    assert.deepEqual(stderr.lines(), ['2026-01-14 21:12:33,456 | WARNING | late']);
  });
});

describe('memoryLogger', () => {
  test('captures messages by level (winston or Python names), lines and scope metadata', () => {
    const clock = new ManualClock(EVENING);
    const { logger, lines, entries, messages, clear } = memoryLogger({ clock });
    logger.info('Processing mods1b.20260115.0001.fits...');
    const job = logger.child({ file: 'mods1b.20260115.0001.fits' }).child('fixTemps');
    job.warn('No INSTRUME keyword found');
    logger.child('service').child('udp').debug('received command: quit');
    assert.deepEqual(messages('warn'), ['No INSTRUME keyword found']);
    assert.deepEqual(messages('WARNING'), ['No INSTRUME keyword found']);
    assert.deepEqual(messages('DEBUG'), ['received command: quit']);
    assert.equal(messages().length, 3);
    assert.equal(lines[0], '2026-01-15 04:12:33,456 | INFO | Processing mods1b.20260115.0001.fits...');
    assert.deepEqual(entries[1]!.meta, { file: 'mods1b.20260115.0001.fits', scope: 'fixTemps' });
    assert.equal(entries[2]!.meta.scope, 'service.udp');
    assert.equal(entries[0]!.epochMs, EVENING);
    clear();
    assert.deepEqual(messages(), []);
  });

  test('leaves DEBUG out when asked to', () => {
    const { logger, messages } = memoryLogger({ debug: false });
    logger.debug('hidden');
    logger.info('shown');
    assert.deepEqual(messages(), ['shown']);
  });
});
