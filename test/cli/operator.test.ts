import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StatusDocument } from '../../src/cli/commands/status.js';
import { serviceRunning } from '../../src/cli/operator.js';
import { parseConfig } from '../../src/ops/config.js';
import { systemClock } from '../../src/base/clock.js';
import { openLedger } from '../../src/service/ledger/ledger.js';
import { generateRaw, writeRaw } from '../../src/simulate/index.js';
import { runCli } from '../helpers/cli.js';
import { deliveries, makeFolders, nextEvent, serviceConfigText, startService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';


const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes the configuration of a temp root (optionally naming the running service's port). */
async function configFile(root: string, edit: (text: string) => string = (t) => t): Promise<string> {
  const path = join(root, 'dataman.yaml');
  await writeFile(path, edit(serviceConfigText(root)));
  return path;
}

test('status shows counts and the failure; --failed exits 1 with the reason; requeue --now of the fixed file delivers it', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  t.after(() => s.stop());
  const delivered = deliveries(s.service, 2);
  const b = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k' });
  const r = await writeRaw(join(root, 'raw', 'mods1r'), { instrument: 'mods1r', roi: '1k' });
  await s.send(`proc /home/data/${b.name}`);
  await s.send(`proc /home/data/${r.name}`);
  await delivered;
  const failed = nextEvent(s.service, 'job:failed');
  await writeFile(join(root, 'drop', 'mods1r.20260115.0007.fits'), 'This is bad data');
  await failed;
  await s.service.idle();
  await s.stop();
  const config = await configFile(root);

  const status = await runCli(['status', '--config', config]);
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.match(status.stdout, /^ledger .*state\/ledger\.sqlite: 3 jobs$/m);
  assert.match(status.stdout, /^service: not running \(UDP 127\.0\.0\.1:0 free\)$/m);
  assert.match(status.stdout, /^ {2}state +total +mods1b +mods1r$/m);
  assert.match(status.stdout, /^ {2}delivered +2 +1 +1$/m);
  assert.match(status.stdout, /^ {2}failed +1 +0 +1$/m);
  assert.match(status.stdout, /^last 3 files:$/m);
  assert.match(status.stdout, /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +mods1b\.20260115\.0001\.fits +mods1b +delivered +mods1b\.20260115\.0001\.fits +0$/m);
  assert.match(status.stdout, /^failures \(1\):\n {2}.* mods1r\.20260115\.0007\.fits {2}mods1r {2}drop {2}\[[a-z-]+\] .*does not start with SIMPLE = T/m);

  const json = await runCli(['status', '--config', config, '--json']);
  assert.equal(json.code, 0);
  const doc = JSON.parse(json.stdout) as StatusDocument;
  assert.equal(doc.version, 1);
  assert.equal(doc.counts.total, 3);
  assert.equal(doc.counts.byState.delivered, 2);
  assert.equal(doc.counts.byChannel.mods1r?.failed, 1);
  assert.equal(doc.recent?.length, 3);
  assert.equal(doc.failures.length, 1);
  assert.equal(doc.failures[0]?.name, 'mods1r.20260115.0007.fits');
  assert.match(doc.failures[0]?.errorMessage ?? '', /does not start with SIMPLE = T/);

  const onlyFailed = await runCli(['status', '--config', config, '--failed']);
  assert.equal(onlyFailed.code, 1, 'failures make --failed exit 1, for scripts');
  assert.match(onlyFailed.stdout, /mods1r\.20260115\.0007\.fits .*does not start with SIMPLE = T/);
  assert.doesNotMatch(onlyFailed.stdout, /last \d+ files|by state/);

  // The fix: the real raw file turns up in the raw folder.
  const fixed = await writeRaw(join(root, 'raw', 'mods1r'), { instrument: 'mods1r', roi: '1k', seq: 7 });
  const before = sha(await readFile(fixed.path));
  const requeue = await runCli(['requeue', '--now', '--config', config, fixed.name]);
  assert.equal(requeue.code, 0, requeue.stdout + requeue.stderr);
  assert.equal(requeue.stdout, `OK ${fixed.name} -> ${fixed.name}\n`);
  assert.match(requeue.stderr, /service not running \(UDP 127\.0\.0\.1:0 free\): processing here/);
  assert.equal(sha(await readFile(fixed.path)), before, 'the raw file is only read');
  assert.deepEqual((await readdir(join(root, 'newdata'))).filter((n) => n.endsWith('.fits')).sort(), [b.name, r.name, fixed.name].sort());
  assert.equal(await readFile(join(root, 'newdata', 'MODS1R.new'), 'utf8'), `${fixed.name}\n`);
  const ledger = openLedger(join(root, 'state'), { clock: systemClock });
  try {
    const jobs = ledger.byName(fixed.name);
    assert.deepEqual(jobs.map((j) => [j.origin, j.state]), [['drop', 'failed'], ['drop', 'delivered']]);
    assert.equal(jobs[1]!.path, fixed.path);
    assert.equal(jobs[1]!.repoPath, join(root, 'newdata', fixed.name));
    assert.equal(jobs[1]!.checksum, before);
  } finally {
    ledger.close();
  }

  const after = await runCli(['status', '--config', config, '--failed']);
  assert.equal(after.code, 0, after.stdout);
  assert.match(after.stdout, /^no failures \(1 earlier failure since processed again, not listed\)$/m);
});

test('requeue --failed processes the file of every standing failure in place while the service is down', async (t) => {
  const root = await tempDir(t);
  await makeFolders(root);
  const config = await configFile(root);
  const raw = generateRaw({ roi: '1k', seq: 3 });
  const path = join(root, 'raw', 'mods1b', raw.name);
  const ledger = openLedger(join(root, 'state'), { clock: systemClock });
  const row = ledger.note(path, 'watcher', { channel: 'mods1b', obsDate: '20260115' });
  ledger.markFailed(row.id, { code: 'incomplete-timeout', message: 'still incomplete after 120 s' });
  ledger.close();
  await writeFile(path, raw.bytes); // the file, complete at last

  const run = await runCli(['requeue', '--failed', '--config', config]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(run.stdout, `OK ${raw.name} -> ${raw.name}\n`);
  const again = await runCli(['requeue', '--failed', '--config', config]);
  assert.equal(again.code, 0);
  assert.equal(again.stdout, 'nothing to requeue: no failures\n');
});

test('requeue while the service runs copies the file into the drop folder and the service delivers it', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  t.after(() => s.stop());
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k' });
  const first = nextEvent(s.service, 'delivery:done');
  await s.send(`proc /home/data/${raw.name}`);
  await first;
  const port = s.service.udp!.port;
  const config = await configFile(root, (text) => text.replace('ipPort: 0', `ipPort: ${port}`));
  assert.equal(await serviceRunning(parseConfig(await readFile(config, 'utf8'), config)), true);

  const status = await runCli(['status', '--config', config]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^service: running \\(UDP 127\\.0\\.0\\.1:${port} in use\\)$`, 'm'));
  assert.match(status.stdout, /^ {2}delivered +1 +1$/m, 'read beside the running service');

  const odd = join(root, 'odd-name.fits');
  await writeFile(odd, raw.bytes);
  const refusedOdd = await runCli(['requeue', '--config', config, odd]);
  assert.equal(refusedOdd.code, 1);
  assert.match(refusedOdd.stdout, /^FAIL .*odd-name\.fits: odd-name\.fits is not a raw file name .*the drop folder would ignore it, use --now$/m);

  const again = nextEvent(s.service, 'delivery:done');
  const run = await runCli(['requeue', '--config', config, raw.path]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(run.stdout, `QUEUED ${raw.path} -> ${join(root, 'drop', raw.name)}\n`);
  assert.match(run.stderr, new RegExp(`service running \\(UDP 127\\.0\\.0\\.1:${port} in use\\): copying into `));
  const [row, result] = await again;
  assert.equal(row.origin, 'drop');
  assert.match(result.deliveredName, /^mods1b\.\d{8}\.\d{6}(-\d+)?\.fits$/, 'delivered again under a unique name');
  await s.service.idle();
  assert.deepEqual(await readdir(join(root, 'drop', 'done')), [raw.name]);
  assert.deepEqual((await readdir(join(root, 'drop'))).sort(), ['done', 'failed'], 'no temporary copy left behind');

  const replay = await runCli(['replay', '--night', '20260115', '--config', config]);
  assert.equal(replay.code, 2);
  assert.match(replay.stderr, /the service is running \(UDP 127\.0\.0\.1:\d+ in use\): a replay beside it would race on <CHAN>\.new/);

  const noDrop = await configFile(root, (text) => text.replace('ipPort: 0', `ipPort: ${port}`).replace(/^ {2}dropDir: .*\n/m, ''));
  const refused = await runCli(['requeue', '--config', noDrop, raw.name]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /the service is running .* has no drop folder\nhint: use --now to process the files here, or configure paths\.dropDir/);
});

test('replay --night processes all 30 raw files of the night, and only those', async (t) => {
  const root = await tempDir(t);
  await makeFolders(root);
  const config = await configFile(root);
  for (let i = 0; i < 30; i++) {
    const instrument = i % 2 === 0 ? 'mods1b' : 'mods1r';
    await writeRaw(join(root, 'raw', instrument), { instrument, roi: '1k', seq: Math.floor(i / 2) + 1, seed: i });
  }
  await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', obsDate: '20260116' }); // another night
  await writeFile(join(root, 'raw', 'mods1b', 'notes.txt'), 'not a raw file');

  const run = await runCli(['replay', '--night', '20260115', '--config', config, '--concurrency', '4']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /replayed 30 files: 30 delivered, 0 failed\n$/);
  assert.equal(run.stdout.split('\n').filter((l) => l.startsWith('OK ')).length, 30);
  const repo = (await readdir(join(root, 'newdata'))).filter((n) => n.endsWith('.fits'));
  assert.equal(repo.length, 30);
  assert.ok(repo.every((n) => n.includes('.20260115.')));
  const ledger = openLedger(join(root, 'state'), { clock: systemClock });
  try {
    const jobs = ledger.byObsDate('20260115');
    assert.equal(jobs.length, 30);
    assert.ok(jobs.every((j) => j.origin === 'drop' && j.state === 'delivered'));
  } finally {
    ledger.close();
  }

  const one = await runCli(['replay', '--night', '20260115', '--channel', 'mods1r', '--config', config]);
  assert.equal(one.code, 0, one.stdout + one.stderr);
  assert.match(one.stdout, /replayed 15 files: 15 delivered, 0 failed\n$/);
  assert.ok(one.stdout.split('\n').filter((l) => l.startsWith('OK ')).every((l) => /^OK mods1r\.20260115\.\d{4}\.fits -> mods1r\.\d{8}\.\d{6}(-\d+)?\.fits$/.test(l)),
    'delivered again under unique names');
});

test('replay (the in-place CLI) follows the pointer rule: the pointer ends on the newest exposure, whatever the order of the names', async (t) => {
  const root = await tempDir(t);
  await makeFolders(root);
  const config = await configFile(root);
  // Sequence 2 is the newest exposure, 3 the oldest.
  const starts = ['2026-01-15T04:30:00.000Z', '2026-01-15T05:00:00.000Z', '2026-01-15T04:00:00.000Z'];
  for (const [i, utcStart] of starts.entries()) await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', bin: '4x4', seq: i + 1, seed: i, utcStart });

  const run = await runCli(['replay', '--night', '20260115', '--config', config, '--concurrency', '1']);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const repo = (await readdir(join(root, 'newdata'))).sort();
  assert.deepEqual(repo, ['MODS1B.new', 'mods1b.20260115.0001.fits', 'mods1b.20260115.0002.fits', 'mods1b.20260115.0003.fits'], 'all three delivered');
  assert.equal(await readFile(join(root, 'newdata', 'MODS1B.new'), 'utf8'), 'mods1b.20260115.0002.fits\n');
  const logs = await readdir(join(root, 'log'));
  const log = (await Promise.all(logs.map((l) => readFile(join(root, 'log', l), 'utf8')))).join('');
  assert.match(log, /MODS1B\.new not moved: mods1b\.20260115\.0003\.fits \(DATE-OBS 2026-01-15T04:00:00[.0-9]*, sequence 3\) is an earlier exposure than mods1b\.20260115\.0002\.fits \(DATE-OBS 2026-01-15T05:00:00[.0-9]*, sequence 2\)/);
});

test('a wrong configuration path or command line exits 2 with a message', async (t) => {
  const root = await tempDir(t);
  const missing = join(root, 'nope.yaml');
  for (const args of [['status'], ['requeue', 'mods1b.20260115.0001.fits'], ['replay', '--night', '20260115']]) {
    const run = await runCli([...args, '--config', missing]);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, new RegExp(`^dataman: cannot read configuration file ${missing}: ENOENT`, 'm'));
  }
  await makeFolders(root);
  const config = await configFile(root);
  const noLedger = await runCli(['status', '--config', config]);
  assert.equal(noLedger.code, 2);
  assert.match(noLedger.stderr, /^dataman: no ledger .*state\/ledger\.sqlite\nhint: has the service run with /m);
  const usage = [
    await runCli(['requeue', '--config', config]),
    await runCli(['replay', '--night', '2026-01-15', '--config', config]),
    await runCli(['replay', '--night', '20260115', '--channel', 'mods3b', '--config', config]),
    await runCli(['status', '--limit', '0', '--config', config]),
  ];
  assert.deepEqual(usage.map((u) => u.code), [2, 2, 2, 2]);
  assert.match(usage[0]!.stderr, /name the files to requeue, or --failed/);
  assert.match(usage[1]!.stderr, /--night must be a YYYYMMDD calendar date/);
  assert.match(usage[2]!.stderr, /unknown channel "mods3b"/);
  assert.match(usage[3]!.stderr, /--limit must be a positive integer/);
  const none = await runCli(['replay', '--night', '20260115', '--config', config]);
  assert.equal(none.code, 1);
  assert.match(none.stdout, /^FAIL no raw files of 20260115 in /);
});
