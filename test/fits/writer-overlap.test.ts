/**
 * The writer keeps one write in flight while it prepares the next: these tests give it a sink
 * whose writes take real time and take the bytes only when they complete (as a file handle's
 * write does on the thread pool), so a buffer reused or given back too early shows up as wrong
 * bytes, and a write left running after a failure shows up in the count of writes in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  bufferSource, memorySink, readHdus, verifyFile, writeFits, type DataChunk, type HduOutput, type WriteSink,
} from '../../src/fits/index.js';
import { smallMef } from '../helpers/small-fits.js';

const STAMP = { timestamp: '2026-01-15T04:12:33' };

/** A sink whose writes complete after `delayMs`, copying the caller's bytes only then; `failAt` (0-based write) rejects. */
function slowSink(delayMs: number, failAt?: number) {
  const store = memorySink();
  const log = { started: 0, completed: 0, inFlight: 0, maxInFlight: 0 };
  const sink: WriteSink = {
    async write(buffer, offset, length, position) {
      const index = log.started++;
      log.inFlight++;
      log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
      try {
        await sleep(delayMs);
        if (index === failAt) throw Object.assign(new Error(`write ${index} failed: no space left on device`), { code: 'ENOSPC' });
        return await store.write(buffer, offset, length, position);
      } finally {
        log.inFlight--;
        log.completed++;
      }
    },
  };
  return { sink, log, bytes: () => store.bytes() };
}

const payload = Buffer.from(new Uint8Array(50_000).map((_, i) => (i * 131 + (i >> 8)) & 0xff));
const CHUNK = 4_000;

/**
 * `payload` as a stream made in `buffers` buffers taken in turn, as the merged image is made.
 * Records, for each chunk, how many writes were in flight while it was made.
 */
function streamOf(buffers: number, log?: { inFlight: number }, failAtChunk?: number) {
  const made: number[] = [];
  const pool = Array.from({ length: buffers }, () => Buffer.alloc(CHUNK));
  function* chunks(): Generator<DataChunk> {
    for (let at = 0, i = 0; at < payload.length; at += CHUNK, i++) {
      if (i === failAtChunk) throw new Error(`chunk ${i} cannot be made`);
      made.push(log?.inFlight ?? 0);
      const n = Math.min(CHUNK, payload.length - at);
      const buffer = pool[i % buffers]!;
      payload.copy(buffer, 0, at, at + n);
      yield { bytes: buffer.subarray(0, n) };
    }
  }
  return { made, data: { kind: 'stream', length: payload.length, chunks } as const };
}

async function outputs(data: NonNullable<HduOutput['data']>): Promise<HduOutput[]> {
  const hdus = await readHdus(bufferSource(await smallMef()));
  const image = hdus[1]!.header.clone();
  // 50 000 bytes of 16-bit pixels.
  image.set('NAXIS1', 250);
  image.set('NAXIS2', 100);
  return [{ header: hdus[0]!.header.clone() }, { header: image, data }];
}

async function writtenAtOnce(checksums: boolean): Promise<Buffer> {
  const sink = memorySink();
  await writeFits(sink, await outputs({ kind: 'bytes', bytes: payload }), { checksums: checksums ? STAMP : undefined });
  return sink.bytes();
}

test('a data unit streamed in two buffers while the last chunk is written gives the bytes of one write', async () => {
  for (const checksums of [false, true]) {
    const slow = slowSink(2);
    const stream = streamOf(2, slow.log);
    await writeFits(slow.sink, await outputs(stream.data), { checksums: checksums ? STAMP : undefined });
    const bytes = slow.bytes();
    assert.deepEqual(bytes, await writtenAtOnce(checksums), `checksums ${checksums}`);
    if (checksums) assert.equal((await verifyFile(bufferSource(bytes))).ok, true);
    assert.equal(slow.log.maxInFlight, 1, 'one write in flight at most');
    assert.equal(stream.made.length, Math.ceil(payload.length / CHUNK));
    // Every chunk after the first is made while the previous one is being written.
    assert.ok(stream.made.slice(1).every((n) => n === 1), `writes in flight while each chunk was made: ${stream.made.join(',')}`);
  }
});

test('a copied data unit read in pieces while the last piece is written gives the same bytes', async () => {
  const expected = await writtenAtOnce(true);
  const source = bufferSource(expected);
  const [, image] = await readHdus(source);
  for (const chunkBytes of [2880, 5 * 2880, 64 * 2880]) {
    const slow = slowSink(1);
    const copy = { kind: 'copy', source, offset: image!.dataOffset, length: image!.dataPaddedBytes } as const;
    await writeFits(slow.sink, await outputs(copy), { checksums: STAMP, chunkBytes });
    assert.deepEqual(slow.bytes(), expected, `chunks of ${chunkBytes} bytes`);
    assert.equal(slow.log.maxInFlight, 1);
  }
});

test('a write failing mid-stream is thrown once no write is in flight, and nothing is made after the next chunk', async () => {
  const slow = slowSink(3, 4);
  const stream = streamOf(2, slow.log);
  let inFlightAtRejection = -1;
  await assert.rejects(
    writeFits(slow.sink, await outputs(stream.data), { checksums: STAMP }).finally(() => { inFlightAtRejection = slow.log.inFlight; }),
    (err: NodeJS.ErrnoException) => err.code === 'ENOSPC' && /write 4 failed/.test(err.message),
  );
  assert.equal(inFlightAtRejection, 0);
  assert.equal(slow.log.started, 5, 'no write is started after the failed one');
  // Checksums on: each header waits for its sums, so write 0 is the primary header, writes 1..4
  // are chunks 0..3, and chunk 4 was made while write 4 ran.
  assert.equal(stream.made.length, 5);
});

test('a chunk that cannot be made is thrown only after the write in flight has completed', async () => {
  const slow = slowSink(20);
  const stream = streamOf(2, slow.log, 3);
  let inFlightAtRejection = -1;
  await assert.rejects(
    writeFits(slow.sink, await outputs(stream.data)).finally(() => { inFlightAtRejection = slow.log.inFlight; }),
    /chunk 3 cannot be made/,
  );
  assert.equal(inFlightAtRejection, 0, 'the caller may free the buffers once writeFits has thrown');
  assert.equal(slow.log.completed, slow.log.started);
});

test('when a write fails and the chunk made meanwhile fails too, the write failure is thrown', async () => {
  // Writes without checksums: 0 primary header, 1 extension header, 2.. chunks; write 4 is chunk 2, chunk 3 fails while it runs.
  const slow = slowSink(5, 4);
  const stream = streamOf(2, slow.log, 3);
  await assert.rejects(writeFits(slow.sink, await outputs(stream.data)), /write 4 failed/);
  assert.equal(slow.log.inFlight, 0);
});
