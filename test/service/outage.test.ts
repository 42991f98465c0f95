/**
 * The night after an outage (issue #19), with the real service in a child process and a real
 * backlog of small frames from the project's generator: the catch-up's order (newest first), a
 * new exposure (triggered, or found by the watcher) starting while the background is busy and
 * before the next background job, and the catch-up shown on status.json, /metrics, the status
 * page and the log. Background jobs are held in their copy stage through the filesystem seam
 * (DATAMAN_TEST_HOLD) for as long as the test needs: no assertion depends on timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRaw } from '../../src/simulate/index.js';
import { makeFolders } from '../helpers/service.js';
import { startChild, type ServiceChild } from '../helpers/service-child.js';
import { stopBeforeRemoval, tempDir } from '../helpers/temp.js';

const BACKLOG_DATE = '20260210';

function configText(root: string): string {
  return `
server: {ipAddr: 127.0.0.1, ipPort: 0}
paths: {dataDir: ${root}/raw, procDir: ${root}/proc, repoDir: ${root}/newdata, logDir: ${root}/log, stateDir: ${root}/state}
channels: [mods1b]
watch: {usePolling: true, intervalMs: 50, settleMs: 100, catchUpHours: 36}
queue: {concurrency: 2}
timeZone: America/Phoenix
http: {enabled: true, host: 127.0.0.1, port: 0}
`;
}

/** `count` 1k frames of the backlog night, exposure n last modified n minutes after the first. */
async function writeBacklog(root: string, count: number): Promise<string[]> {
  const names: string[] = [];
  const base = Date.now() / 1000 - 3600;
  for (let seq = 1; seq <= count; seq++) {
    const raw = generateRaw({ instrument: 'mods1b', roi: '1k', obsDate: BACKLOG_DATE, seq, seed: seq });
    const path = join(root, 'raw', 'mods1b', raw.name);
    await writeFile(path, raw.bytes);
    await utimes(path, base + seq * 60, base + seq * 60);
    names.push(raw.name);
  }
  return names;
}

/** Names in the order their jobs started (`Processing <name>...`). */
const started = (out: string) => [...out.matchAll(/\| Processing (\S+)\.\.\./g)].map((m) => m[1]!);
const delivered = (out: string) => [...out.matchAll(/\| Done: (\S+) processed/g)].map((m) => m[1]!);

async function start(root: string, backlog: number): Promise<{ child: ServiceChild; names: string[]; hold: string; udpPort: number; httpPort: number }> {
  await makeFolders(root);
  const names = await writeBacklog(root, backlog);
  const configPath = join(root, 'dataman.yaml');
  await writeFile(configPath, configText(root));
  // Every backlog job waits in its copy stage until the test lets it go.
  const hold = join(root, 'hold');
  await writeFile(hold, `${BACKLOG_DATE}\n`);
  const child = startChild(configPath, { DATAMAN_TEST_HOLD: hold });
  stopBeforeRemoval(root, async () => {
    await rm(hold, { force: true }); // a held write would keep the process alive
    await stop(child);
  });
  await child.ready;
  await child.until((o) => /HTTP \d+/.test(o));
  const udpPort = Number(/READY (\d+)/.exec(child.output())![1]);
  const httpPort = Number(/HTTP (\d+)/.exec(child.output())![1]);
  return { child, names, hold, udpPort, httpPort };
}

/** `promise`, or a failure saying what did not happen: without the lanes it never does while the background is held. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms); });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function stop(child: ServiceChild): Promise<void> {
  if (child.child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.child.once('exit', resolve));
  child.child.kill('SIGTERM');
  await exited;
}

/** A fresh 1k frame of tonight, exposure 1. */
async function writeFresh(root: string): Promise<string> {
  const raw = generateRaw({ instrument: 'mods1b', roi: '1k', obsDate: '20260211', seq: 1, seed: 99 });
  await writeFile(join(root, 'raw', 'mods1b', raw.name), raw.bytes);
  return raw.name;
}

test('a proc trigger during the catch-up starts at once, before the next background job; the catch-up goes newest first and is shown while it runs', { timeout: 120_000 }, async (t) => {
  const root = await tempDir(t, 'dataman-outage-');
  const { child, names, hold, udpPort, httpPort } = await start(root, 4);
  {
    // The newest exposure is the first background job, and it is held: the catch-up is running.
    await child.until((o) => started(o).length >= 1);
    assert.deepEqual(started(child.output()), [names[3]], 'the catch-up starts with the newest exposure');
    assert.match(child.output(), /Catching up: 4 file\(s\) not delivered before this start, newest first/);

    const status = await (await fetch(`http://127.0.0.1:${httpPort}/status.json`)).json() as { catchUp: { active: boolean; total: number; done: number; backlog: number } };
    assert.equal(status.catchUp.active, true);
    assert.equal(status.catchUp.total, 4);
    assert.equal(status.catchUp.done, 0);
    assert.equal(status.catchUp.backlog, 4);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    assert.match(metrics, /^dataman_backlog_files 4$/m);
    const page = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
    assert.match(page, /catching up: 0 of 4 files/);

    const fresh = await writeFresh(root);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => socket.send(`proc /home/data/${fresh}`, udpPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    socket.close();
    // Delivered while the background job is still held: it did not wait for it.
    await within(30_000, child.until((o) => delivered(o).includes(fresh)), 'the new exposure was not delivered while a background job was held');
    assert.deepEqual(started(child.output()), [names[3], fresh], 'no other background job started before the new exposure was done');
    assert.deepEqual(delivered(child.output()), [fresh]);

    await rm(hold);
    await child.until((o) => o.includes('Catch-up done:'));
    assert.deepEqual(started(child.output()), [names[3], fresh, names[2], names[1], names[0]], 'newest exposure first');
    assert.deepEqual([...delivered(child.output())].sort(), [...names, fresh].sort(), 'each delivered once');
    assert.match(child.output(), /Catch-up done: 4 file\(s\) in [\d.]+ s: 4 delivered, 0 failed, 0 skipped/);
    const after = async () => (await (await fetch(`http://127.0.0.1:${httpPort}/status.json`)).json() as { catchUp: { active: boolean; done: number; backlog: number } }).catchUp;
    assert.deepEqual([(await after()).active, (await after()).done], [false, 4]);
    // The last job's record (the raw file's checksum) follows its delivery: the backlog empties then.
    while ((await after()).backlog > 0) await new Promise((r) => setTimeout(r, 50));
    assert.doesNotMatch(await (await fetch(`http://127.0.0.1:${httpPort}/`)).text(), /catching up/);
  }
});

test('a new file found by the watcher during the catch-up starts at once, before the next background job', { timeout: 120_000 }, async (t) => {
  const root = await tempDir(t, 'dataman-outage-');
  const { child, names, hold } = await start(root, 2);
  {
    await child.until((o) => started(o).length >= 1);
    const fresh = await writeFresh(root);
    await within(30_000, child.until((o) => delivered(o).includes(fresh)), 'the new exposure was not delivered while a background job was held');
    assert.deepEqual(started(child.output()), [names[1], fresh]);
    await rm(hold);
    await child.until((o) => o.includes('Catch-up done:'));
    assert.deepEqual(started(child.output()), [names[1], fresh, names[0]]);
  }
});
