import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Header, memorySink, writeFits, type Card } from '../../src/fits/index.js';
import {
  appendNightLog, formatNightLogLine, nightLogFileName, nightLogHeaderLine, NightLogError, readPrimaryHeader, rebuildNightLog,
} from '../../src/nightlog/index.js';
import { tempDir } from '../helpers/temp.js';
import { primaryHeader } from '../helpers/small-fits.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HEADER_LINE = `${nightLogHeaderLine()}\n`;

function header(cards: Record<string, string | number>): Header {
  const h = new Header();
  for (const [keyword, value] of Object.entries(cards)) {
    h.push({ keyword, kind: typeof value === 'string' ? 'string' : 'real', value, comment: undefined } satisfies Card);
  }
  return h;
}

/** A header-only FITS file standing in for a processed file (the log reads primary headers only). */
async function fitsFile(dir: string, name: string, cards: Record<string, string | number>): Promise<string> {
  const extra = Object.entries(cards).map(([keyword, value]): Card => (
    { keyword, kind: typeof value === 'string' ? 'string' : 'real', value, comment: undefined }));
  const sink = memorySink();
  await writeFits(sink, [{ header: primaryHeader(extra) }]);
  const path = join(dir, name);
  await writeFile(path, sink.bytes());
  return path;
}

test('night logs are named <YYYYMMDD>_<instrument lower-case>.txt; other names are refused', () => {
  assert.equal(nightLogFileName('MODS1B', '20260115'), '20260115_mods1b.txt');
  assert.equal(nightLogFileName('mods2r', '20251231'), '20251231_mods2r.txt');
  assert.throws(() => nightLogFileName('../etc', '20260115'), (err: unknown) => err instanceof NightLogError && err.code === 'nightlog-bad-instrument');
  assert.throws(() => nightLogFileName('MODS1B', '20260230'), (err: unknown) => err instanceof NightLogError && err.code === 'nightlog-bad-date');
});

test('the first append creates the folder and the log with its header line; later ones add one line each', async (t) => {
  const dir = await tempDir(t);
  const folder = join(dir, 'logs', 'nested');
  const a = header({ OBJECT: 'first', EXPTIME: 10 });
  const b = header({ OBJECT: 'second', EXPTIME: 20 });
  const path = await appendNightLog(folder, 'MODS1B', '20260115', a);
  assert.equal(path, join(folder, '20260115_mods1b.txt'));
  assert.equal(await readFile(path, 'latin1'), `${HEADER_LINE}${formatNightLogLine(a)}\n`);
  await appendNightLog(folder, 'MODS1B', '20260115', b);
  assert.equal(await readFile(path, 'latin1'), `${HEADER_LINE}${formatNightLogLine(a)}\n${formatNightLogLine(b)}\n`);
  await appendNightLog(folder, 'MODS1R', '20260115', b);
  assert.deepEqual((await readdir(folder)).sort(), ['20260115_mods1b.txt', '20260115_mods1r.txt']);
});

/** Every line whole: the header exactly once and first, then each expected line exactly once. */
function assertWholeLines(text: string, expected: string[]): void {
  assert.ok(text.endsWith('\n'), 'the file ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  assert.equal(lines[0], nightLogHeaderLine(), 'the header line comes first');
  assert.equal(lines.filter((l) => l === nightLogHeaderLine()).length, 1, 'one header line');
  assert.deepEqual(lines.slice(1).sort(), [...expected].sort());
}

test('concurrent appends to a new log never interleave and write the header line once', async (t) => {
  const dir = await tempDir(t);
  const headers = Array.from({ length: 40 }, (_, i) => header({ OBJECT: `target ${i}`, FILENAME: `mods1b.20260115.${String(i + 1).padStart(4, '0')}.fits`, EXPTIME: i }));
  await Promise.all(headers.map((h) => appendNightLog(dir, 'MODS1B', '20260115', h)));
  assertWholeLines(await readFile(join(dir, '20260115_mods1b.txt'), 'latin1'), headers.map(formatNightLogLine));
  assert.deepEqual(await readdir(dir), ['20260115_mods1b.txt'], 'no temporary file is left');
});

const CHILD = String.raw`
import { appendNightLog } from ${JSON.stringify(join(ROOT, 'src/nightlog/index.ts'))};
import { Header } from ${JSON.stringify(join(ROOT, 'src/fits/index.ts'))};
const [folder, writer, count] = process.argv.slice(2);
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  await Promise.all(Array.from({ length: Number(count) }, (_, i) => {
    const h = new Header();
    h.push({ keyword: 'OBJECT', kind: 'string', value: 'writer ' + writer + ' line ' + i, comment: undefined });
    return appendNightLog(folder, 'MODS2B', '20260116', h);
  }));
  process.stdin.destroy();
});
`;

test('appenders in several processes, released at once, leave whole lines and one header line', async (t) => {
  const dir = await tempDir(t);
  const script = join(dir, 'child.mts');
  await writeFile(script, CHILD);
  const folder = join(dir, 'logs');
  const writers = 4;
  const count = 30;
  const children = Array.from({ length: writers }, (_, w) => spawn(process.execPath, ['--import', 'tsx', script, folder, String(w), String(count)], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'],
  }));
  // Wait until every child has loaded, then release them all together.
  await Promise.all(children.map((c) => once(c.stdout, 'data')));
  const exits = children.map((c) => once(c, 'exit'));
  for (const c of children) c.stdin.write('go\n');
  const codes = (await Promise.all(exits)).map(([code]) => code as number);
  assert.deepEqual(codes, Array(writers).fill(0));
  const expected: string[] = [];
  for (let w = 0; w < writers; w++) {
    for (let i = 0; i < count; i++) {
      const h = new Header();
      h.push({ keyword: 'OBJECT', kind: 'string', value: `writer ${w} line ${i}`, comment: undefined });
      expected.push(formatNightLogLine(h));
    }
  }
  assertWholeLines(await readFile(join(folder, '20260116_mods2b.txt'), 'latin1'), expected);
});

