import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSource, readAhead, type ByteSource } from '../../src/fits/index.js';
import { tempDir } from '../helpers/temp.js';

/** A real file source that records how many reads are in flight at once. */
function counting(source: ByteSource): ByteSource & { maxInFlight: number; settled: number } {
  let inFlight = 0;
  const wrapped = {
    maxInFlight: 0,
    settled: 0,
    path: source.path,
    size: () => source.size(),
    close: () => source.close(),
    async read(offset: number, length: number, into?: Buffer) {
      inFlight++;
      wrapped.maxInFlight = Math.max(wrapped.maxInFlight, inFlight);
      try {
        return await source.read(offset, length, into);
      } finally {
        inFlight--;
        wrapped.settled++;
      }
    },
  };
  return wrapped;
}

test('readAhead hands the pieces over in order, with several reads in flight, short only at the end', async (t) => {
  const dir = await tempDir(t);
  const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
  const path = join(dir, 'data.bin');
  await writeFile(path, bytes);
  const source = counting(await FileSource.open(path));
  t.after(() => source.close());
  const target = Buffer.alloc(10_240);
  const pieces = Array.from({ length: 10 }, (_, i) => ({ offset: i * 1024, into: target.subarray(i * 1024, (i + 1) * 1024) }));
  const seen: Array<[number, number]> = [];
  await readAhead(source, pieces, 3, (got, i) => seen.push([i, got.length]));
  assert.deepEqual(seen.map(([i]) => i), [...Array(10).keys()]);
  assert.deepEqual(seen.map(([, n]) => n), [...Array(9).fill(1024), 10_000 - 9 * 1024]);
  assert.deepEqual(target.subarray(0, 10_000), bytes);
  assert.equal(source.maxInFlight, 3);
});

test('readAhead returns only once every read has settled when the consumer fails', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'data.bin');
  await writeFile(path, Buffer.alloc(8192, 7));
  const source = counting(await FileSource.open(path));
  t.after(() => source.close());
  const pieces = Array.from({ length: 8 }, (_, i) => ({ offset: i * 1024, into: Buffer.alloc(1024) }));
  await assert.rejects(readAhead(source, pieces, 4, (_, i) => {
    if (i === 1) throw new Error('consumer failed at piece 1');
  }), /consumer failed at piece 1/);
  // Pieces 0..4 were started (piece 1 in use, 3 ahead of it); none may still be landing.
  assert.equal(source.settled, 5);
});
