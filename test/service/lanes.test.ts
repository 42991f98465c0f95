/**
 * The lane decisions as tables (jobs/lanes.ts): which lane a file goes to, how
 * `queue.concurrency` divides, which waiting job starts next; and the catch-up order (§2.4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { backgroundMayStart, laneFor, laneShares, LaneQueue, placeInLane, yieldingFs, type Lane, type Ranked } from '../../src/service/jobs/lanes.js';
import { nodeFsPort } from '../../src/service/jobs/deliver.js';
import { tempDir } from '../helpers/temp.js';
import type { LedgerOrigin } from '../../src/service/ledger/ledger.js';
import { catchUpOrder, remainingMs } from '../../src/service/discovery/catch-up.js';

test('laneFor: a file azcam has just written is a new exposure; the catch-up, resumed rows and the drop folder are background', () => {
  const table: Array<[LedgerOrigin, { resumed: boolean; current?: Lane }, Lane]> = [
    ['udp', { resumed: false }, 'fresh'],
    ['watcher', { resumed: false }, 'fresh'],
    ['catchup', { resumed: false }, 'background'],
    ['drop', { resumed: false }, 'background'],
    ['cli', { resumed: false }, 'background'],
    // Left by the last run: nobody is waiting for it now, whatever told us of it then.
    ['udp', { resumed: true }, 'background'],
    ['watcher', { resumed: true }, 'background'],
    ['catchup', { resumed: true }, 'background'],
    // Already being handled: a trigger promotes it; nothing else moves it.
    ['udp', { resumed: false, current: 'background' }, 'fresh'],
    ['watcher', { resumed: false, current: 'background' }, 'background'],
    ['catchup', { resumed: false, current: 'fresh' }, 'fresh'],
    ['drop', { resumed: false, current: 'fresh' }, 'fresh'],
  ];
  for (const [origin, how, lane] of table) assert.equal(laneFor(origin, how), lane, `${origin} ${JSON.stringify(how)}`);
});

test('laneShares: background work never holds every worker', () => {
  const table: Array<[number, { workers: number; fresh: number; background: number }]> = [
    [1, { workers: 2, fresh: 1, background: 1 }],
    [2, { workers: 2, fresh: 2, background: 1 }],
    [3, { workers: 3, fresh: 3, background: 2 }],
    [8, { workers: 8, fresh: 8, background: 7 }],
  ];
  for (const [concurrency, shares] of table) {
    assert.deepEqual(laneShares(concurrency), shares, `concurrency ${concurrency}`);
    assert.ok(shares.background < shares.workers, 'a worker is always left for a new exposure');
  }
});

test('placeInLane: new exposures by priority; background work in the order taken', () => {
  const table: Array<[string, Ranked, number]> = [
    ['a triggered new exposure', { lane: 'fresh', priority: 10, rank: 7 }, 10],
    ['a watcher-found new exposure', { lane: 'fresh', priority: 0, rank: 3 }, 0],
    ['the first background file taken', { lane: 'background', priority: 0, rank: 1 }, -1],
    ['a later one, whatever its priority', { lane: 'background', priority: 5, rank: 9 }, -9],
  ];
  for (const [what, item, place] of table) assert.equal(placeInLane(item), place, what);
  const fresh = (priority: number, rank: number): Ranked => ({ lane: 'fresh', priority, rank });
  assert.ok(placeInLane(fresh(10, 2)) > placeInLane(fresh(0, 1)), 'triggered before watcher-found');
});

test('backgroundMayStart: no background job starts while a new exposure waits or runs, or while held', () => {
  const table: Array<[string, { waiting: number; running: number }, boolean, boolean]> = [
    ['nothing fresh', { waiting: 0, running: 0 }, false, true],
    ['held at start', { waiting: 0, running: 0 }, true, false],
    ['a new exposure runs', { waiting: 0, running: 1 }, false, false],
    ['a new exposure waits', { waiting: 1, running: 2 }, false, false],
    ['held and a new exposure runs', { waiting: 0, running: 1 }, true, false],
  ];
  for (const [what, fresh, held, expected] of table) assert.equal(backgroundMayStart(fresh, held), expected, what);
});

/** Jobs that say when they start and end only when their gate is opened (`gates.get(name)()`). */
function gatedJobs() {
  const events: string[] = [];
  const gates = new Map<string, () => void>();
  const job = (name: string) => () => new Promise<void>((resolve) => {
    events.push(`start ${name}`);
    gates.set(name, () => { events.push(`end ${name}`); resolve(); });
  });
  return { events, gates, job };
}