test('rebuild sorts by DATE-OBS, then file name, and replaces the log atomically', async (t) => {
  const dir = await tempDir(t);
  const files = [
    await fitsFile(dir, 'mods1b.20260115.0003.fits', { 'DATE-OBS': '2026-01-15T03:00:00.000', OBJECT: 'earliest, highest number' }),
    await fitsFile(dir, 'mods1b.20260115.0001.fits', { 'DATE-OBS': '2026-01-15T04:00:00.000', OBJECT: 'tie, lower name' }),
    await fitsFile(dir, 'mods1b.20260115.0002.fits', { 'DATE-OBS': '2026-01-15T04:00:00.000', OBJECT: 'tie, higher name' }),
    await fitsFile(dir, 'mods1b.20260115.0000.fits', { OBJECT: 'no DATE-OBS: last' }),
    await fitsFile(dir, 'mods1b.20260115.0004.fits', { 'DATE-OBS': '2026-01-15T05:00:00.000', OBJECT: 'latest' }),
  ];
  const logs = join(dir, 'logs');
  const path = await appendNightLog(logs, 'MODS1B', '20260115', header({ OBJECT: 'a line the rebuild replaces' }));
  // A reader that has the old log open keeps reading the old, complete file.
  const reader = await open(path, 'r');
  t.after(() => reader.close());
  const before = await readFile(path, 'latin1');

  const result = await rebuildNightLog(logs, 'MODS1B', '20260115', files);
  assert.equal(result.path, path);
  assert.equal(result.lines, 5);
  assert.deepEqual(result.skipped, []);
  const objects = (await readFile(path, 'latin1')).split('\n').slice(1, -1).map((l) => l.slice(34, 74).trim());
  assert.deepEqual(objects, ['earliest, highest number', 'tie, lower name', 'tie, higher name', 'latest', 'no DATE-OBS: last']);
  assert.equal((await reader.readFile({ encoding: 'latin1' })), before);
  assert.deepEqual(await readdir(logs), ['20260115_mods1b.txt'], 'no temporary file is left');
});

test('rebuild leaves out a file it cannot read, says why, and still writes the log', async (t) => {
  const dir = await tempDir(t);
  const good = await fitsFile(dir, 'mods1r.20260115.0001.fits', { 'DATE-OBS': '2026-01-15T03:00:00.000', OBJECT: 'good' });
  const bad = join(dir, 'mods1r.20260115.0002.fits');
  await writeFile(bad, 'This is bad data');
  const missing = join(dir, 'mods1r.20260115.0003.fits');
  const result = await rebuildNightLog(join(dir, 'logs'), 'MODS1R', '20260115', [good, bad, missing]);
  assert.equal(result.lines, 1);
  assert.deepEqual(result.skipped.map((s) => s.file), [bad, missing]);
  assert.match(result.skipped[0]!.error.message, /SIMPLE/);
  assert.equal((await readFile(result.path, 'latin1')).split('\n').length, 3);
});

test('appending files one by one in time order gives the same log as a rebuild', async (t) => {
  const dir = await tempDir(t);
  const entries: Array<{ name: string; cards: Record<string, string | number> }> = [
    { name: 'mods2r.20260115.0001.fits', cards: { 'DATE-OBS': '2026-01-15T01:00:00.000', OBJECT: 'one', AIRMASS: 1.005, POSANGLE: -45.25 } },
    { name: 'mods2r.20260115.0002.fits', cards: { 'DATE-OBS': '2026-01-15T02:00:00.000', OBJECT: 'two', EXPTIME: 300 } },
  ];
  for (const e of entries) {
    const path = await fitsFile(dir, e.name, e.cards);
    await appendNightLog(join(dir, 'appended'), 'MODS2R', '20260115', await readPrimaryHeader(path));
  }
  const rebuilt = await rebuildNightLog(join(dir, 'rebuilt'), 'MODS2R', '20260115', entries.map((e) => join(dir, e.name)));
  assert.equal(
    await readFile(join(dir, 'appended', '20260115_mods2r.txt'), 'latin1'),
    await readFile(rebuilt.path, 'latin1'),
  );
});
