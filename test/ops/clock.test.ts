import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, sleepUnlessAborted } from '../../src/base/clock.js';

test('sleepUnlessAborted ends at once on abort and leaves no timer behind (a pending back-off would keep a stopped process alive)', async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  let done = false;
  const sleeping = sleepUnlessAborted(clock, 32_000, controller.signal).then(() => { done = true; });
  assert.equal(clock.pendingTimers, 1);
  controller.abort();
  await sleeping;
  assert.equal(done, true);
  assert.equal(clock.pendingTimers, 0, 'the timer is cleared');
  // Already aborted: no timer at all; otherwise it ends with its timer.
  await sleepUnlessAborted(clock, 1000, controller.signal);
  assert.equal(clock.pendingTimers, 0);
  const later = sleepUnlessAborted(clock, 1000, new AbortController().signal);
  clock.advance(1000);
  await later;
  assert.equal(clock.pendingTimers, 0);
});
