import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { bufferSource, verifyFile, withFileSource } from '../../src/fits/index.js';
import { ManualClock } from '../../src/base/clock.js';
import {
  backoffMs,
  deliver,
  DeliveryError,
  prepareDelivery,
  prepareProcTemp,
  type DeliveryOptions,
  type DeliveryProgress,
  type DeliveryRequest,
  type DeliveryStep,
} from '../../src/service/jobs/deliver.js';
import { smallMef } from '../helpers/small-fits.js';
import { tempDir } from '../helpers/temp.js';
import { FaultyFs, Gate, type Call, type FsOp } from './helpers/faulty-fs.js';

const BASE = 'mods1b.20260115.0001.fits';
const OBS_DATE = '20260115';
const TZ = 'America/Phoenix';
/** ManualClock's default start, 2026-01-15 04:12:33 UTC, on the Arizona wall clock. */
const UNIQ = 'mods1b.20260114.211233.fits';
const MODE = 0o640;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Env {
  procDir: string;
  dayDir: string;
  repoDir: string;
  tempPath: string;
  processed: Buffer;
  pointerPath: string;
  request: DeliveryRequest;
  clock: ManualClock;
}

let processedBytes: Buffer | undefined;
let otherBytes: Buffer | undefined;
/** The processed file of these tests: a small MEF with CHECKSUM/DATASUM in every HDU. */
async function processedFile(): Promise<Buffer> {
  return (processedBytes ??= await smallMef({ checksums: true }));
}
/** Bytes of files that were there before (a different file: no checksum cards). */
async function otherFile(): Promise<Buffer> {
  return (otherBytes ??= await smallMef());
}

async function setup(t: { after(fn: () => Promise<void> | void): void }, base = BASE): Promise<Env> {
  const root = await tempDir(t, 'dataman-deliver-');
  const procDir = join(root, 'proc');
  const repoDir = join(root, 'newdata');
  await mkdir(procDir);
  await mkdir(repoDir);
  const processed = await processedFile();
  const { dayDir, tempPath } = await prepareProcTemp(procDir, OBS_DATE, base);
  await writeFile(tempPath, processed);
  return {
    procDir, dayDir, repoDir, tempPath, processed,
    pointerPath: join(repoDir, 'MODS1B.new'),
    clock: new ManualClock(),
    request: { tempPath, repoDir, baseName: base, channel: 'mods1b', instrumentId: 'mods1b', fileMode: MODE, verifyChecksums: true },
  };
}

function options(env: Env, extra: DeliveryOptions = {}): DeliveryOptions {
  return { clock: env.clock, timeZone: TZ, chunkBytes: 4096, ...extra };
}

function faulty(env: Env, fs: FaultyFs, extra: DeliveryOptions = {}): DeliveryOptions {
  return options(env, { fs, onStep: fs.onStep, ...extra });
}

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

const visible = (list: string[]) => list.filter((n) => !n.startsWith('.'));
const dotted = (list: string[]) => list.filter((n) => n.startsWith('.'));

async function rejectsWith(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DeliveryError) return err;
    throw err;
  }
  assert.fail('expected a DeliveryError');
}

/** Files that were there before a delivery, with their bytes, to prove they are never touched. */
async function seedExisting(env: Env, files: Record<string, string | Buffer>): Promise<Map<string, Buffer>> {
  const seeded = new Map<string, Buffer>();
  for (const [path, content] of Object.entries(files)) {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    await writeFile(path, bytes);
    seeded.set(path, bytes);
  }
  return seeded;
}

async function assertUntouched(seeded: Map<string, Buffer>, except: string[] = []): Promise<void> {
  for (const [path, bytes] of seeded) {
    if (except.includes(path)) continue;
    assert.deepEqual(await readFile(path), bytes, `${path} must be untouched`);
  }
}

/** After a completed delivery: exactly one copy of the processed bytes in each folder, the pointer naming it, no temporaries. */
async function assertDeliveredOnce(env: Env, seeded: Map<string, Buffer>): Promise<{ procName: string; repoName: string }> {
  const found = async (dir: string) => {
    const matches: string[] = [];
    for (const name of visible(await names(dir))) {
      const path = join(dir, name);
      if (seeded.has(path) || !name.endsWith('.fits')) continue;
      const bytes = await readFile(path);
      assert.deepEqual(bytes, env.processed, `${path} holds the processed bytes`);
      matches.push(name);
    }
    return matches;
  };
  const procNames = await found(env.dayDir);
  const repoNames = await found(env.repoDir);
  assert.equal(procNames.length, 1, `one processed copy, got ${procNames.join(', ')}`);
  assert.equal(repoNames.length, 1, `one repository copy, got ${repoNames.join(', ')}`);
  assert.deepEqual(dotted(await names(env.dayDir)), [], 'no temporaries in the day folder');
  assert.deepEqual(dotted(await names(env.repoDir)), [], 'no temporaries in the repository');
  assert.equal(await readFile(env.pointerPath, 'utf8'), `${repoNames[0]}\n`);
  return { procName: procNames[0]!, repoName: repoNames[0]! };
}

