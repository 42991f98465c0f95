/**
 * The night after an outage (issue #19): raw files waiting when the service starts, as a child
 * process. Every value `<CHAN>.new` takes is recorded; it must never name an earlier exposure
 * than it named before (behaviour.md §6 step 3), also across a kill in the middle of the
 * catch-up, and must end on the newest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeRaw } from '../../src/simulate/index.js';
import { openLedger } from '../../src/service/ledger/ledger.js';
import { systemClock } from '../../src/base/clock.js';
import { tempDir } from '../helpers/temp.js';
import { makeFolders, serviceConfigText } from '../helpers/service.js';
import { startChild, type ServiceChild } from '../helpers/service-child.js';

/**
 * Exposure start (minutes after 03:00 UTC) of sequence 1, 2, …: neither the name order nor the
 * mtime order (below) is the exposure order. Sequence 3 is the newest.
 */
const MINUTES = [4, 1, 9, 2, 7, 3, 5];
/** Minutes before now of each file's mtime: another order again. */
const MTIME_AGO = [30, 50, 40, 10, 60, 20, 70];
const NEWEST = 'mods1b.20260210.0003.fits';

async function backlog(root: string): Promise<Map<string, number>> {
  await makeFolders(root);
  const starts = new Map<string, number>();
  for (const [i, minute] of MINUTES.entries()) {
    const utcStart = `2026-02-10T03:${String(minute).padStart(2, '0')}:00.000Z`;
    const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', bin: '4x4', obsDate: '20260210', seq: i + 1, seed: i, utcStart });
    const mtime = new Date(Date.now() - MTIME_AGO[i]! * 60_000);
    await utimes(raw.path, mtime, mtime);
    starts.set(raw.name, Date.parse(utcStart));
  }
  return starts;
}

/** Records every name the pointer holds, polled every few ms, until stopped. */
function recordPointer(pointer: string): { values: string[]; stop(): Promise<string[]> } {
  const values: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const name = await readFile(pointer, 'utf8').then((t) => t.trim(), () => undefined);
      if (name !== undefined && values.at(-1) !== name) values.push(name);
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  return { values, stop: async () => { running = false; await loop; return values; } };
}

async function allDelivered(run: ServiceChild, count: number): Promise<void> {
  await run.until((out) => (out.match(/Done: mods1b\.\S+ processed and archived/g) ?? []).length >= count);
}

async function deliveredInLedger(root: string, count: number, run: ServiceChild): Promise<void> {
  const ledger = openLedger(join(root, 'state'), { clock: systemClock });
  try {
    for (let i = 0; i < 600 && ledger.countsByState().byState.delivered !== count; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(ledger.countsByState().byState.delivered, count, run.output());
  } finally {
    ledger.close();
  }
}

function assertNeverBack(values: string[], starts: Map<string, number>, what: string): void {
  const times = values.map((name) => {
    const t = starts.get(name);
    assert.ok(t !== undefined, `the pointer named ${name}, not a backlog file`);
    return t;
  });
  for (let i = 1; i < times.length; i++) {
    assert.ok(times[i]! >= times[i - 1]!, `${what}: the pointer went back from ${values[i - 1]} to ${values[i]} (values: ${values.join(', ')})`);
  }
  assert.equal(values.at(-1), NEWEST, `${what}: the pointer ends on the newest exposure (values: ${values.join(', ')})`);
}

test('a backlog at start: the pointer only moves forward in exposure time and ends on the newest', async (t) => {
  const root = await tempDir(t);
  const starts = await backlog(root);
  const configPath = join(root, 'dataman.yaml');
  await writeFile(configPath, serviceConfigText(root));
  const pointer = recordPointer(join(root, 'newdata', 'MODS1B.new'));
  const run = startChild(configPath);
  t.after(() => { run.child.kill('SIGKILL'); });
  await run.ready;
  await allDelivered(run, MINUTES.length);
  run.child.kill('SIGTERM');
  await once(run.child, 'exit');
  const values = await pointer.stop();
  assertNeverBack(values, starts, 'one run');
  const repo = (await readdir(join(root, 'newdata'))).filter((n) => n.endsWith('.fits'));
  assert.deepEqual(repo.sort(), [...starts.keys()].sort(), 'every backlog file delivered once');
  // Each delivery that left the pointer says so, naming both files.
  const kept = run.output().match(/MODS1B\.new not moved: .*/g) ?? [];
  const moved = run.output().match(/Updated \S+MODS1B\.new/g) ?? [];
  assert.equal(kept.length + moved.length, MINUTES.length, run.output());
  assert.ok(kept.length > 0, 'the scrambled backlog has earlier exposures after later ones');
  for (const line of kept) assert.match(line, /mods1b\.20260210\.\d{4}\.fits \(DATE-OBS 2026-02-10T03:0\d:00[.0-9]*, sequence \d\) is an earlier exposure than mods1b\.20260210\.\d{4}\.fits \(DATE-OBS/);
});

test('killed in the middle of the catch-up and started again: the pointer never goes back and ends on the newest', async (t) => {
  const root = await tempDir(t);
  const starts = await backlog(root);
  const configPath = join(root, 'dataman.yaml');
  await writeFile(configPath, serviceConfigText(root));
  const pointer = recordPointer(join(root, 'newdata', 'MODS1B.new'));
  const first = startChild(configPath);
  t.after(() => { first.child.kill('SIGKILL'); });
  await first.ready;
  // Killed once two files are delivered, with the rest of the backlog still to come.
  await allDelivered(first, 2);
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  const beforeRestart = pointer.values.length;
  assert.ok(beforeRestart > 0, 'the first run moved the pointer');

  const second = startChild(configPath);
  t.after(() => { second.child.kill('SIGKILL'); });
  await second.ready;
  await deliveredInLedger(root, MINUTES.length, second);
  second.child.kill('SIGTERM');
  await once(second.child, 'exit');
  const values = await pointer.stop();
  assertNeverBack(values, starts, 'across the restart');
  const repo = (await readdir(join(root, 'newdata'))).filter((n) => n.endsWith('.fits'));
  assert.deepEqual(repo.sort(), [...starts.keys()].sort(), 'every backlog file delivered once');
});