test('LaneQueue: tells when new exposures start and stop being in flight (the pool holds background processing meanwhile)', async () => {
  const told: boolean[] = [];
  const queue = new LaneQueue(laneShares(2), (busy) => told.push(busy));
  let end!: () => void;
  queue.add({ lane: 'background', priority: 0, rank: 1 }, () => new Promise<void>((resolve) => setTimeout(resolve, 10)));
  assert.deepEqual(told, [], 'background work alone holds nothing');
  queue.add({ lane: 'fresh', priority: 10, rank: 2 }, () => new Promise<void>((resolve) => { end = resolve; }));
  assert.deepEqual(told, [true]);
  end();
  await queue.onIdle();
  assert.deepEqual(told, [true, false]);
});

test('LaneQueue: a trigger moves a waiting background job to the new exposures, which start at once', async () => {
  const queue = new LaneQueue(laneShares(2));
  const { events, gates, job } = gatedJobs();
  const release = queue.holdBackground();
  const b1: Ranked = { lane: 'background', priority: 0, rank: 1 };
  const b2: Ranked = { lane: 'background', priority: 0, rank: 2 };
  queue.add(b1, job('b1'));
  queue.add(b2, job('b2'));
  b2.lane = 'fresh';
  b2.priority = 10;
  queue.reconsider(b2);
  assert.deepEqual(events, ['start b2'], 'promoted: it starts though the background is held');
  release();
  assert.deepEqual(events, ['start b2'], 'no background job while a new exposure runs');
  gates.get('b2')!();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['start b2', 'end b2', 'start b1'], 'b2 ran once, in the fresh lane only');
  gates.get('b1')!();
  await queue.onIdle();
  assert.equal(queue.pending + queue.size, 0);
});

test('LaneQueue: a new exposure starts at once beside the background job; the next background job only after it', async () => {
  const queue = new LaneQueue(laneShares(2));
  const { events, gates, job } = gatedJobs();
  const release = queue.holdBackground();
  queue.add({ lane: 'background', priority: 0, rank: 2 }, job('b2'));
  queue.add({ lane: 'background', priority: 0, rank: 1 }, job('b1'));
  assert.deepEqual(events, [], 'held');
  release();
  assert.deepEqual(events, ['start b1']);
  queue.add({ lane: 'fresh', priority: 10, rank: 3 }, job('f'));
  assert.deepEqual(events, ['start b1', 'start f']);
  gates.get('b1')!();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['start b1', 'start f', 'end b1'], 'b2 waits for the new exposure');
  gates.get('f')!();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events.slice(3), ['end f', 'start b2']);
  const idle = queue.onIdle();
  gates.get('b2')!();
  await idle;
  assert.equal(queue.pending + queue.size, 0);
});