const mode = async (path: string) => (await stat(path)).mode & 0o7777;

// ------------------------------------------------------------------------------ normal flow

test('delivers the processed file to the day folder and the repository, then points MODS1B.new at it', async (t) => {
  const env = await setup(t);
  const fs = new FaultyFs();
  const result = await deliver(env.request, faulty(env, fs));

  assert.equal(result.procPath, join(env.dayDir, BASE));
  assert.equal(result.repoPath, join(env.repoDir, BASE));
  assert.equal(result.deliveredName, BASE);
  assert.equal(result.pointerPath, env.pointerPath);
  assert.equal(result.renamed, false);
  assert.deepEqual(result.warnings, []);
  assert.equal(result.bytes, env.processed.length);
  assert.equal(result.bytes, env.processed.length);
  assert.deepEqual(await readFile(result.procPath), env.processed);
  assert.deepEqual(await readFile(result.repoPath), env.processed);
  assert.equal(await readFile(env.pointerPath, 'utf8'), `${BASE}\n`);
  assert.equal(await mode(result.procPath), MODE);
  assert.equal(await mode(result.repoPath), MODE);
  assert.equal(await mode(env.pointerPath), MODE);
  assert.deepEqual(await names(env.dayDir), [BASE]);
  assert.deepEqual(await names(env.repoDir), ['MODS1B.new', BASE]);

  // The repository temporary: dot-prefixed, never `*.fits`, written, synced and verified
  // before the final name appears; the pointer only after the repository copy.
  const repoTemps = [...new Set(fs.calls.filter((c) => c.path.startsWith(env.repoDir + '/.') && c.op === 'write').map((c) => c.path))];
  assert.equal(repoTemps.length, 2, 'one data temporary and one pointer temporary');
  for (const temp of repoTemps) {
    const name = temp.slice(env.repoDir.length + 1);
    assert.ok(name.startsWith('.'), name);
    assert.ok(!name.endsWith('.fits'), name);
  }
  const steps = fs.calls.map((c) => c.step).filter((step, i, all) => step !== all[i - 1]);
  // The copy is made and verified from the temporary first; then the names appear in §6 order.
  assert.deepEqual(steps, ['repo-copy', 'repo-verify', 'proc-rename', 'repo-rename', 'pointer']);
  const index = (pred: (c: Call) => boolean) => fs.calls.findIndex(pred);
  const dataTemp = repoTemps.find((p) => p.includes(BASE))!;
  const repoLink = index((c) => c.op === 'link' && c.path === result.repoPath);
  assert.ok(index((c) => c.op === 'fsync' && c.path === dataTemp) < repoLink);
  assert.ok(index((c) => c.step === 'repo-verify' && c.op === 'read' && c.path === dataTemp) < repoLink);
  assert.ok(repoLink < index((c) => c.op === 'rename' && c.path === env.pointerPath));
  assert.ok(index((c) => c.op === 'fsync' && c.path === env.tempPath) < index((c) => c.op === 'link' && c.path === result.procPath));
  assert.ok(index((c) => c.op === 'link' && c.path === result.procPath) < repoLink, 'the processed copy is named first');
  assert.ok(fs.calls.filter((c) => c.step === 'repo-copy' && c.op === 'read').every((c) => c.path === env.tempPath), 'copied from the temporary');
});

test('prepareProcTemp creates the day folder and a dot-named temporary that is not *.fits', async (t) => {
  const root = await tempDir(t);
  const { dayDir, tempPath } = await prepareProcTemp(join(root, 'proc'), OBS_DATE, BASE);
  assert.equal(dayDir, join(root, 'proc', OBS_DATE));
  assert.ok((await stat(dayDir)).isDirectory());
  const name = tempPath.slice(dayDir.length + 1);
  assert.ok(name.startsWith(`.${BASE}.`) && !name.endsWith('.fits'), name);
});

// ----------------------------------------------------------------------------- name clashes

test('a name taken in the day folder gives the processed copy the UNIQNAME; the repository keeps the name', async (t) => {
  const env = await setup(t);
  const seeded = await seedExisting(env, { [join(env.dayDir, BASE)]: await otherFile() });
  const result = await deliver(env.request, options(env));
  assert.equal(result.procPath, join(env.dayDir, UNIQ));
  assert.equal(result.repoPath, join(env.repoDir, BASE));
  assert.equal(result.renamed, true);
  assert.match(result.warnings.join('\n'), new RegExp(`${BASE} exists, delivered as ${UNIQ.replace(/\./g, '\\.')}`));
  await assertUntouched(seeded);
  const { procName, repoName } = await assertDeliveredOnce(env, seeded);
  assert.deepEqual([procName, repoName], [UNIQ, BASE]);
});

