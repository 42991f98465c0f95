import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localParts } from '../../src/base/local-time.js';

test("the host's zone (Date getters) and the same zone named (Intl) give the same wall clock", () => {
  const saved = process.env.TZ;
  try {
    for (const zone of ['America/Phoenix', 'Europe/Berlin', 'Pacific/Chatham', 'UTC']) {
      process.env.TZ = zone; // Node re-reads the zone when TZ is assigned
      // Every 7 h 13 min 17 s over two years: all hours, both sides of each DST change.
      for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2027, 0, 1); t += 26_000_000 + 997) {
        assert.deepEqual(localParts(t), localParts(t, zone), `${zone} at ${new Date(t).toISOString()}`);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});
