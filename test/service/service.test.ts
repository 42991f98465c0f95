import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRaw, writeRaw } from '../../src/simulate/index.js';
import { tempDir } from '../helpers/temp.js';
import { deliveries, nextEvent, observeRepo, startService } from '../helpers/service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('20 files on two channels, triggered and watcher-only, some written slowly: each delivered once, nothing partial seen', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  t.after(() => s.stop());
  const stopObserving = observeRepo(join(root, 'newdata'));
  const delivered = deliveries(s.service, 20);
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < 20; i++) {
    const instrument = i % 2 === 0 ? 'mods1b' : 'mods1r';
    const seq = Math.floor(i / 2) + 1;
    const mode = i % 5 === 0 ? 'slow' : i % 3 === 0 ? 'azcam' : 'atonce';
    const triggered = i % 4 !== 1;
    writes.push((async () => {
      await writeRaw(join(root, 'raw', instrument), {
        instrument, roi: '1k', seq, seed: i, write: mode, conparsDelayMs: 200, chunkBytes: 400_000, chunkDelayMs: 30,
      }, { sleep: async (ms) => { await sleep(ms); } });
      if (triggered) await s.send(`proc /home/data/${instrument}.20260115.${String(seq).padStart(4, '0')}.fits`);
    })());
    await sleep(25);
  }
  await Promise.all(writes);
  const done = await delivered;
  await s.service.idle();
  const seen = await stopObserving();
  assert.deepEqual(seen.bad, [], 'a partial or invalid file was visible in repoDir');
  assert.ok(seen.checks >= 20, `the observer checked ${seen.checks} files`);
  const repo = (await readdir(join(root, 'newdata'))).filter((n) => n.endsWith('.fits'));
  assert.equal(repo.length, 20);
  assert.deepEqual(repo.sort(), done.map((d) => d.name).sort(), 'every file under its own name, none twice');
  for (const chan of ['mods1b', 'mods1r']) {
    // The newest exposure, whatever the order of delivery (the generator exposes sequence n 60 s after n - 1).
    const newest = done.filter((d) => d.name.startsWith(chan)).sort((a, b) => a.name.localeCompare(b.name)).at(-1)!;
    assert.equal(await readFile(join(root, 'newdata', `${chan.toUpperCase()}.new`), 'utf8'), `${newest.delivered}\n`);
  }
  const counts = s.service.ledgerHandle.countsByState();
  assert.equal(counts.byState.delivered, 20);
  assert.equal(counts.total, 20);
  const rows = s.service.ledgerHandle.recent(50);
  assert.ok(rows.every((r) => r.attempts === 1 && r.checksum !== null), rows.map((r) => `${r.name} attempts ${r.attempts} checksum ${r.checksum !== null}`).join('\n'));
  assert.equal((await readdir(join(root, 'proc', '20260115'))).filter((n) => n.startsWith('.')).length, 0, 'no temporaries left');
  // The night log: a header line, then one line per delivered file, each ending in its FILENAME.
  for (const chan of ['mods1b', 'mods1r']) {
    const lines = (await readFile(join(root, 'proc', 'nightlogs', `20260115_${chan}.txt`), 'utf8')).split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 11, `${chan} night log:\n${lines.join('\n')}`);
    assert.match(lines[0]!, /^ProjectID\s+Chan\s+ImgTyp/);
    const names = lines.slice(1).map((l) => l.trim().split(/\s+/).at(-1));
    assert.deepEqual([...names].sort(), done.filter((d) => d.name.startsWith(chan)).map((d) => d.name).sort());
  }
});

test('a trigger before the file is complete waits; CONPARS appended late is in the delivered file', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  t.after(() => s.stop());
  const raw = generateRaw({ roi: '1k' });
  const path = join(root, 'raw', 'mods1b', raw.name);
  await writeFile(path, raw.bytes.subarray(0, raw.imagesLength));
  await s.send(`proc /home/data/${raw.name}`);
  await sleep(600); // longer than the settle interval: a five-HDU file must not be taken yet
  assert.equal(s.service.ledgerHandle.latestByPath(path)?.state, 'waiting');
  const [row] = await Promise.all([nextEvent(s.service, 'delivery:done').then(([r]) => r), writeFile(path, raw.bytes)]);
  assert.equal(row.name, raw.name);
  const delivered = await readFile(join(root, 'newdata', raw.name));
  assert.ok(delivered.includes(Buffer.from("EXTNAME = 'CONPARS '")));
});

