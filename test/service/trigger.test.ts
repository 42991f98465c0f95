/**
 * Delivery on the trigger (behaviour.md §3): a whole raw file named by a `proc` datagram is
 * delivered without the settle interval; one found by the watcher alone waits for it, unless a
 * trigger ends the wait; and whatever the path, the raw file must still be the file that was
 * read (dev/ino, size, mtime, ctime) when the first final name is given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readdir, readFile, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRaw } from '../../src/simulate/index.js';
import { parseConfig } from '../../src/ops/config.js';
import { memoryLogger } from '../../src/ops/logger.js';
import { systemClock } from '../../src/ops/clock.js';
import { openLedger } from '../../src/service/ledger.js';
import { DatamanService } from '../../src/service/service.js';
import { tempDir } from '../helpers/temp.js';
import { makeFolders, nextEvent, observeRepo, serviceConfigText, startService } from '../helpers/service.js';
import { FaultyFs, Gate } from './helpers/faulty-fs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fitsIn = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.fits')).sort();
const tempsIn = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('.'));

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    if (await check()) return;
    if (i === 3000) assert.fail(`never happened: ${what}`);
    await sleep(10);
  }
}

test('a triggered whole file is delivered without the settle interval; a watcher-found one waits for it until a trigger ends the wait', async (t) => {
  const root = await tempDir(t);
  await makeFolders(root);
  // A settle interval no test could sit through: whatever is delivered was not held up by it.
  const config = parseConfig(serviceConfigText(root).replace('settleMs: 100', 'settleMs: 600000'), join(root, 'dataman.yaml'));
  const log = memoryLogger({ timeZone: 'America/Phoenix' });
  const service = await DatamanService.start({ config, logger: log.logger, hostName: 'mods1', stopTimeoutMs: 20_000 });
  t.after(() => service.stop('test done'));
  const repo = join(root, 'newdata');
  const stopObserving = observeRepo(repo);
  t.after(() => stopObserving());
  const send = (text: string) => new Promise<void>((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.send(text, service.udp!.port, '127.0.0.1', (err) => { socket.close(); if (err) reject(err); else resolve(); });
  });

  const triggered = generateRaw({ roi: '1k', seq: 1 });
  await writeFile(join(root, 'raw', 'mods1b', triggered.name), triggered.bytes);
  const first = nextEvent(service, 'delivery:done');
  await send(`proc /home/data/${triggered.name}`);
  await first;
  assert.deepEqual(await fitsIn(repo), [triggered.name], 'delivered on the trigger, 10 minutes of settle interval notwithstanding');

  const watched = generateRaw({ roi: '1k', seq: 2 });
  const second = nextEvent(service, 'delivery:done');
  // Renamed into place whole: its first look is complete (an incomplete look would wait a whole
  // settle interval before the next).
  const watchedPath = join(root, 'raw', 'mods1b', watched.name);
  await writeFile(`${watchedPath}.part`, watched.bytes);
  await rename(`${watchedPath}.part`, watchedPath);
  // Processed and copied while the settle interval runs; no name is given before it ends.
  await until(async () => (await tempsIn(repo)).some((n) => n.startsWith(`.${watched.name}.`)), 'the repository copy made during the settle interval');
  await sleep(300);
  assert.deepEqual(await fitsIn(repo), [triggered.name], 'a watcher-found file waits for the settle interval');
  await send(`proc /home/data/${watched.name}`);
  await second;
  assert.deepEqual(await fitsIn(repo), [triggered.name, watched.name], 'the trigger ended the wait');
  assert.deepEqual((await stopObserving()).bad, [], 'nothing partial was visible');
});

test('a triggered raw file replaced by another of the same size and mtime while its copy is made: nothing is named, the new bytes are delivered once', async (t) => {
  const root = await tempDir(t);
  const repo = join(root, 'newdata');
  const fs = new FaultyFs();
  const gate = new Gate();
  fs.inject({ op: 'fsync', path: (p) => p.startsWith(`${repo}/.mods1b.`), action: 'hold', gate });
  const s = await startService(root, '', { fs });
  t.after(() => s.stop());
  t.after(() => gate.release());
  const stopObserving = observeRepo(repo);
  t.after(() => stopObserving());
  const delivered: string[] = [];
  s.service.on('delivery:done', (row) => delivered.push(row.name));

  const before = generateRaw({ roi: '1k', seq: 1, object: 'version A' });
  const after = generateRaw({ roi: '1k', seq: 1, object: 'version B' });
  assert.equal(before.bytes.length, after.bytes.length);
  const path = join(root, 'raw', 'mods1b', before.name);
  const stamp = new Date('2026-01-15T10:00:00Z');
  await writeFile(path, before.bytes);
  await utimes(path, stamp, stamp);
  const done = nextEvent(s.service, 'delivery:done');
  await s.send(`proc /home/data/${before.name}`);
  await gate.reached;
  // azcam (or anyone) puts another file under the name; size and mtime alone cannot tell.
  await writeFile(`${path}.new`, after.bytes);
  await utimes(`${path}.new`, stamp, stamp);
  await rename(`${path}.new`, path);
  gate.release();
  await done;
  await s.service.idle();

  assert.ok(s.log.messages('info').some((m) => m.startsWith(`${before.name}: changed while it was processed`)), s.log.lines.join('\n'));
  assert.deepEqual(delivered, [before.name], 'delivered once');
  const bytes = await readFile(join(repo, before.name));
  assert.ok(bytes.includes(Buffer.from("'version B'")) && !bytes.includes(Buffer.from("'version A'")), 'made from the new file');
  assert.deepEqual((await stopObserving()).bad, []);
  assert.deepEqual(await tempsIn(repo), [], 'the abandoned copy was removed');
  assert.deepEqual(await tempsIn(join(root, 'proc', '20260115')), [], 'and the processed temporary');
});

test('a stop while a file waits to retry ends the wait at once: the file stays queued, not failed, and its temporaries are removed', async (t) => {
  const root = await tempDir(t);
  const repo = join(root, 'newdata');
  // The repository disk is full for good: every attempt fails and waits to retry.
  const fs = new FaultyFs().inject({ op: 'write', path: (p) => p.startsWith(`${repo}/.mods1b.`), action: 'fail', errno: 'ENOSPC', times: Number.POSITIVE_INFINITY });
  const s = await startService(root, '', { fs, random: () => 0.999 });
  t.after(() => s.stop());
  const retries: string[] = [];
  s.service.on('job:retry', (row) => retries.push(row.name));
  const raw = generateRaw({ roi: '1k', seq: 1 });
  const path = join(root, 'raw', 'mods1b', raw.name);
  await writeFile(path, raw.bytes);
  const retrying = nextEvent(s.service, 'job:retry');
  await s.send(`proc /home/data/${raw.name}`);
  await retrying;
  await s.stop();

  assert.deepEqual(retries, [raw.name], 'no second attempt: the stop ended the wait');
  assert.ok(!s.log.messages('warn').some((m) => m.includes('still in progress after')), 'the stop did not wait for the file');
  assert.ok(s.log.messages('warn').some((m) => m.startsWith(`${raw.name}: not delivered before shutdown`)), s.log.lines.join('\n'));
  const ledger = openLedger(join(root, 'state'), { clock: systemClock });
  t.after(() => ledger.close());
  assert.equal(ledger.latestByPath(path)?.state, 'queued', 'queued for the next start, not failed');
  assert.deepEqual(await tempsIn(repo), [], 'no repository temporary left');
  assert.deepEqual(await tempsIn(join(root, 'proc', '20260115')), [], 'no processed temporary left');
  assert.deepEqual(await fitsIn(repo), []);
});