test('catchUpOrder: newest first; equal times by exposure number, then path', () => {
  const files = [
    { path: '/raw/mods1b/mods1b.20260210.0001.fits', mtimeMs: 1000 },
    { path: '/raw/mods1b/mods1b.20260210.0003.fits', mtimeMs: 3000 },
    { path: '/raw/mods1r/mods1r.20260210.0002.fits', mtimeMs: 2000 },
    { path: '/raw/mods1b/mods1b.20260210.0002.fits', mtimeMs: 2000 },
    { path: '/raw/mods1b/mods1b.20260210.0010.fits', mtimeMs: 2000 },
    { path: '/raw/mods1b/mods1b.20260209.0099.fits', mtimeMs: 2000 },
  ];
  const order = catchUpOrder(files).map((f) => f.path.split('/').pop());
  assert.deepEqual(order, [
    'mods1b.20260210.0003.fits',
    'mods1b.20260210.0010.fits',
    'mods1b.20260210.0002.fits', // equal to mods1r's 0002: by path
    'mods1r.20260210.0002.fits',
    'mods1b.20260209.0099.fits', // an earlier night's number is lower
    'mods1b.20260210.0001.fits',
  ]);
  assert.deepEqual(catchUpOrder([...files].reverse()), catchUpOrder(files), 'whatever order the scan returns');
});

test('remainingMs: the rest at the pace so far', () => {
  const table: Array<[number, number, number, number | undefined]> = [
    [20, 0, 5000, undefined],
    [20, 10, 10_000, 10_000],
    [20, 12, 21_000, 14_000],
    [20, 20, 30_000, 0],
  ];
  for (const [total, done, elapsed, left] of table) assert.equal(remainingMs(total, done, elapsed), left, `${done} of ${total}`);
});

test('yieldingFs: a background job\'s bulk reads and writes and its flushes wait while a new exposure runs; small writes (a pointer) never do', async (t) => {
  const dir = await tempDir(t);
  const queue = new LaneQueue(laneShares(2));
  let endFresh!: () => void;
  queue.add({ lane: 'fresh', priority: 10, rank: 1 }, () => new Promise<void>((resolve) => { endFresh = resolve; }));
  const fs = yieldingFs(nodeFsPort, () => queue.freshIdle());
  const path = join(dir, 'copy');
  const handle = await fs.open(path, 'wx');
  const order: string[] = [];
  await fs.write(handle, Buffer.from('pointer\n'), 0, 8, 0);
  order.push('small write');
  const bulk = Buffer.alloc(1 << 20, 1);
  const writing = fs.write(handle, bulk, 0, bulk.length, 8).then(() => order.push('bulk write'));
  await new Promise((r) => setTimeout(r, 50));
  order.push('fresh done');
  endFresh();
  await writing;
  await fs.close(handle);
  assert.deepEqual(order, ['small write', 'fresh done', 'bulk write']);
  let endSecond!: () => void;
  queue.add({ lane: 'fresh', priority: 10, rank: 2 }, () => new Promise<void>((resolve) => { endSecond = resolve; }));
  const reader = await fs.open(path, 'r');
  let read = false;
  const reading = fs.read(reader, Buffer.alloc(bulk.length), 0, bulk.length, 0).then(() => { read = true; });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(read, false, 'a bulk read waits for the new exposure');
  endSecond();
  await reading;
  await fs.close(reader);
  assert.equal((await readFile(path)).length, 8 + bulk.length);
  // The flush of a file written in bulk too: it would queue the new exposure's own flushes behind
  // hundreds of MB. A file only re-opened to be flushed (the commit, under the channel's lock)
  // never waits: a new exposure of the same channel may be waiting for that lock.
  const copy = await fs.open(join(dir, 'copy2'), 'wx');
  await fs.write(copy, bulk, 0, bulk.length, 0); // nothing fresh in flight: no wait
  const reopened = await fs.open(path, 'r+');
  let endThird!: () => void;
  queue.add({ lane: 'fresh', priority: 10, rank: 3 }, () => new Promise<void>((resolve) => { endThird = resolve; }));
  const first = await Promise.race([fs.fsync(reopened).then(() => 'flushed'), new Promise((r) => setTimeout(() => r('waited'), 1000))]);
  assert.equal(first, 'flushed', 'a flush of a file not written in bulk here does not wait');
  let synced = false;
  const syncing = fs.fsync(copy).then(() => { synced = true; });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(synced, false, 'the bulk-written copy\'s flush waits for the new exposure');
  endThird();
  await syncing;
  await fs.close(copy);
  await fs.close(reopened);
});
