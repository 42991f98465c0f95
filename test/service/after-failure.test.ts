/** The decision after an attempt that did not deliver (after-failure.ts), as a table. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterFailure, type AfterFailure, type FailureFacts } from '../../src/service/jobs/after-failure.js';

// retryable, ledgerDown, stopping, named, rawChanged → decision
const TABLE: Array<[boolean, boolean, boolean, boolean, boolean, AfterFailure, string]> = [
  [true, false, false, false, false, 'retry', 'a full disk: back off and try again'],
  [true, false, true, false, false, 'leave', 'a full disk while stopping: stays queued for the next start'],
  [false, false, false, false, false, 'record', 'not FITS: the file has failed'],
  [false, false, true, false, false, 'record', 'not FITS while stopping: still failed (a retry cannot help)'],
  [true, false, false, false, true, 'wait-again', 'a failure on a raw file being rewritten is not the file\'s fault'],
  [false, false, false, false, true, 'wait-again', 'a truncated read of a raw file being rewritten: waited for again, not failed'],
  [false, false, true, false, true, 'wait-again', 'rewritten while stopping: waited for again (queued for the next start)'],
  [true, false, false, true, true, 'retry', 'named already: the raw file no longer matters, the delivery is finished'],
  [false, false, false, true, true, 'record', 'named already and a permanent failure: recorded'],
  [true, false, true, true, false, 'leave', 'named, stopping: the next start finishes the delivery'],
  [false, true, true, false, false, 'leave', 'the ledger down while stopping: it keeps the last state it recorded'],
  [false, true, true, false, true, 'leave', 'the ledger down while stopping, raw file changed: nothing can be recorded'],
  [true, true, true, true, false, 'leave', 'the ledger down while stopping, named: the next start resumes'],
  [false, true, false, false, false, 'record', 'the ledger down, not stopping (its wait ended otherwise): recorded once it can be'],
];

for (const [retryable, ledgerDown, stopping, named, rawChanged, expected, why] of TABLE) {
  test(`${why} → ${expected}`, () => {
    const facts: FailureFacts = { retryable, ledgerDown, stopping, named, rawChanged };
    assert.equal(afterFailure(facts), expected, JSON.stringify(facts));
  });
}

test('the table covers every combination of the facts once', () => {
  const seen = new Set(TABLE.map((row) => row.slice(0, 5).join()));
  assert.equal(seen.size, TABLE.length, 'no row twice');
  // Every combination gets one of the four answers (the function is total).
  for (let bits = 0; bits < 32; bits++) {
    const [retryable, ledgerDown, stopping, named, rawChanged] = [0, 1, 2, 3, 4].map((i) => (bits & (1 << i)) !== 0) as [boolean, boolean, boolean, boolean, boolean];
    assert.ok(['retry', 'wait-again', 'leave', 'record'].includes(afterFailure({ retryable, ledgerDown, stopping, named, rawChanged })));
  }
});
