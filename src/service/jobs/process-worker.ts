/**
 * Worker-thread entry: runs the processing (read, fix headers, merge, write with checksums) off
 * the main thread, so that the UDP socket, the watcher and the status page stay responsive while
 * a full frame is merged. One job message in, one reply out per job; a job without an output
 * path streams its bytes to the main thread as it makes them (`ChunkSink`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { processFile, processInto, type ProcessFileResult } from '../../steps/pipeline.js';
import { FULL_FRAME_ARENA_BYTES } from '../../steps/merged-preview.js';
import { reserveArena } from '../../wasm/kernels.js';
import { defaultLeapSeconds } from '../../time/index.js';
import { DatamanError } from '../../errors.js';
import type { WriteSink } from '../../fits/index.js';
import { MAX_HOLD_MS, type ChunkAck, type ToWorker, type WorkerJob, type WorkerReply, type WorkerStart } from './worker-protocol.js';

if (parentPort === null) throw new Error('process-worker must run as a worker thread');
const port = parentPort;
const hold = new Int32Array((workerData as WorkerStart).hold);

/**
 * A yielding (background) job's checkpoint: while the pool's hold is set, this thread sleeps,
 * so that a new exposure's processing has the cores (behaviour.md §2.6). Bounded: it delays the
 * background, never stops it.
 */
function waitWhileHeld(): void {
  const until = Date.now() + MAX_HOLD_MS;
  while (Atomics.load(hold, 0) !== 0 && Date.now() < until) Atomics.wait(hold, 0, 1, 20);
}

// The memory of a full frame's merge is taken now: the service's memory does not step up at
// the first full frame of a night, and a machine short of memory says so at start.
try {
  reserveArena(FULL_FRAME_ARENA_BYTES);
} catch (err) {
  // Not fatal: a worker that died here would only be replaced, again and again. Said on
  // standard error (the journal); the first full frame tries again and fails with the reason.
  console.error(`dataman processing thread: cannot reserve ${FULL_FRAME_ARENA_BYTES} bytes for a full frame: ${(err as Error).message}`);
}

/** Bytes per chunk sent to the main thread, and how many chunks may be on their way at once. */
const CHUNK_BYTES = 4 * 1024 * 1024;
const CHUNKS_IN_FLIGHT = 3;

/**
 * The chunk buffers, made once and kept for the worker's life (one job at a time): a new 12 MB
 * per file would be garbage for the collector to find at the worst moment.
 */
const spare: ArrayBuffer[] = [];
let made = 0;

/**
 * A `WriteSink` that copies each write into one of a few buffers and transfers it to the main
 * thread, which writes it and hands the buffer back (`ChunkAck`). A write returns once its bytes
 * are copied: the writer computes the next chunk while the main thread writes this one. The
 * buffers are reused, so a full frame costs three of them (12 MB), not 154 MB.
 */
class ChunkSink implements WriteSink {
  private inFlight = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly id: number, private readonly checkpoint?: () => void) {}

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    for (let done = 0; done < length; ) {
      this.checkpoint?.();
      const store = await this.take();
      const n = Math.min(CHUNK_BYTES, length - done);
      const bytes = new Uint8Array(store, 0, n);
      bytes.set(buffer.subarray(offset + done, offset + done + n));
      this.inFlight++;
      port.postMessage({ type: 'chunk', id: this.id, position: position + done, bytes }, [store]);
      done += n;
    }
    return { bytesWritten: length };
  }

  acked(ack: ChunkAck): void {
    this.inFlight--;
    spare.push(ack.buffer);
    if (ack.error !== undefined) this.failure ??= Object.assign(new Error(ack.error), { code: 'write-failed' });
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waits until the main thread has written every chunk; throws if one could not be written. */
  async drain(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
  }

  private async take(): Promise<ArrayBuffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      const store = spare.pop();
      if (store !== undefined) return store;
      if (made < CHUNKS_IN_FLIGHT) {
        made++;
        return new ArrayBuffer(CHUNK_BYTES);
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

const sinks = new Map<number, ChunkSink>();

port.on('message', (message: ToWorker) => {
  if (message.type === 'ack') sinks.get(message.id)?.acked(message);
  else void run(message).then((reply) => port.postMessage(reply));
});

async function run(job: WorkerJob): Promise<WorkerReply> {
  const options = {
    ...job.options,
    leapSeconds: defaultLeapSeconds(),
    // The main thread's clock decides UNIQNAME and checksum stamps (tests drive it).
    clock: { now: () => job.nowMs },
    checkpoint: job.yields === true ? waitWhileHeld : undefined,
  };
  const sink = job.outputPath === undefined ? new ChunkSink(job.id, options.checkpoint) : undefined;
  if (sink) sinks.set(job.id, sink);
  try {
    let result: ProcessFileResult;
    if (sink === undefined) {
      result = await processFile(job.rawPath, job.outputPath!, options);
    } else {
      // Sums of every HDU even without checksums: the main thread verifies its copy with them.
      try {
        result = await processInto(job.rawPath, sink, { ...options, sums: true });
      } finally {
        // Every chunk sent is written (or failed) before the reply: nothing is still on its way.
        await sink.drain().catch(() => undefined);
      }
      await sink.drain();
    }
    const layout = { bytes: result.write.bytes, hdus: result.write.hdus };
    return { type: 'done', id: job.id, ok: true, outcomes: result.outcomes, uniqName: result.uniqName, bytes: result.bytes, layout, timings: result.timings };
  } catch (err) {
    const e = err as Error & { code?: unknown };
    return {
      type: 'done',
      id: job.id,
      ok: false,
      error: {
        name: e?.name ?? 'Error',
        code: typeof e?.code === 'string' ? e.code : 'internal',
        message: e?.message ?? String(err),
        expected: err instanceof DatamanError || typeof e?.code === 'string',
        stack: e?.stack,
      },
    };
  } finally {
    sinks.delete(job.id);
  }
}
