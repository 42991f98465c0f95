/**
 * The pointer rule at the delivery (behaviour.md §6 step 3), with real files: each `deliver`
 * call starts from what is on disk, as a delivery after a restart does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/base/clock.js';
import { deliver, prepareProcTemp, type DeliveryResult } from '../../src/service/jobs/deliver.js';
import { smallMef } from '../helpers/small-fits.js';
import { tempDir } from '../helpers/temp.js';

const TZ = 'America/Phoenix';

async function folders(t: { after(fn: () => Promise<void> | void): void }) {
  const root = await tempDir(t, 'dataman-pointer-');
  const procDir = join(root, 'proc');
  const repoDir = join(root, 'newdata');
  await mkdir(procDir);
  await mkdir(repoDir);
  return { procDir, repoDir, pointer: join(repoDir, 'MODS1B.new') };
}

type Folders = Awaited<ReturnType<typeof folders>>;

/** A processed file of raw name `mods1b.20260210.<seq>.fits` exposed at `dateObs`, delivered. */
async function deliverExposure(f: Folders, seq: number, dateObs: string | undefined): Promise<DeliveryResult> {
  const baseName = `mods1b.20260210.${String(seq).padStart(4, '0')}.fits`;
  const { tempPath } = await prepareProcTemp(f.procDir, '20260210', baseName);
  const primary = dateObs === undefined ? [] : [{ keyword: 'DATE-OBS', kind: 'string' as const, value: dateObs, comment: 'UTC Date at start of obs' }];
  await writeFile(tempPath, await smallMef({ checksums: true, primary }));
  return deliver(
    { tempPath, repoDir: f.repoDir, baseName, channel: 'mods1b', instrumentId: 'mods1b', fileMode: 0o644, verifyChecksums: true },
    { clock: new ManualClock(), timeZone: TZ },
  );
}

const pointsAt = async (f: Folders) => (await readFile(f.pointer, 'utf8')).trim();

test('an earlier exposure delivered after a later one is delivered, and the pointer stays on the later one', async (t) => {
  const f = await folders(t);
  const newer = await deliverExposure(f, 20, '2026-02-10T03:20:00.250');
  assert.equal(newer.pointer, 'moved');
  assert.match(newer.pointerReason, /^no pointer yet/);
  assert.equal(await pointsAt(f), 'mods1b.20260210.0020.fits');

  const older = await deliverExposure(f, 3, '2026-02-10T03:03:00.000');
  assert.equal(older.pointer, 'kept');
  assert.equal(older.pointerReason,
    'mods1b.20260210.0003.fits (DATE-OBS 2026-02-10T03:03:00.000, sequence 3) is an earlier exposure than '
    + 'mods1b.20260210.0020.fits (DATE-OBS 2026-02-10T03:20:00.250, sequence 20), which the pointer keeps naming');
  assert.deepEqual(older.warnings, []);
  assert.equal(await pointsAt(f), 'mods1b.20260210.0020.fits', 'the pointer did not go back');
  assert.deepEqual((await readdir(f.repoDir)).sort(), ['MODS1B.new', 'mods1b.20260210.0003.fits', 'mods1b.20260210.0020.fits'],
    'the earlier exposure is in repoDir all the same, with no temporary left');
  assert.deepEqual(await readFile(older.repoPath), await readFile(join(f.procDir, '20260210', 'mods1b.20260210.0003.fits')));

  // Same exposure start to the millisecond: the sequence number decides.
  assert.equal((await deliverExposure(f, 19, '2026-02-10T03:20:00.2509')).pointer, 'kept');
  assert.equal((await deliverExposure(f, 21, '2026-02-10T03:20:00.250')).pointer, 'moved');
  assert.equal(await pointsAt(f), 'mods1b.20260210.0021.fits');
  assert.equal((await deliverExposure(f, 22, '2026-02-10T03:25:00')).pointer, 'moved');
  assert.equal(await pointsAt(f), 'mods1b.20260210.0022.fits');
});

test('a pointer naming a file that is gone, not FITS, without DATE-OBS, or no file name does not hold the pointer', async (t) => {
  const f = await folders(t);
  const cases: Array<[string, () => Promise<void>, RegExp, boolean]> = [
    ['gone', () => writeFile(f.pointer, 'mods1b.20260210.0090.fits\n'), /^the pointer named mods1b\.20260210\.0090\.fits, which is gone; it now names/, false],
    ['not FITS', async () => {
      await writeFile(join(f.repoDir, 'notes.txt'), 'observing notes\n');
      await writeFile(f.pointer, 'notes.txt\n');
    }, /^the pointer named notes\.txt, which is not a FITS file, so it now names/, true],
    ['no DATE-OBS', async () => {
      await writeFile(join(f.repoDir, 'mods1b.20260210.0091.fits'), await smallMef());
      await writeFile(f.pointer, 'mods1b.20260210.0091.fits\n');
    }, /^the pointer named mods1b\.20260210\.0091\.fits, which has no usable DATE-OBS, so it now names/, true],
    ['a date alone', async () => {
      await writeFile(join(f.repoDir, 'mods1b.20260210.0092.fits'), await smallMef({ primary: [{ keyword: 'DATE-OBS', kind: 'string', value: '2026-02-11', comment: undefined }] }));
      await writeFile(f.pointer, 'mods1b.20260210.0092.fits\n');
    }, /which has no usable DATE-OBS/, true],
    ['no file name', () => writeFile(f.pointer, '\n'), /^the pointer named "", which is not a file name in MODS1B\.new/, true],
  ];
  let seq = 1;
  for (const [what, arrange, reason, warned] of cases) {
    await arrange();
    // Each delivered exposure is earlier than the one before: only the unusable pointer lets it through.
    const result = await deliverExposure(f, seq, `2026-02-10T02:${String(60 - seq * 5).padStart(2, '0')}:00`);
    assert.equal(result.pointer, 'moved', what);
    assert.match(result.pointerReason, reason, what);
    assert.deepEqual(result.warnings, warned ? [`MODS1B.new: ${result.pointerReason}`] : [], what);
    assert.equal(await pointsAt(f), result.deliveredName, what);
    seq++;
  }
});

test('a delivery under a unique name follows the rule by its DATE-OBS and its raw name', async (t) => {
  const f = await folders(t);
  await deliverExposure(f, 5, '2026-02-10T03:05:00');
  // The repository name is taken (an earlier run's file): this one is delivered as the UNIQNAME.
  await writeFile(join(f.repoDir, 'mods1b.20260210.0004.fits'), 'not ours');
  const clash = await deliverExposure(f, 4, '2026-02-10T03:04:00');
  assert.equal(clash.renamed, true);
  assert.equal(clash.pointer, 'kept');
  assert.match(clash.pointerReason, /^mods1b\.20260114\.211233\.fits \(DATE-OBS 2026-02-10T03:04:00, sequence 4\) is an earlier exposure than mods1b\.20260210\.0005\.fits/);
  assert.equal(await pointsAt(f), 'mods1b.20260210.0005.fits');
  const later = await deliverExposure(f, 6, '2026-02-10T03:06:00');
  assert.equal(later.pointer, 'moved');
});
