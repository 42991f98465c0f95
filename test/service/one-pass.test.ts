/**
 * Both copies from one pass (one-pass.ts): the day-folder and repository temporaries written from
 * one stream of bytes through the file-system port, flushed together, the repository copy
 * verified against the writer's sums. Every port call of both copies fails in turn (the fault
 * sites are listed by a clean run); a write that reports success and stores other bytes is
 * caught before any name is given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/base/clock.js';
import { writeFits, type WriteSink } from '../../src/fits/index.js';
import { deliver, DeliveryError, prepareProcTemp, type DeliveryOptions, type DeliveryProgress, type DeliveryRequest, type DeliveryStep } from '../../src/service/jobs/deliver.js';
import { onePassDelivery } from '../../src/service/jobs/one-pass.js';
import type { ChunkWriter } from '../../src/service/jobs/worker-pool.js';
import { imageHdu, primaryHeader, smallMef, tableHdu } from '../helpers/small-fits.js';
import { tempDir } from '../helpers/temp.js';
import { FaultyFs, Gate, type FsOp } from './helpers/faulty-fs.js';

const BASE = 'mods1b.20260115.0001.fits';
const STAMP = '2026-01-15T04:12:33';

/** The worker's part, in-process: the small MEF written through the real FITS writer, in small chunks, with its sums. */
async function produce(write: ChunkWriter) {
  const sink: WriteSink = {
    async write(buffer, offset, length, position) {
      for (let at = 0; at < length; at += 2880) await write(buffer.subarray(offset + at, offset + Math.min(length, at + 2880)), position + at);
      return { bytesWritten: length };
    },
  };
  const hdus = [{ header: primaryHeader() }, imageHdu(10, 6), tableHdu([['MOD10/TEMPA', '-128.104'], ['MOD10/TEMPB', '-106.011'], ['BACKPLANE_TEMP', '23.819']])];
  const result = await writeFits(sink, hdus, { checksums: { timestamp: STAMP }, sums: true });
  return { layout: { bytes: result.bytes, hdus: result.hdus } };
}

let expected: Buffer | undefined;
/** The bytes `produce` makes, written in one piece to memory. */
async function processedBytes(): Promise<Buffer> {
  if (expected) return expected;
  const chunks: Array<[Uint8Array, number]> = [];
  await produce(async (bytes, position) => void chunks.push([Buffer.from(bytes), position]));
  const out = Buffer.alloc(Math.max(...chunks.map(([b, p]) => p + b.length)));
  for (const [b, p] of chunks) out.set(b, p);
  return (expected = out);
}

async function setup(t: { after(fn: () => Promise<void> | void): void }) {
  const root = await tempDir(t, 'dataman-onepass-');
  const procDir = join(root, 'proc');
  const repoDir = join(root, 'newdata');
  await mkdir(procDir);
  await mkdir(repoDir);
  const newRequest = async (resume?: DeliveryProgress): Promise<DeliveryRequest> => ({
    tempPath: (await prepareProcTemp(procDir, '20260115', BASE)).tempPath, repoDir, baseName: BASE, channel: 'mods1b', instrumentId: 'mods1b',
    fileMode: 0o644, verifyChecksums: true, resume,
  });
  return { dayDir: join(procDir, '20260115'), repoDir, newRequest, clock: new ManualClock() };
}

type Env = Awaited<ReturnType<typeof setup>>;
const options = (env: Env, fs?: FaultyFs): DeliveryOptions => ({ clock: env.clock, timeZone: 'America/Phoenix', chunkBytes: 4096, ...(fs ? { fs, onStep: fs.onStep } : {}) });
const list = async (dir: string) => (await readdir(dir)).sort();

/** As runJob: process into both copies and seal; throws the DeliveryError with whether the day copy survived (sealed). */
async function onePass(env: Env, fs: FaultyFs | undefined, resume?: DeliveryProgress) {
  const request = await env.newRequest(resume);
  const copies = onePassDelivery(request, options(env, fs));
  await copies.write(produce);
  const prepared = await copies.seal('mods1b');
  return { request, prepared };
}