test('a name taken in the repository gives the copy the UNIQNAME and MODS1B.new names it', async (t) => {
  const env = await setup(t);
  const seeded = await seedExisting(env, { [join(env.repoDir, BASE)]: await otherFile(), [env.pointerPath]: `${BASE}\n` });
  const result = await deliver(env.request, options(env));
  assert.equal(result.procPath, join(env.dayDir, BASE));
  assert.equal(result.repoPath, join(env.repoDir, UNIQ));
  assert.equal(result.deliveredName, UNIQ);
  assert.equal(result.renamed, true);
  await assertUntouched(seeded, [env.pointerPath]);
  await assertDeliveredOnce(env, seeded);
  assert.equal(await readFile(env.pointerPath, 'utf8'), `${UNIQ}\n`);
});

test('when the UNIQNAME is taken too, -2 and then -3 are appended before .fits', async (t) => {
  const env = await setup(t);
  const other = await otherFile();
  const seeded = await seedExisting(env, {
    [join(env.dayDir, BASE)]: other,
    [join(env.dayDir, UNIQ)]: other,
    [join(env.repoDir, BASE)]: other,
    [join(env.repoDir, UNIQ)]: other,
    [join(env.repoDir, UNIQ.replace('.fits', '-2.fits'))]: other,
  });
  const result = await deliver(env.request, options(env));
  assert.equal(result.procPath, join(env.dayDir, 'mods1b.20260114.211233-2.fits'));
  assert.equal(result.repoPath, join(env.repoDir, 'mods1b.20260114.211233-3.fits'));
  assert.equal(await readFile(env.pointerPath, 'utf8'), 'mods1b.20260114.211233-3.fits\n');
  await assertUntouched(seeded);
  await assertDeliveredOnce(env, seeded);
});

test('two deliveries of the same name at once both succeed under different names, neither overwritten', async (t) => {
  const env = await setup(t);
  const second = await prepareProcTemp(env.procDir, OBS_DATE, BASE);
  await writeFile(second.tempPath, env.processed);
  const [a, b] = await Promise.all([
    deliver(env.request, options(env)),
    deliver({ ...env.request, tempPath: second.tempPath }, options(env)),
  ]);
  assert.deepEqual([a.procPath, b.procPath].sort(), [join(env.dayDir, BASE), join(env.dayDir, UNIQ)].sort());
  assert.deepEqual([a.repoPath, b.repoPath].sort(), [join(env.repoDir, BASE), join(env.repoDir, UNIQ)].sort());
  assert.deepEqual(await names(env.dayDir), [BASE, UNIQ].sort());
  assert.deepEqual(await names(env.repoDir), [BASE, 'MODS1B.new', UNIQ].sort());
  assert.ok([`${BASE}\n`, `${UNIQ}\n`].includes(await readFile(env.pointerPath, 'utf8')));
});

test('names that cannot be made unique fail permanently, with nothing left behind', async (t) => {
  const env = await setup(t);
  const other = await otherFile();
  const seeded = await seedExisting(env, {
    [join(env.repoDir, BASE)]: other,
    [join(env.repoDir, UNIQ)]: other,
    [join(env.repoDir, UNIQ.replace('.fits', '-2.fits'))]: other,
  });
  const err = await rejectsWith(deliver(env.request, options(env, { maxNameAttempts: 3 })));
  assert.equal(err.code, 'delivery-names-exhausted');
  assert.equal(err.retryable, false);
  assert.equal(err.step, 'repo-rename');
  assert.match(err.message, new RegExp(BASE.replace(/\./g, '\\.')));
  assert.deepEqual(dotted(await names(env.repoDir)), []);
  assert.equal(err.progress.procPath, join(env.dayDir, BASE));
  await assertUntouched(seeded);
});

test('an NFS link whose reply was lost (EEXIST although it worked) is not taken for a clash', async (t) => {
  const env = await setup(t);
  const fs = new FaultyFs().inject({ op: 'link', action: 'fail-after', errno: 'EEXIST', times: 2 });
  const result = await deliver(env.request, faulty(env, fs));
  assert.equal(fs.fired, 2);
  assert.equal(result.renamed, false);
  assert.equal(result.procPath, join(env.dayDir, BASE));
  assert.equal(result.repoPath, join(env.repoDir, BASE));
  await assertDeliveredOnce(env, new Map());
});