test('a repeated proc for a delivered file is logged and skipped; an unknown file is logged', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root, '', { watcherRebuildAfterForgets: 1 });
  t.after(() => s.stop());
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k' });
  await s.send(`proc /home/data/${raw.name}`);
  await nextEvent(s.service, 'delivery:done');
  // The watcher is rebuilt without the delivered file (asynchronously, after the event).
  for (let i = 0; i < 100 && s.service.watchedFiles() > 0; i++) await sleep(50);
  assert.equal(s.service.watchedFiles(), 0, 'a delivered raw file is polled no more');
  const skipped = nextEvent(s.service, 'file:skipped');
  await s.send(`proc /home/data/${raw.name}`);
  const [, , reason] = await skipped;
  assert.equal(reason, 'already delivered');
  assert.ok(s.log.messages('info').some((m) => m === `${raw.name} was already delivered as ${raw.name}; repeated proc skipped`));
  await s.send('proc /home/data/mods1b.20260115.0099.fits');
  await sleep(200);
  assert.ok(s.log.messages('error').some((m) => m.startsWith('proc: ') && m.endsWith('mods1b.20260115.0099.fits not found')), s.log.messages('error').join('\n'));
  assert.equal(s.service.ledgerHandle.countsByState().total, 1);
});

test('a drop-folder file is reprocessed under a unique name, named in .new, and moved to done/', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  t.after(() => s.stop());
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k' });
  await s.send(`proc /home/data/${raw.name}`);
  await nextEvent(s.service, 'delivery:done');
  const again = nextEvent(s.service, 'delivery:done');
  await writeFile(join(root, 'drop', raw.name), raw.bytes);
  const [row, result] = await again;
  assert.equal(row.origin, 'drop');
  assert.notEqual(result.deliveredName, raw.name);
  assert.match(result.deliveredName, /^mods1b\.\d{8}\.\d{6}(-\d+)?\.fits$/);
  assert.equal(await readFile(join(root, 'newdata', 'MODS1B.new'), 'utf8'), `${result.deliveredName}\n`);
  await s.service.idle();
  assert.deepEqual(await readdir(join(root, 'drop', 'done')), [raw.name]);
  assert.deepEqual((await readdir(join(root, 'drop'))).sort(), ['done', 'failed']);
});

test('a broken drop-folder file goes to failed/ with the reason; the service keeps serving', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  t.after(() => s.stop());
  const failed = nextEvent(s.service, 'job:failed');
  await writeFile(join(root, 'drop', 'mods1r.20260115.0007.fits'), 'This is bad data');
  const [row, error] = await failed;
  assert.equal(row.state, 'failed');
  assert.match(error.message, /does not start with SIMPLE = T/);
  await s.service.idle();
  const reason = await readFile(join(root, 'drop', 'failed', 'mods1r.20260115.0007.fits.error.txt'), 'utf8');
  assert.match(reason, /does not start with SIMPLE = T/);
  const raw = await writeRaw(join(root, 'raw', 'mods1r'), { instrument: 'mods1r', roi: '1k' });
  await s.send(`proc /home/data/${raw.name}`);
  await nextEvent(s.service, 'delivery:done');
});

test('repoDir gone for a while: delivery is retried and completes when it comes back', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root, '', { random: () => 0.05 });
  t.after(() => s.stop());
  const repo = join(root, 'newdata');
  await rename(repo, `${repo}.away`);
  const retried = nextEvent(s.service, 'job:retry');
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k' });
  await s.send(`proc /home/data/${raw.name}`);
  const [row, err] = await retried;
  assert.equal(row.state, 'queued');
  assert.match(err.message, /newdata/);
  const delivered = nextEvent(s.service, 'delivery:done');
  await rename(`${repo}.away`, repo);
  const [done] = await delivered;
  assert.equal(done.state, 'delivered');
  assert.ok(done.attempts >= 2, 'each retry counts as an attempt');
  assert.match(done.errorMessage ?? '', /not there \(NFS mount away\?\)/, 'the last transient error stays on record');
  assert.deepEqual((await readdir(repo)).sort(), ['MODS1B.new', raw.name]);
});

test('garbage, empty, oversized and non-UTF-8 datagrams and path tricks are logged and ignored', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  t.after(() => s.stop());
  for (const d of [Buffer.alloc(0), Buffer.from([0xff, 0xfe, 0x00]), Buffer.alloc(3000, 0x41), 'hello world', 'proc ../../etc/passwd', 'proc /x/mods1b.20260115.0001.fits/../../y']) await s.send(d);
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k' });
  await s.send(`proc /home/data/${raw.name}`);
  await nextEvent(s.service, 'delivery:done');
  assert.ok(s.log.messages('error').some((m) => m.startsWith('Unknown command hello received')), s.log.messages('error').join('\n'));
  assert.ok(s.log.messages('warn').length >= 4, s.log.messages('warn').join('\n'));
  assert.equal(s.service.ledgerHandle.countsByState().total, 1);
});

test('a quit datagram stops the service gracefully', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  const stopped = nextEvent(s.service, 'service:stopped');
  await s.send('quit');
  const [reason] = await stopped;
  assert.equal(reason, 'quit');
  assert.ok(s.log.messages('info').some((m) => m.startsWith('Received QUIT command from remote user')));
  assert.ok(s.log.messages('info').includes('Done: mods1 dataMan server shutdown complete'));
  await s.stop();
});

