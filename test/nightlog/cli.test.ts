import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatNightLogLine, nightLogHeaderLine } from '../../src/nightlog/index.js';
import type { SimulateOptions } from '../../src/simulate/index.js';
import { runCli } from '../helpers/cli.js';
import { generateAndProcess } from '../helpers/processing.js';
import { tempDir } from '../helpers/temp.js';


const DATE = '20260115';

interface Night {
  procDir: string;
  nightDir: string;
  /** Expected log lines per instrument, in log order. */
  lines: Record<string, string[]>;
}

/**
 * A night folder `<procDir>/20260115/` with processed files under their delivered names:
 * three mods1b files whose sequence order differs from their time order, two mods1r files, a
 * delivery's temporary file and a text file (both to be ignored).
 */
async function night(t: Parameters<typeof tempDir>[0]): Promise<Night> {
  const dir = await tempDir(t);
  const procDir = join(dir, 'proc');
  const nightDir = join(procDir, DATE);
  await mkdir(nightDir, { recursive: true });
  const sims: SimulateOptions[] = [
    { seq: 1, object: 'SDSS J0841+2042', utcStart: '2026-01-15T04:30:00.000Z', exptimeS: 900 },
    { seq: 2, object: 'Feige 34', imageType: 'std', utcStart: '2026-01-15T02:10:00.000Z', exptimeS: 30 },
    { seq: 3, object: 'Arc lamps', imageType: 'comp', utcStart: '2026-01-15T03:00:00.000Z', exptimeS: 5.25 },
    { instrument: 'mods1r', seq: 1, object: 'SDSS J0841+2042', utcStart: '2026-01-15T04:30:00.000Z', exptimeS: 900 },
    { instrument: 'mods1r', seq: 2, imageType: 'bias', utcStart: '2026-01-15T01:00:00.000Z', exptimeS: 0 },
  ];
  const delivered: Array<{ instrument: string; time: string; line: string }> = [];
  for (const sim of sims) {
    const p = await generateAndProcess(dir, { roi: '1k', bin: '2x2', ...sim });
    await copyFile(p.outPath, join(nightDir, p.raw.name));
    delivered.push({ instrument: p.raw.options.channel.instrument, time: sim.utcStart!, line: formatNightLogLine(p.hdus[0]!.header) });
  }
  await writeFile(join(nightDir, '.mods1b.20260115.0004.fits.part-0123456789ab'), 'half a file');
  await writeFile(join(nightDir, 'notes.txt'), 'not a FITS file');
  const lines: Record<string, string[]> = {};
  for (const d of delivered.sort((a, b) => (a.time < b.time ? -1 : 1))) (lines[d.instrument] ??= []).push(d.line);
  return { procDir, nightDir, lines };
}

const logText = (lines: string[]) => [nightLogHeaderLine(), ...lines].map((l) => `${l}\n`).join('');

test('nightlog DATE --from DIR --out DIR writes one log per instrument, sorted by time', async (t) => {
  const n = await night(t);
  const out = join(n.procDir, 'logs');
  const run = await runCli(['nightlog', DATE, '--from', n.nightDir, '--out', out]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(run.stdout, `OK ${join(out, '20260115_mods1b.txt')}: 3 files\nOK ${join(out, '20260115_mods1r.txt')}: 2 files\n`);
  assert.deepEqual((await readdir(out)).sort(), ['20260115_mods1b.txt', '20260115_mods1r.txt']);
  assert.equal(await readFile(join(out, '20260115_mods1b.txt'), 'latin1'), logText(n.lines.MODS1B!));
  assert.equal(await readFile(join(out, '20260115_mods1r.txt'), 'latin1'), logText(n.lines.MODS1R!));
  // Time order, not sequence order: the standard (0002) first.
  assert.match(n.lines.MODS1B![0]!, /^ENGINEERING {10}BLUE STD {5}Feige 34 /);
});

test('nightlog --config reads <procDir>/<date> and writes to <procDir>/nightlogs; --instrument picks one', async (t) => {
  const n = await night(t);
  const config = join(n.procDir, '..', 'dataman.yaml');
  await writeFile(config, `server: {ipAddr: 127.0.0.1, ipPort: 10301}\npaths: {dataDir: data, procDir: proc, repoDir: newdata, logDir: log}\n`);
  const run = await runCli(['nightlog', DATE, '--config', config, '--instrument', 'MODS1R']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const logs = join(n.procDir, 'nightlogs');
  assert.deepEqual(await readdir(logs), ['20260115_mods1r.txt']);
  assert.equal(await readFile(join(logs, '20260115_mods1r.txt'), 'latin1'), logText(n.lines.MODS1R!));
});

test('nightlog reports an unreadable file, still writes the logs and exits 1', async (t) => {
  const n = await night(t);
  await writeFile(join(n.nightDir, 'mods1b.20260115.0009.fits'), 'This is bad data');
  const out = join(n.procDir, 'logs');
  const run = await runCli(['nightlog', DATE, '--from', n.nightDir, '--out', out]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /^FAIL .*mods1b\.20260115\.0009\.fits, HDU 0.*SIMPLE/m);
  assert.equal(await readFile(join(out, '20260115_mods1b.txt'), 'latin1'), logText(n.lines.MODS1B!));
});

test('nightlog usage errors exit 2 and name the problem; an empty night exits 1', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string[], RegExp]> = [
    [['nightlog', '2026-01-15', '--from', dir, '--out', dir], /YYYYMMDD calendar date, got "2026-01-15"/],
    [['nightlog', DATE], /--config FILE .* or --from DIR/],
    [['nightlog', DATE, '--from', dir], /--out DIR/],
    [['nightlog', DATE, '--from', dir, '--out', dir, '--instrument', 'lucifer'], /unknown instrument "lucifer"/],
    [['nightlog', DATE, '--from', join(dir, 'nope'), '--out', dir], /no folder .*nope/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, message);
  }
  const empty = await runCli(['nightlog', DATE, '--from', dir, '--out', join(dir, 'logs')]);
  assert.equal(empty.code, 1);
  assert.match(empty.stdout, /^FAIL no processed MODS files for 20260115 in /);
});