// ------------------------------------------------------------------------ faults, one by one

/** The pairs the delivery must use at least (the table below covers every call actually made). */
const EXPECTED_OPS: Record<DeliveryStep, FsOp[]> = {
  'proc-rename': ['stat', 'open', 'fsync', 'close', 'chmod', 'link', 'unlink', 'fsyncDir'],
  'repo-copy': ['stat', 'open', 'read', 'write', 'fsync', 'close', 'chmod'],
  'repo-verify': ['stat', 'open', 'read', 'close'],
  'repo-rename': ['stat', 'link', 'unlink', 'fsyncDir'],
  pointer: ['open', 'write', 'fsync', 'close', 'chmod', 'rename', 'fsyncDir'],
};

/** Transient error numbers, and EXDEV as a permanent one (a temporary outside the day folder). */
const ERRNOS: Array<[string, boolean]> = [['ENOSPC', true], ['EACCES', true], ['EIO', true], ['ESTALE', true], ['EXDEV', false]];

test('every operation of every step, failing with each error or slow, leaves a consistent state and the delivery completes once', async (t) => {
  // A clean run lists the calls a delivery makes: each becomes a fault site.
  const probe = await setup(t);
  await seedWithEarlierDelivery(probe);
  const recorder = new FaultyFs();
  await deliver(probe.request, faulty(probe, recorder));
  const sites: Array<{ step: DeliveryStep; op: FsOp; occurrence: number; path: string }> = [];
  const counts = new Map<string, number>();
  for (const call of recorder.calls) {
    assert.ok(call.step !== undefined, `${call.op} ${call.path} outside a step`);
    const key = `${call.step}/${call.op}`;
    const occurrence = counts.get(key) ?? 0;
    counts.set(key, occurrence + 1);
    sites.push({ step: call.step, op: call.op, occurrence, path: call.path });
  }
  for (const [step, ops] of Object.entries(EXPECTED_OPS)) {
    for (const op of ops) assert.ok(counts.has(`${step}/${op}`), `a delivery calls ${op} in ${step}`);
  }

  for (const site of sites) {
    if (readsCurrentPointer(site)) {
      await t.test(`${site.step}: ${site.op} #${site.occurrence + 1} (what the pointer names now) fails: the pointer moves, with a warning`, async (t) => {
        const env = await setup(t);
        const seeded = await seedWithEarlierDelivery(env);
        const fs = new FaultyFs().inject({ op: site.op, step: site.step, after: site.occurrence, action: 'fail', errno: 'EIO' });
        const result = await deliver(env.request, faulty(env, fs));
        assert.equal(fs.fired, 1);
        assert.equal(result.pointer, 'moved');
        assert.match(result.pointerReason, /cannot be read \(.*EIO.*injected fault/);
        assert.deepEqual(result.warnings, [`MODS1B.new: ${result.pointerReason}`]);
        assert.deepEqual(await assertDeliveredOnce(env, seeded), { procName: BASE, repoName: BASE });
      });
      continue;
    }
    for (const [errno, retryable] of ERRNOS) {
      await t.test(`${site.step}: ${site.op} #${site.occurrence + 1} fails with ${errno}`, async (t) => {
        const env = await setup(t);
        const seeded = await seedWithEarlierDelivery(env);
        const fs = new FaultyFs().inject({ op: site.op, step: site.step, after: site.occurrence, action: 'fail', errno });
        const err = await rejectsWith(deliver(env.request, faulty(env, fs)));
        assert.equal(fs.fired, 1);
        assert.equal(err.retryable, retryable, err.message);
        assert.equal(err.step, site.step, err.message);
        assert.equal(err.code, `delivery-${errno}`);
        assert.equal(err.errno, errno);
        assert.match(err.message, new RegExp(`${errno}.*injected fault`));
        assert.match(err.message, new RegExp(BASE.replace(/\./g, '\\.')));

        await assertNothingPartial(env, seeded);
        // The only dot-files: the input, until step 1 is done, and leftovers the error reports.
        const leftovers = err.progress.leftovers ?? [];
        for (const leftover of leftovers) assert.ok(err.message.includes(leftover), `${leftover} reported`);
        const dayTemps = dotted(await names(env.dayDir)).map((n) => join(env.dayDir, n));
        const repoTemps = dotted(await names(env.repoDir)).map((n) => join(env.repoDir, n));
        for (const temp of [...dayTemps, ...repoTemps]) {
          assert.ok(leftovers.includes(temp) || (temp === env.tempPath && err.progress.procPath === undefined), `unexpected temporary ${temp}`);
        }
        if (err.progress.procPath === undefined) assert.deepEqual(await readFile(env.tempPath), env.processed, 'the input is kept for the retry');

        // The fault clears; the retry resumes where the attempt stopped and delivers once.
        const result = await deliver({ ...env.request, resume: err.progress }, faulty(env, fs));
        assert.equal(result.renamed, false);
        const delivered = await assertDeliveredOnce(env, seeded);
        assert.deepEqual(delivered, { procName: BASE, repoName: BASE });
      });
    }
    await t.test(`${site.step}: ${site.op} #${site.occurrence + 1} is slow (held until released)`, async (t) => {
      const env = await setup(t);
      const seeded = await seedWithEarlierDelivery(env);
      const held = new Gate();
      const fs = new FaultyFs().inject({ op: site.op, step: site.step, after: site.occurrence, action: 'hold', gate: held });
      const delivery = deliver(env.request, faulty(env, fs));
      await held.reached;
      // A reader looking while the call hangs (an NFS server slow to answer).
      await assertNothingPartial(env, seeded);
      held.release();
      await delivery;
      assert.deepEqual(await assertDeliveredOnce(env, seeded), { procName: BASE, repoName: BASE });
    });
  }
});

/**
 * A read of the pointer or of the file it names (the pointer rule): a failure there never holds
 * the delivery up (behaviour.md §6 step 3), unlike every other fault site.
 */
function readsCurrentPointer(site: { step: DeliveryStep; op: FsOp; path: string }): boolean {
  return site.step === 'pointer' && ['open', 'read', 'close'].includes(site.op) && ['MODS1B.new', 'mods1b.20260115.0000.fits'].includes(basename(site.path));
}

/** Files of an earlier delivery (another raw file), which a delivery must never touch. */
async function seedWithEarlierDelivery(env: Env): Promise<Map<string, Buffer>> {
  const other = await otherFile();
  return seedExisting(env, {
    [join(env.dayDir, 'mods1b.20260115.0000.fits')]: other,
    [join(env.repoDir, 'mods1b.20260115.0000.fits')]: other,
    [env.pointerPath]: 'mods1b.20260115.0000.fits\n',
  });
}

/** Nothing partial under a final name; the old files untouched; the pointer old or new, naming a whole file. */
async function assertNothingPartial(env: Env, seeded: Map<string, Buffer>): Promise<void> {
  await assertUntouched(seeded, [env.pointerPath]);
  for (const dir of [env.dayDir, env.repoDir]) {
    for (const name of visible(await names(dir))) {
      const path = join(dir, name);
      if (seeded.has(path) || name === 'MODS1B.new') continue;
      assert.deepEqual(await readFile(path), env.processed, `${path} is whole`);
    }
  }
  const pointer = await readFile(env.pointerPath, 'utf8');
  assert.ok(pointer === 'mods1b.20260115.0000.fits\n' || pointer === `${BASE}\n`, pointer);
  if (pointer === `${BASE}\n`) assert.deepEqual(await readFile(join(env.repoDir, BASE)), env.processed);
}

test('a failed clean-up is reported in the message and finished by the retry', async (t) => {
  const env = await setup(t);
  const fs = new FaultyFs()
    .inject({ op: 'write', step: 'repo-copy', action: 'fail', errno: 'ENOSPC' })
    .inject({ op: 'unlink', step: 'repo-copy', action: 'fail', errno: 'EIO' });
  const err = await rejectsWith(deliver(env.request, faulty(env, fs)));
  assert.equal(err.code, 'delivery-ENOSPC');
  assert.equal(err.retryable, true);
  const leftovers = err.progress.leftovers ?? [];
  assert.equal(leftovers.length, 1);
  const leftover = leftovers[0]!;
  assert.match(err.message, /clean-up failed: could not remove .*EIO/);
  assert.ok(err.message.includes(leftover));
  assert.deepEqual(dotted(await names(env.repoDir)), [leftover.slice(env.repoDir.length + 1)]);
  assert.deepEqual(visible(await names(env.repoDir)), []);

  await deliver({ ...env.request, resume: err.progress }, faulty(env, fs));
  await assertDeliveredOnce(env, new Map());
});

test('a leftover that still cannot be removed on the retry is reported as a warning', async (t) => {
  const env = await setup(t);
  const fs = new FaultyFs()
    .inject({ op: 'fsync', step: 'repo-copy', action: 'fail', errno: 'EIO' })
    // Fails the clean-up after the fsync fault, then the retry's removal of the leftover.
    .inject({ op: 'unlink', path: (p) => p.startsWith(`${env.repoDir}/.`), action: 'fail', errno: 'EACCES', times: 2 });
  const err = await rejectsWith(deliver(env.request, faulty(env, fs)));
  const leftover = err.progress.leftovers?.[0];
  assert.ok(leftover !== undefined);
  const result = await deliver({ ...env.request, resume: err.progress }, faulty(env, fs));
  assert.match(result.warnings.join('\n'), new RegExp(`could not remove the temporary ${leftover.replace(/\./g, '\\.')}.*EACCES`));
  assert.equal(fs.fired, 3);
  assert.deepEqual(visible(await names(env.repoDir)), ['MODS1B.new', BASE]);
});

// ------------------------------------------------------------------- permanent and ENOENT

test('a missing input is a permanent failure', async (t) => {
  const env = await setup(t);
  await rm(env.tempPath);
  const err = await rejectsWith(deliver(env.request, options(env)));
  assert.equal(err.code, 'delivery-input-missing');
  assert.equal(err.retryable, false);
  assert.equal(err.step, 'repo-copy');
  assert.equal(err.path, env.tempPath);
  assert.ok(err.message.includes(env.tempPath));
  assert.deepEqual(await names(env.repoDir), []);
});

test('the repository folder gone (NFS mount away) is transient; the retry does not deliver the processed copy twice', async (t) => {
  const env = await setup(t);
  await rm(env.repoDir, { recursive: true });
  const err = await rejectsWith(deliver(env.request, options(env)));
  assert.equal(err.code, 'delivery-ENOENT');
  assert.equal(err.retryable, true);
  assert.equal(err.step, 'repo-copy');
  assert.equal(err.path, env.repoDir);
  assert.match(err.message, /NFS/);
  assert.equal(err.progress.procPath, undefined, 'nothing is named before the copy is made');
  assert.deepEqual(await names(env.dayDir), [basename(env.tempPath)], 'the processed temporary is kept for the retry');

  await mkdir(env.repoDir);
  const again = await rejectsWith(deliver({ ...env.request, resume: err.progress }, options(env, {
    fs: new FaultyFs().inject({ op: 'write', action: 'fail', errno: 'ESTALE' }),
  })));
  assert.equal(again.code, 'delivery-ESTALE');
  const result = await deliver({ ...env.request, resume: again.progress }, options(env));
  assert.equal(result.procPath, join(env.dayDir, BASE));
  await assertDeliveredOnce(env, new Map());
});

test('the processed copy gone before a resumed repository copy is a permanent failure', async (t) => {
  const env = await setup(t);
  const fs = new FaultyFs().inject({ op: 'link', step: 'repo-rename', action: 'fail', errno: 'EIO' });
  const err = await rejectsWith(deliver(env.request, faulty(env, fs)));
  assert.equal(err.step, 'repo-rename');
  await rm(err.progress.procPath!);
  const again = await rejectsWith(deliver({ ...env.request, resume: err.progress }, options(env)));
  assert.equal(again.code, 'delivery-input-missing');
  assert.equal(again.retryable, false);
  assert.equal(again.step, 'repo-copy');
  assert.deepEqual(await names(env.repoDir), []);
});

test('names and paths that are not plain file names are refused', async (t) => {
  const env = await setup(t);
  for (const bad of [
    { baseName: '../x.fits' }, { baseName: '.hidden.fits' }, { baseName: 'x.txt' }, { tempPath: join(env.dayDir, BASE) },
    { channel: 'mods/1b' }, { fileMode: 0o10000 },
  ]) {
    const err = await rejectsWith(deliver({ ...env.request, ...bad }, options(env)));
    assert.equal(err.code, 'delivery-bad-request', JSON.stringify(bad));
    assert.equal(err.retryable, false);
  }
  assert.deepEqual(await names(env.repoDir), []);
});

// --------------------------------------------------------------------------- verification

for (const verifyChecksums of [true, false]) {
  test(`a copy corrupted on its way to the repository is never given a final name (checksums ${verifyChecksums ? 'on' : 'off'})`, async (t) => {
    const env = await setup(t);
    const seeded = await seedExisting(env, { [env.pointerPath]: 'mods1b.20260115.0000.fits\n' });
    const fs = new FaultyFs().inject({ op: 'write', step: 'repo-copy', action: 'corrupt', times: Infinity });
    const err = await rejectsWith(deliver({ ...env.request, verifyChecksums }, faulty(env, fs)));
    assert.equal(err.code, 'delivery-verify-failed');
    assert.equal(err.retryable, false);
    assert.equal(err.step, 'repo-verify');
    assert.match(err.message, /failed verification twice/);
    assert.match(err.message, /bytes \d+\.\.\d+ differ from /);
    assert.deepEqual(await names(env.repoDir), ['MODS1B.new'], 'no final name, no temporary');
    await assertUntouched(seeded);
    assert.ok(fs.calls.filter((c) => c.op === 'open' && c.step === 'repo-copy' && c.path.startsWith(env.repoDir)).length === 2, 'copied twice');
  });
}

test('a copy corrupted once is copied again and delivered intact, with a warning', async (t) => {
  const env = await setup(t);
  const fs = new FaultyFs().inject({ op: 'write', step: 'repo-copy', action: 'corrupt' });
  const result = await deliver(env.request, faulty(env, fs));
  assert.match(result.warnings.join('\n'), /failed verification .*copied again/);
  assert.deepEqual(await readFile(result.repoPath), env.processed);
  await assertDeliveredOnce(env, new Map());
});

test('a processed file whose checksums are wrong fails verification permanently and is not put in the repository', async (t) => {
  const env = await setup(t);
  const bad = Buffer.from(env.processed);
  bad[2880 * 2 + 7] = bad[2880 * 2 + 7]! ^ 0x10; // a data byte of the image
  await writeFile(env.tempPath, bad);
  const err = await rejectsWith(deliver(env.request, options(env)));
  assert.equal(err.code, 'delivery-verify-failed');
  assert.equal(err.retryable, false);
  assert.match(err.message, /DATASUM|CHECKSUM/);
  assert.deepEqual(await names(env.repoDir), []);
});

// ----------------------------------------------------------------------- ordering, readers

test('while the repository copy is being synced, no final name and no pointer exist yet', async (t) => {
  const env = await setup(t);
  const held = new Gate();
  const fs = new FaultyFs().inject({ op: 'fsync', step: 'repo-copy', action: 'hold', gate: held });
  const delivery = deliver(env.request, faulty(env, fs));
  await held.reached;
  const during = await names(env.repoDir);
  assert.deepEqual(visible(during), []);
  assert.equal(dotted(during).length, 1);
  assert.ok(!dotted(during)[0]!.endsWith('.fits'));
  assert.deepEqual(await names(env.dayDir), [basename(env.tempPath)], 'nor in the day folder');
  held.release();
  const result = await delivery;
  assert.equal(result.deliveredName, BASE);
  await assertDeliveredOnce(env, new Map());
});

test('prepareDelivery makes the verified repository copy and no name; commit names everything', async (t) => {
  const env = await setup(t);
  const seeded = await seedExisting(env, { [env.pointerPath]: 'mods1b.20260115.0000.fits\n' });
  const fs = new FaultyFs();
  const prepared = await prepareDelivery(env.request, faulty(env, fs));
  assert.deepEqual(visible(await names(env.repoDir)), ['MODS1B.new']);
  assert.equal(dotted(await names(env.repoDir)).length, 1, 'the copy, under its temporary name');
  assert.deepEqual(await names(env.dayDir), [basename(env.tempPath)]);
  await assertUntouched(seeded);
  assert.ok(fs.calls.some((c) => c.step === 'repo-verify' && c.op === 'read'), 'verified before commit');
  const result = await prepared.commit();
  assert.equal(result.deliveredName, BASE);
  assert.deepEqual(await assertDeliveredOnce(env, seeded), { procName: BASE, repoName: BASE });
  assert.equal(fs.calls.filter((c) => c.step === 'repo-copy' && c.op === 'open' && c.path.startsWith(env.repoDir)).length, 1, 'copied once');
});

test('an abandoned prepared delivery leaves nothing in the repository and the processed temporary in place', async (t) => {
  const env = await setup(t);
  const prepared = await prepareDelivery(env.request, options(env));
  assert.deepEqual(await prepared.abandon(), []);
  assert.deepEqual(await names(env.repoDir), []);
  assert.deepEqual(await names(env.dayDir), [basename(env.tempPath)]);
});

test('a prepared copy that cannot be removed is returned by abandon, not thrown, and the next attempt removes it', async (t) => {
  const env = await setup(t);
  const fs = new FaultyFs().inject({ op: 'unlink', path: (p) => p.startsWith(`${env.repoDir}/.`), action: 'fail', errno: 'EACCES' });
  const prepared = await prepareDelivery(env.request, faulty(env, fs));
  const left = await prepared.abandon();
  assert.deepEqual(left.map((p) => basename(p)), dotted(await names(env.repoDir)), 'the copy that is still there, by path');
  assert.equal(left.length, 1);
  assert.deepEqual(visible(await names(env.repoDir)), []);
  // The next attempt is told, and removes it.
  await deliver({ ...env.request, resume: { leftovers: left } }, options(env));
  await assertDeliveredOnce(env, new Map());
});

test('while the pointer is written, MODS1B.new still names the previous file in full', async (t) => {
  const env = await setup(t);
  const seeded = await seedExisting(env, { [env.pointerPath]: 'mods1b.20260115.0000.fits\n' });
  const held = new Gate();
  const fs = new FaultyFs().inject({ op: 'rename', step: 'pointer', action: 'hold', gate: held });
  const delivery = deliver(env.request, faulty(env, fs));
  await held.reached;
  await assertUntouched(seeded);
  held.release();
  await delivery;
  assert.equal(await readFile(env.pointerPath, 'utf8'), `${BASE}\n`);
});

test('a reader polling the repository during many deliveries never sees a FITS file that fails verification', async (t) => {
  const env = await setup(t);
  const processedSha = sha(env.processed);
  const requests: DeliveryRequest[] = [];
  for (let i = 0; i < 24; i++) {
    // Eight names delivered three times each: clashes, UNIQNAMEs and suffixes.
    const base = `mods1b.20260115.${String(1 + (i % 8)).padStart(4, '0')}.fits`;
    const { tempPath } = await prepareProcTemp(env.procDir, OBS_DATE, base);
    await writeFile(tempPath, env.processed);
    requests.push({ ...env.request, baseName: base, tempPath });
  }

  // The observer's check does catch what a plain copy shows a reader: a partial file. (Cut at
  // an HDU boundary, a partial copy is a valid, shorter FITS file: hence the SHA-256 too.)
  const partial = await verifyFile(bufferSource(env.processed.subarray(0, 2880 * 2 + 100), 'partial.fits'));
  assert.ok(!(partial.ok && partial.complete));

  let done = false;
  let checked = 0;
  const checkedNames = new Set<string>();
  const observer = (async () => {
    for (;;) {
      const finished = done; // one last pass after the deliveries end
      for (const name of await readdir(env.repoDir)) {
        if (!name.endsWith('.fits')) continue;
        const path = join(env.repoDir, name);
        const report = await withFileSource(path, (source) => verifyFile(source));
        assert.ok(report.ok && report.complete, `${name}: ${report.problems.map((p) => p.message).join('; ')}`);
        assert.equal(sha(await readFile(path)), processedSha);
        checked++;
        checkedNames.add(name);
      }
      let pointer: string | undefined;
      try {
        pointer = await readFile(env.pointerPath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (pointer !== undefined) {
        assert.match(pointer, /^[^/\n]+\.fits\n$/);
        assert.deepEqual(await readFile(join(env.repoDir, pointer.slice(0, -1))), env.processed);
      }
      if (finished) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();

  const results: Array<{ repoPath: string }> = [];
  for (let i = 0; i < requests.length; i += 4) {
    results.push(...(await Promise.all(requests.slice(i, i + 4).map((r) => deliver(r, options(env, { chunkBytes: 2880 }))))));
  }
  done = true;
  await observer;
  assert.equal(new Set(results.map((r) => r.repoPath)).size, 24, 'every delivery under its own name');
  assert.equal(checkedNames.size, 24);
  assert.ok(checked >= 24);
  assert.deepEqual(dotted(await names(env.repoDir)), []);
});

// ------------------------------------------------------------------------------- back-off

test('backoffMs grows exponentially with full jitter and stops at maxMs', () => {
  const almostOne = () => 0.999999;
  assert.equal(backoffMs(1, { random: () => 0 }), 0);
  assert.equal(backoffMs(1, { random: almostOne }), 999);
  assert.equal(backoffMs(2, { random: almostOne }), 1999);
  assert.equal(backoffMs(3, { random: () => 0.5 }), 2000);
  assert.equal(backoffMs(7, { random: almostOne }), 59999);
  assert.equal(backoffMs(50, { random: almostOne }), 59999);
  assert.equal(backoffMs(100_000, { random: almostOne }), 59999);
  assert.equal(backoffMs(3, { baseMs: 10, maxMs: 25, random: almostOne }), 24);
  for (let attempt = 1; attempt < 20; attempt++) {
    const ms = backoffMs(attempt);
    assert.ok(ms >= 0 && ms < Math.min(60000, 1000 * 2 ** (attempt - 1)), `${attempt}: ${ms}`);
  }
  assert.throws(() => backoffMs(0), RangeError);
  assert.throws(() => backoffMs(1.5), RangeError);
  assert.throws(() => backoffMs(1, { random: () => 1 }), RangeError);
});

test('DeliveryError carries what was done so that the service can resume', async (t) => {
  const env = await setup(t);
  const err = await rejectsWith(deliver(env.request, options(env, {
    fs: new FaultyFs().inject({ op: 'rename', action: 'fail', errno: 'EIO' }),
  })));
  assert.equal(err.step, 'pointer');
  const progress: DeliveryProgress = err.progress;
  assert.equal(progress.procPath, join(env.dayDir, BASE));
  assert.deepEqual(progress.repo, { path: join(env.repoDir, BASE), bytes: env.processed.length });
  assert.equal(err.name, 'DeliveryError');
  assert.ok(err.hint?.includes('retried'));
});