async function deliveredOnce(env: Env): Promise<void> {
  const bytes = await processedBytes();
  assert.deepEqual(await list(env.dayDir), [BASE], 'one processed copy, no temporary');
  assert.deepEqual(await list(env.repoDir), ['MODS1B.new', BASE], 'one repository copy, no temporary');
  assert.deepEqual(await readFile(join(env.dayDir, BASE)), bytes);
  assert.deepEqual(await readFile(join(env.repoDir, BASE)), bytes);
  assert.equal(await readFile(join(env.repoDir, 'MODS1B.new'), 'utf8'), `${BASE}\n`);
}

test('both copies come from one pass: byte-identical to the bytes produced, written through the port, nothing read but the verification', async (t) => {
  const env = await setup(t);
  const fs = new FaultyFs();
  const { prepared } = await onePass(env, fs);
  const result = await prepared.commit();
  assert.deepEqual(result.warnings, []);
  await deliveredOnce(env);
  assert.deepEqual(await processedBytes(), await smallMef({ checksums: true }), 'the stream is the file the codec writes');
  // The pointer step reads too (the pointer and the primary headers it compares: pointer-read.ts).
  const reads = fs.calls.filter((c) => c.op === 'read' && c.step !== 'pointer');
  assert.ok(reads.length > 0 && reads.every((c) => c.step === 'repo-copy' && c.path.startsWith(`${env.repoDir}/.`)), 'one read-back, of the repository copy only, while both are flushed');
  const lastWrite = fs.calls.findLastIndex((c) => c.op === 'write' && c.step === 'repo-copy');
  assert.ok(fs.calls.findIndex((c) => c.op === 'read') > lastWrite, 'read back once everything is written');
  assert.ok(fs.calls.findIndex((c) => c.op === 'link') > fs.calls.findLastIndex((c) => c.step === 'repo-copy' && (c.op === 'read' || c.op === 'fsync')), 'verified and flushed before any name');
  const writes = new Set(fs.calls.filter((c) => c.op === 'write' && c.step === 'repo-copy').map((c) => c.path));
  assert.equal(writes.size, 2, 'both temporaries written in the same step');
  const fsyncs = fs.calls.filter((c) => c.op === 'fsync' && c.step === 'repo-copy').map((c) => c.path);
  assert.equal(fsyncs.filter((p) => p.startsWith(`${env.dayDir}/.`)).length, 1, 'the day copy flushed once');
  assert.equal(fsyncs.filter((p) => p.startsWith(`${env.repoDir}/.`)).length, 1, 'the repository copy flushed once');
});

test('the two copies are flushed together: the day copy\'s flush is under way while the repository copy\'s hangs', async (t) => {
  const env = await setup(t);
  const held = new Gate();
  const fs = new FaultyFs().inject({ op: 'fsync', path: (p) => p.startsWith(`${env.repoDir}/.`), action: 'hold', gate: held });
  const sealing = onePass(env, fs);
  await held.reached;
  assert.ok(fs.calls.some((c) => c.op === 'fsync' && c.path.startsWith(`${env.dayDir}/.`)), 'the day copy is flushed meanwhile');
  assert.deepEqual((await list(env.repoDir)).filter((n) => !n.startsWith('.')), [], 'no name yet');
  held.release();
  await (await sealing).prepared.commit();
  await deliveredOnce(env);
});

