import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock, sleep } from '../../src/base/clock.js';
import { confirmSettled, LookAgain, lookAt, waitUntilReady, type Look, type Readiness } from '../../src/service/discovery/readiness.js';
import { BadHeaderError } from '../../src/fits/index.js';
import { tempDir } from '../helpers/temp.js';
import { imageHdu, primaryHeader, tableHdu } from '../helpers/small-fits.js';
import { memorySink, writeFits } from '../../src/fits/index.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Drives `waitUntilReady` with a scripted sequence of looks on a manual clock. */
async function drive(looks: Look[], options: Partial<Parameters<typeof waitUntilReady>[1]> = {}, stepMs = 100): Promise<{ result: Readiness; elapsedMs: number; calls: number }> {
  const clock = new ManualClock(0);
  let calls = 0;
  const look = async () => looks[Math.min(calls++, looks.length - 1)]!;
  let result: Readiness | undefined;
  const done = waitUntilReady('/raw/mods1b.20260115.0001.fits', {
    clock, settleMs: 500, pollMs: 1000, noConparsGraceMs: 15_000, incompleteTimeoutMs: 120_000, look, ...options,
  }).then((r) => { result = r; });
  for (let i = 0; i < 10_000 && result === undefined; i++) {
    await flush();
    clock.advance(stepMs);
  }
  await done;
  return { result: result!, elapsedMs: clock.now(), calls };
}


const complete = (size = 100, mtimeMs = 1): Look => ({ state: 'complete', size, mtimeMs });
const incomplete = (size: number): Look => ({ state: 'incomplete', size, mtimeMs: size, reason: `file is ${1000 - size} bytes short` });

test('a complete file is ready once its size and mtime held still over the settle interval', async () => {
  const { result, calls } = await drive([complete(), complete()]);
  assert.deepEqual(result, { status: 'ready', size: 100, mtimeMs: 1, conpars: true, warnings: [], settled: true });
  assert.equal(calls, 2);
});

test('with early readiness, the first complete look is returned unsettled', async () => {
  const { result, calls } = await drive([incomplete(10), complete(100, 7)], { early: true });
  assert.deepEqual(result, { status: 'ready', size: 100, mtimeMs: 7, conpars: true, warnings: [], settled: false });
  assert.equal(calls, 2);
});

test('confirmSettled waits for the settle timer, whatever the wall clock does, then compares size and mtime', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'mods1b.20260115.0001.fits');
  await writeFile(path, 'x'.repeat(2880));
  const info = await stat(path);
  const clock = new ManualClock(0);
  const heldStill = sleep(clock, 500);
  let answer: boolean | undefined;
  const confirming = confirmSettled(path, { size: info.size, mtimeMs: info.mtimeMs, heldStill }).then((ok) => { answer = ok; });
  clock.set(3 * 3_600_000); // the wall clock stepped forwards by 3 h: no timer is due
  for (let i = 0; i < 20; i++) await flush();
  assert.equal(answer, undefined, 'still waiting for the settle interval');
  clock.advance(500);
  await confirming;
  assert.equal(answer, true);

  await appendFile(path, 'y');
  const changed = sleep(clock, 500);
  const pending = confirmSettled(path, { size: info.size, mtimeMs: info.mtimeMs, heldStill: changed });
  clock.advance(500);
  assert.equal(await pending, false, 'a file that grew is not settled');
});

test('a file that still changes after looking complete is not ready until it holds still', async () => {
  const { result, calls } = await drive([complete(100, 1), complete(100, 2), complete(100, 2)]);
  assert.equal(result.status, 'ready');
  assert.equal(calls, 3);
});

test('a growing file is ready only after it is complete and settled', async () => {
  const { result, calls } = await drive([incomplete(10), incomplete(500), complete(1000, 9), complete(1000, 9)]);
  assert.equal(result.status, 'ready');
  assert.equal(calls, 4);
});

test('a whole file without CONPARS is taken after the grace period, with a warning', async () => {
  const noConpars: Look = { state: 'no-conpars', size: 80, mtimeMs: 3 };
  const { result, elapsedMs } = await drive([noConpars]);
  assert.equal(result.status, 'ready');
  assert.ok(result.status === 'ready' && !result.conpars && /no CONPARS table after 15 s/.test(result.warnings[0]!));
  assert.ok(elapsedMs >= 15_000 && elapsedMs < 20_000, `${elapsedMs}`);
});

test('CONPARS appended during the grace period makes the file complete without a warning', async () => {
  const noConpars: Look = { state: 'no-conpars', size: 80, mtimeMs: 3 };
  const { result } = await drive([noConpars, noConpars, noConpars, complete(120, 4), complete(120, 4)]);
  assert.deepEqual(result, { status: 'ready', size: 120, mtimeMs: 4, conpars: true, warnings: [], settled: true });
});

test('a file still incomplete after the timeout has failed, with the reason', async () => {
  const { result, elapsedMs } = await drive([incomplete(10)], {}, 1000);
  assert.equal(result.status, 'failed');
  assert.ok(result.status === 'failed' && result.code === 'incomplete-timeout' && /still incomplete after 120 s: file is 990 bytes short/.test(result.reason));
  assert.ok(elapsedMs >= 120_000 && elapsedMs <= 122_000, `${elapsedMs}`);
});

test('a broken file that holds still fails at once; one that still changes is waited for', async () => {
  const error = new BadHeaderError('extension header does not start with XTENSION', { path: '/raw/x.fits', hduIndex: 1 });
  const broken = (size: number): Look => ({ state: 'broken', size, mtimeMs: size, error });
  const still = await drive([broken(5), broken(5)]);
  assert.deepEqual(still.result, { status: 'failed', code: 'fits-bad-header', reason: error.message });
  const changing = await drive([broken(5), broken(6), complete(7, 7), complete(7, 7)]);
  assert.equal(changing.result.status, 'ready');
});

