/**
 * Worker-thread entry: runs `processFile` (read, fix headers, merge, write with checksums) off
 * the main thread, so that the UDP socket, the watcher and the status page stay responsive while
 * a full frame is merged. One message in, one message out per job.
 */
import { parentPort } from 'node:worker_threads';
import { processFile } from '../../steps/pipeline.js';
import { FULL_FRAME_ARENA_BYTES } from '../../steps/merged-preview.js';
import { reserveArena } from '../../wasm/kernels.js';
import { defaultLeapSeconds } from '../../time/index.js';
import { DatamanError } from '../../errors.js';
import type { WorkerJob, WorkerReply } from './worker-protocol.js';

if (parentPort === null) throw new Error('process-worker must run as a worker thread');
const port = parentPort;

// The memory of a full frame's merge is taken now: the service's memory does not step up at
// the first full frame of a night, and a machine short of memory says so at start.
try {
  reserveArena(FULL_FRAME_ARENA_BYTES);
} catch (err) {
  // Not fatal: a worker that died here would only be replaced, again and again. Said on
  // standard error (the journal); the first full frame tries again and fails with the reason.
  console.error(`dataman processing thread: cannot reserve ${FULL_FRAME_ARENA_BYTES} bytes for a full frame: ${(err as Error).message}`);
}

port.on('message', (job: WorkerJob) => {
  void run(job).then((reply) => port.postMessage(reply));
});

async function run(job: WorkerJob): Promise<WorkerReply> {
  try {
    const result = await processFile(job.rawPath, job.outputPath, {
      ...job.options,
      leapSeconds: defaultLeapSeconds(),
      // The main thread's clock decides UNIQNAME and checksum stamps (tests drive it).
      clock: { now: () => job.nowMs },
    });
    return { id: job.id, ok: true, outcomes: result.outcomes, uniqName: result.uniqName, bytes: result.bytes, timings: result.timings };
  } catch (err) {
    const e = err as Error & { code?: unknown };
    return {
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
  }
}