for (const times of [1, Infinity]) {
  test(`a repository write that reports success and stores other bytes is caught before any name (${times === 1 ? 'once: copied again from the day copy' : 'always: delivery-verify-failed'})`, async (t) => {
    const env = await setup(t);
    const fs = new FaultyFs().inject({ op: 'write', path: (p) => p.startsWith(`${env.repoDir}/.`), action: 'corrupt', times });
    if (times === 1) {
      const { prepared } = await onePass(env, fs);
      const result = await prepared.commit();
      assert.match(result.warnings.join('\n'), /the header of HDU 0 not as written.*copied again/);
      await deliveredOnce(env);
      return;
    }
    const err = await onePass(env, fs).then(() => assert.fail('delivered a corrupted copy'), (e: unknown) => e);
    assert.ok(err instanceof DeliveryError, String(err));
    assert.equal(err.code, 'delivery-verify-failed');
    assert.equal(err.retryable, false);
    assert.match(err.message, /failed verification twice/);
    assert.deepEqual(await list(env.repoDir), [], 'no name, no temporary');
  });
}

const ERRNOS: Array<[string, boolean]> = [['ENOSPC', true], ['EIO', true], ['ESTALE', true], ['EXDEV', false]];

test('every port call of both copies, failing or slow, leaves nothing partial, and the next attempt delivers once', async (t) => {
  const probe = await setup(t);
  const recorder = new FaultyFs();
  await (await onePass(probe, recorder)).prepared.commit();
  const sites: Array<{ step: DeliveryStep; op: FsOp; occurrence: number; path: string }> = [];
  const counts = new Map<string, number>();
  for (const call of recorder.calls) {
    if (call.step !== 'repo-copy' && call.step !== 'repo-verify') continue;
    const key = `${call.step}/${call.op}`;
    sites.push({ step: call.step, op: call.op, occurrence: counts.get(key) ?? 0, path: call.path });
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const copiesTouched = (dir: string) => sites.some((s) => s.op === 'write' && s.path.startsWith(`${dir}/.`)) && sites.some((s) => s.op === 'fsync' && s.path.startsWith(`${dir}/.`));
  assert.ok(copiesTouched(probe.dayDir) && copiesTouched(probe.repoDir), 'both copies are written and flushed in these steps');
  let cases = 0;
  for (const site of sites) {
    for (const [errno, retryable] of ERRNOS) {
      cases++;
      await t.test(`${site.step}: ${site.op} #${site.occurrence + 1} (${site.path.includes('/newdata') ? 'repository' : 'day folder'}) fails with ${errno}`, async (t) => {
        const env = await setup(t);
        const fs = new FaultyFs().inject({ op: site.op, step: site.step, after: site.occurrence, action: 'fail', errno });
        const err = await onePass(env, fs).then(() => assert.fail('no failure'), (e: unknown) => e);
        assert.ok(err instanceof DeliveryError, String(err));
        assert.equal(fs.fired, 1);
        assert.equal(err.code, `delivery-${errno}`);
        assert.equal(err.retryable, retryable, err.message);
        assert.equal(err.step, site.step);
        assert.equal(err.progress.procPath, undefined);
        // Nothing under a final name; the temporaries of both copies gone, or reported.
        const left = err.progress.leftovers ?? [];
        for (const dir of [env.dayDir, env.repoDir]) {
          for (const name of await list(dir)) assert.ok(left.includes(join(dir, name)), `${join(dir, name)} left behind`);
        }
        // The next attempt (as runJob: process again, told the leftovers) delivers once.
        fs.clear();
        await (await onePass(env, fs, err.progress)).prepared.commit();
        await deliveredOnce(env);
      });
    }
  }
  assert.ok(cases >= 60, `${cases} cases`);
  t.diagnostic(`one-pass fault cases: ${cases} (${sites.length} call sites × ${ERRNOS.length} errors)`);
});

test('a resumed delivery (the processed copy already named) still goes the classic way: copy, verify, names', async (t) => {
  const env = await setup(t);
  const { request, prepared } = await onePass(env, undefined);
  const fs = new FaultyFs().inject({ op: 'link', step: 'repo-rename', action: 'fail', errno: 'ESTALE' });
  await prepared.abandon();
  const err = await deliver(request, options(env, fs)).then(() => assert.fail('no failure'), (e: unknown) => e as DeliveryError);
  assert.ok(err.progress.procPath !== undefined);
  fs.clear();
  await deliver({ ...request, resume: err.progress }, options(env, fs));
  await deliveredOnce(env);
});

test('the worker streams the very bytes it writes to a file (same raw file, same clock), with the sums the verification uses', async (t) => {
  const { WorkerPool } = await import('../../src/service/jobs/worker-pool.js');
  const { portableProcessingOptions } = await import('../../src/steps/defaults.js');
  const { generateRaw } = await import('../../src/simulate/index.js');
  const { onesComplementSum } = await import('../../src/fits/index.js');
  const { writeFile } = await import('node:fs/promises');
  const root = await tempDir(t, 'dataman-onepass-worker-');
  const raw = generateRaw({ roi: '1k' });
  const rawPath = join(root, raw.name);
  await writeFile(rawPath, raw.bytes);
  const pool = new WorkerPool(1);
  t.after(() => pool.close());
  const options = { ...portableProcessingOptions(undefined), timeZone: 'America/Phoenix', checksums: true, fsync: false };
  const nowMs = Date.UTC(2026, 0, 15, 5, 0, 0);
  await pool.process(rawPath, join(root, 'file.fits'), options, nowMs);
  const fromFile = await readFile(join(root, 'file.fits'));
  const streamed = Buffer.alloc(fromFile.length);
  let chunks = 0;
  const produced = await pool.produce(rawPath, options, nowMs, async (bytes, position) => {
    chunks++;
    streamed.set(bytes, position);
  });
  assert.ok(chunks > 1, 'in chunks');
  assert.equal(produced.layout.bytes, fromFile.length);
  assert.ok(streamed.equals(fromFile), 'byte for byte the file the worker writes (and `dataman process` writes)');
  for (const h of produced.layout.hdus) {
    assert.equal(h.headerSum, onesComplementSum(fromFile.subarray(h.headerOffset, h.dataOffset)));
    assert.equal(h.datasum, onesComplementSum(fromFile.subarray(h.dataOffset, h.dataOffset + h.dataBytes)));
  }

  // A chunk that cannot be written stops the job with that very error; the worker goes on.
  const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  const failed = await pool.produce(rawPath, options, nowMs, async () => { throw full; }).then(() => undefined, (e: unknown) => e);
  assert.equal(failed, full);
  const again = await pool.produce(rawPath, options, nowMs, async () => {});
  assert.equal(again.layout.bytes, fromFile.length);
});

test('the pool hold: a yielding (background) job waits at its checkpoints while held; other jobs run; released, it finishes', async (t) => {
  const { WorkerPool } = await import('../../src/service/jobs/worker-pool.js');
  const { portableProcessingOptions } = await import('../../src/steps/defaults.js');
  const { generateRaw } = await import('../../src/simulate/index.js');
  const { writeFile } = await import('node:fs/promises');
  const root = await tempDir(t, 'dataman-hold-');
  const raw = generateRaw({ roi: '1k' });
  const rawPath = join(root, raw.name);
  await writeFile(rawPath, raw.bytes);
  const pool = new WorkerPool(2);
  t.after(() => pool.close());
  const options = { ...portableProcessingOptions(undefined), timeZone: 'America/Phoenix', checksums: true, fsync: false };
  const nowMs = Date.UTC(2026, 0, 15, 5, 0, 0);
  const sink = async () => {};
  pool.holdYieldingJobs(true);
  let backgroundDone = false;
  const background = pool.produce(rawPath, options, nowMs, sink, { yields: true }).then((r) => { backgroundDone = true; return r; });
  // A new exposure's job runs to its end meanwhile, on the other worker.
  const fresh = await pool.produce(rawPath, options, nowMs, sink);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(backgroundDone, false, 'the background job is still held at a checkpoint');
  pool.holdYieldingJobs(false);
  const done = await background;
  assert.equal(done.layout.bytes, fresh.layout.bytes, 'released, it finishes the same file');
});