test('a file that disappears is gone, and an abort stops the wait', async () => {
  assert.deepEqual((await drive([incomplete(1), { state: 'gone' }])).result, { status: 'gone' });
  const controller = new AbortController();
  controller.abort();
  assert.deepEqual((await drive([incomplete(1)], { signal: controller.signal })).result, { status: 'aborted' });
});

test('lookAt follows a real file as azcam writes it: partial, five HDUs, then CONPARS', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'mods1b.20260115.0001.fits');
  assert.deepEqual(await lookAt(path), { state: 'gone' });
  const sink = memorySink();
  await writeFits(sink, [{ header: primaryHeader() }, imageHdu(40, 8, 'IM1'), imageHdu(40, 8, 'IM2'), imageHdu(40, 8, 'IM3'), imageHdu(40, 8, 'IM4')]);
  const five = sink.bytes();
  await writeFile(path, five.subarray(0, 4000));
  assert.equal((await lookAt(path)).state, 'incomplete');
  await writeFile(path, five.subarray(0, 2880 * 3));
  const between = await lookAt(path);
  assert.ok(between.state === 'incomplete' && /no IM2, IM3, IM4 yet/.test(between.reason), JSON.stringify(between));
  await writeFile(path, five);
  assert.equal((await lookAt(path)).state, 'no-conpars');
  const conpars = memorySink();
  await writeFits(conpars, [tableHdu([['MOD10/TEMPA', '-106.0']])]);
  await appendFile(path, conpars.bytes().subarray(0, 2880));
  assert.equal((await lookAt(path)).state, 'incomplete');
  await writeFile(path, Buffer.concat([five, conpars.bytes()]));
  assert.equal((await lookAt(path)).state, 'complete');
  await writeFile(path, 'This is bad data');
  assert.equal((await lookAt(path)).state, 'broken');
});

test('a trigger while a file waits to be complete has it looked at again at once, not at the next poll', async () => {
  const clock = new ManualClock(0);
  const lookAgain = new LookAgain();
  const looks: Look[] = [incomplete(10), complete(1000, 9)];
  let calls = 0;
  const look = async () => looks[Math.min(calls++, looks.length - 1)]!;
  let result: Readiness | undefined;
  const done = waitUntilReady('/raw/mods1b.20260115.0001.fits', {
    clock, settleMs: 500, pollMs: 1000, noConparsGraceMs: 15_000, incompleteTimeoutMs: 120_000, look, early: true, lookAgain,
  }).then((r) => { result = r; });
  for (let i = 0; i < 20; i++) await flush();
  assert.equal(calls, 1, 'looked once, now waiting for the next poll');
  lookAgain.now();
  await done;
  assert.equal(clock.now(), 0, 'no time passed');
  assert.deepEqual(result, { status: 'ready', size: 1000, mtimeMs: 9, conpars: true, warnings: [], settled: false });
});

test('a trigger between two waits cuts the next one short', async () => {
  const clock = new ManualClock(0);
  const lookAgain = new LookAgain();
  lookAgain.now();
  assert.equal(await lookAgain.wait(clock, 1000), false);
  const full = lookAgain.wait(clock, 1000);
  clock.advance(1000);
  assert.equal(await full, true);
});

test('a file that held still only over a wait cut short is not taken as settled, nor as broken', async () => {
  const clock = new ManualClock(0);
  const lookAgain = new LookAgain();
  const broken: Look = { state: 'broken', size: 5, mtimeMs: 1, error: new BadHeaderError('bad card') };
  let calls = 0;
  const look = async () => { calls++; return broken; };
  let result: Readiness | undefined;
  const done = waitUntilReady('/raw/mods1b.20260115.0001.fits', {
    clock, settleMs: 500, pollMs: 1000, noConparsGraceMs: 15_000, incompleteTimeoutMs: 120_000, look, early: true, lookAgain,
  }).then((r) => { result = r; });
  for (let i = 0; i < 20; i++) await flush();
  lookAgain.now();
  for (let i = 0; i < 20; i++) await flush();
  assert.equal(calls, 2, 'looked again at once');
  assert.equal(result, undefined, 'the same look after no real wait proves nothing');
  clock.advance(1000);
  await done;
  assert.equal((result as Readiness | undefined)?.status, 'failed', 'after a whole wait, still broken: failed');
  assert.equal(calls, 3);
});

test('triggers as frequent as they come cannot stop the incomplete timeout or the CONPARS grace period', async () => {
  for (const [looks, expected] of [
    [[incomplete(10)], 'failed'],
    [[{ state: 'no-conpars', size: 80, mtimeMs: 3 } as Look], 'ready'],
  ] as const) {
    const clock = new ManualClock(0);
    const lookAgain = new LookAgain();
    let result: Readiness | undefined;
    const done = waitUntilReady('/raw/mods1b.20260115.0001.fits', {
      clock, settleMs: 500, pollMs: 1000, noConparsGraceMs: 5_000, incompleteTimeoutMs: 10_000, look: async () => looks[0], early: true, lookAgain,
    }).then((r) => { result = r; });
    for (let i = 0; i < 2000 && result === undefined; i++) {
      lookAgain.now(); // a sender repeating `proc` every 100 ms
      await flush();
      clock.advance(100);
    }
    await done;
    assert.equal(result?.status, expected);
    assert.ok(clock.now() <= 25_000, `ended at ${clock.now()} ms`);
    assert.equal(clock.pendingTimers, 0, 'no timer left behind');
  }
});
