/**
 * docs/behaviour.md §7.1: a blocked main thread is seen — on /metrics, on the page, and as the
 * `event-loop-stalled` health problem — with a real block (a busy loop), not a simulated one.
 * Nothing here asserts how fast anything is: only that a block longer than the threshold is
 * reported, and that the report clears once the hold time has passed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../src/base/clock.js';
import { EventLoopWatch } from '../../src/service/surface/event-loop.js';
import { attachMetrics } from '../../src/service/surface/metrics.js';
import { checkHealth, readStatus, statusSourceFor } from '../../src/service/surface/status-source.js';
import { renderStatusPage } from '../../src/service/surface/status-page.js';
import { startService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';

/** Keeps the main thread busy for `ms` of wall time, then lets the monitor's timer run. */
async function blockMainThread(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* busy: nothing else runs */ }
  await sleep(30);
  await sleep(30);
}

test('a block of the main thread past stallMs is event-loop-stalled until holdMs after it, and high on the page', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 4));
  const watch = new EventLoopWatch(clock, { stallMs: 250, holdMs: 60_000, windowMs: 10_000, highMs: 100 });
  watch.start();
  try {
    await sleep(30);
    await blockMainThread(600);
    const [stall, ...more] = watch.findings();
    assert.equal(more.length, 0);
    assert.equal(stall?.code, 'event-loop-stalled');
    assert.match(stall.message, /main thread was blocked for \d+\.\d\d s \(limit 0\.25 s\)/);
    assert.equal(stall.sinceMs, clock.now());
    const recent = watch.recent();
    assert.ok(recent.high && recent.maxMs !== null && recent.maxMs >= 250, `recent ${JSON.stringify(recent)}`);

    clock.advance(30_000);
    assert.equal(watch.findings().length, 1, 'still held 30 s later');
    assert.ok(watch.recent().high, 'the last window still shows it');
    clock.advance(31_000);
    assert.deepEqual(watch.findings(), [], 'cleared past holdMs, not noted again from the old window');
  } finally {
    watch.stop();
  }
});

test('the running service reports a real stall in its health check, the page, status.json and /metrics', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root, '', { eventLoop: { stallMs: 250 } });
  t.after(() => s.stop());
  const status = statusSourceFor(s.service, { quickLookDir: join(root, 'state', 'quicklook') });
  const metrics = attachMetrics(s.service, { health: () => checkHealth(status), eventLoop: s.service.eventLoop });
  t.after(() => metrics.detach());
  const scrape = async () => (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('dataman_event_loop_delay_seconds{'));

  await sleep(50);
  await scrape(); // a scrape covers the time since the last one
  await blockMainThread(600);

  const health = await checkHealth(status);
  const stall = health.problems.find((p) => p.code === 'event-loop-stalled');
  assert.ok(stall, `health: ${JSON.stringify(health)}`);
  assert.equal(health.ok, false);
  const snapshot = await readStatus(status);
  assert.ok(snapshot.eventLoop?.high, `snapshot ${JSON.stringify(snapshot.eventLoop)}`);
  assert.match(renderStatusPage(snapshot, health), /id="event-loop">blocked up to \d+ ms/);

  const lines = await scrape();
  const max = lines.find((l) => l.includes('quantile="1"'));
  assert.ok(max !== undefined && Number(max.split(' ').at(-1)) >= 0.25, `scrape: ${lines.join(' | ')}`);
  assert.ok(lines.some((l) => l.includes('quantile="0.99"')) && lines.some((l) => l.includes('quantile="0.5"')));
  assert.match(await metrics.registry.metrics(), /dataman_health_problem\{code="event-loop-stalled"\} 1/);
});
