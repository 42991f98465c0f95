/**
 * Delivery on the trigger (behaviour.md §3): a whole raw file named by a `proc` datagram is
 * delivered without the settle interval; one found by the watcher alone waits for it, unless a
 * trigger ends the wait (the check made just before the first final name, whatever the path,
 * is in faults.test.ts); a stop ends a back-off wait at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRaw } from '../../src/simulate/index.js';
import { parseConfig } from '../../src/ops/config.js';
import { memoryLogger } from '../../src/ops/logger.js';
import { systemClock } from '../../src/base/clock.js';
import { openLedger } from '../../src/service/ledger/ledger.js';
import { DatamanService } from '../../src/service/service.js';
import { tempDir } from '../helpers/temp.js';
import { makeFolders, nextEvent, observeRepo, serviceConfigText, startService } from '../helpers/service.js';
import { FaultyFs } from './helpers/faulty-fs.js';

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
