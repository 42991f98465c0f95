import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/base/clock.js';
import { memoryLogger } from '../../src/ops/logger.js';
import { LedgerError } from '../../src/service/ledger/ledger-schema.js';
import type { LedgerRow } from '../../src/service/ledger/ledger.js';
import { whenLedgerWritable } from '../../src/service/ledger/ledger-availability.js';
import { findOrphans } from '../../src/service/jobs/recovery.js';
import { tempDir } from '../helpers/temp.js';

const busy = () => {
  const cause = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
  return new LedgerError('ledger /state/ledger.sqlite: database is locked (SQLITE_BUSY)', { cause });
};

test('the orphan search waits for a ledger that cannot be read for a while, instead of failing the file', async (t) => {
  const dir = await tempDir(t);
  const row = { id: 1, path: '/raw/mods1b/mods1b.20260115.0001.fits', startedAt: 1, firstSeenAt: 0 } as LedgerRow;
  let reads = 0;
  const ledger = {
    byName: () => {
      if (++reads === 1) throw busy();
      return [];
    },
  };
  const clock = new ManualClock(0);
  const log = memoryLogger();
  const read = <T>(fn: () => T) => whenLedgerWritable(fn, { clock, logger: log.logger, what: 'mods1b.20260115.0001.fits', signal: new AbortController().signal, random: () => 0.5 });
  const found = findOrphans(row, dir, dir, ledger, read);
  for (let i = 0; i < 50 && reads < 2; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(100);
  }
  assert.equal(await found, undefined, 'no orphan in empty folders');
  assert.equal(reads, 2, 'read again after the back-off');
  assert.ok(log.messages('warn').some((m) => m.includes('SQLITE_BUSY')), log.lines.join('\n'));
});