test('across a restart, queued work is resumed, files that came meanwhile are caught up, nothing is delivered twice', async (t) => {
  const root = await tempDir(t);
  const first = await startService(root);
  const raws = [];
  for (let seq = 1; seq <= 3; seq++) raws.push(await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq }));
  await first.send(`proc /home/data/${raws[0]!.name}`);
  await nextEvent(first.service, 'delivery:done');
  await first.stop(); // files 2 and 3 may be delivered, queued or waiting: all of it is in the ledger
  // Two more files arrive while the service is down: the catch-up scan finds them.
  for (let seq = 4; seq <= 5; seq++) raws.push(await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq }));
  const second = await startService(root);
  t.after(() => second.stop());
  await second.service.idle();
  const repo = (await readdir(join(root, 'newdata'))).filter((n) => n.endsWith('.fits')).sort();
  assert.deepEqual(repo, raws.map((r) => r.name).sort());
  const rows = raws.map((r) => second.service.ledgerHandle.latestByPath(join(root, 'raw', 'mods1b', r.name))!);
  assert.ok(rows.every((r) => r.state === 'delivered'), rows.map((r) => `${r.name}:${r.state}`).join(' '));
  // The newest exposure (the generator exposes sequence n after n - 1), whatever the order of
  // delivery: the catch-up goes newest first (behaviour.md §2.4, §6 step 3).
  const newest = rows.sort((a, b) => a.name.localeCompare(b.name)).at(-1)!;
  assert.equal(await readFile(join(root, 'newdata', 'MODS1B.new'), 'utf8'), `${newest.deliveredName}\n`);
});

test('a file that changes while it is processed is not delivered until it holds still, then once with its final content', async (t) => {
  const root = await tempDir(t);
  // A long settle interval so that the rewrite surely lands inside it.
  const s = await startService(root, '', {});
  t.after(() => s.stop());
  const first = generateRaw({ roi: '1k', seed: 1, object: 'first version' });
  const second = generateRaw({ roi: '1k', seed: 2, object: 'second version' });
  const path = join(root, 'raw', 'mods1b', first.name);
  await writeFile(path, first.bytes);
  await s.send(`proc /home/data/${first.name}`);
  await nextEvent(s.service, 'job:start');
  await writeFile(path, second.bytes); // same size, new content and mtime, while being processed
  const [row] = await nextEvent(s.service, 'delivery:done');
  assert.equal(row.name, first.name);
  const delivered = await readFile(join(root, 'newdata', first.name));
  assert.ok(delivered.includes(Buffer.from("'second version'")), 'the delivered file is made from the final content');
  await s.service.idle();
  assert.deepEqual((await readdir(join(root, 'newdata'))).filter((n) => n.endsWith('.fits')), [first.name]);
});

test('a listener that throws on delivery:done is logged, the others still run; the file stays delivered, once', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root);
  t.after(() => s.stop());
  const before = s.service.listenerCount('delivery:done');
  s.service.prependListener('delivery:done', () => {
    throw new Error('a listener bug');
  });
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k' });
  // Registered after the throwing one: it still hears of the delivery.
  const delivered = nextEvent(s.service, 'delivery:done');
  await s.send(`proc /home/data/${raw.name}`);
  await delivered;
  const skipped = nextEvent(s.service, 'file:skipped');
  await s.send(`proc /home/data/${raw.name}`);
  assert.equal((await skipped)[2], 'already delivered');
  assert.equal(s.service.ledgerHandle.latestByPath(join(root, 'raw', 'mods1b', raw.name))?.state, 'delivered');
  assert.ok(s.log.messages('error').some((m) => m.startsWith(`${raw.name}: internal error in a delivery:done listener, please report: Error: a listener bug`)), s.log.messages('error').join('\n'));
  assert.deepEqual((await readdir(join(root, 'newdata'))).filter((n) => n.endsWith('.fits')), [raw.name]);
  assert.equal(s.service.listenerCount('delivery:done'), before + 1, 'once listeners are removed after they fired');
});

test("a pointer's temporary and a health probe left by a killed run are removed at start; other dot-files are not touched", async (t) => {
  const root = await tempDir(t);
  await mkdir(join(root, 'newdata'), { recursive: true });
  // Written a moment ago, as by a run killed just before this start.
  await writeFile(join(root, 'newdata', '.MODS1B.new.tmp-0123456789ab'), 'mods1b.20260115.0007.fits\n');
  await writeFile(join(root, 'newdata', '.dataman-healthz.0a1b2c3d4e5f'), '');
  await writeFile(join(root, 'newdata', '.archive-ingest.lock'), 'not ours');
  const s = await startService(root);
  t.after(() => s.stop());
  assert.deepEqual((await readdir(join(root, 'newdata'))).sort(), ['.archive-ingest.lock']);
  assert.ok(s.log.messages('info').some((m) => m.includes('.MODS1B.new.tmp-0123456789ab, left by a run that stopped while updating the pointer')));
  assert.ok(s.log.messages('info').some((m) => m.includes('.dataman-healthz.0a1b2c3d4e5f, left by a run that stopped while checking that repoDir is writable')));
});
