/**
 * Each health problem appears while its cause lasts and clears by itself when the cause goes
 * (issue #15): a real service on temporary folders where the cause can be made real, the live
 * part of health on its own where only time can (a file waiting past its timeout).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { rename } from 'node:fs/promises';
import type Database from 'better-sqlite3';
import { writeRaw } from '../../src/simulate/index.js';
import { ManualClock } from '../../src/base/clock.js';
import { attachMetrics } from '../../src/service/surface/metrics.js';
import { openLedger } from '../../src/service/ledger/ledger.js';
import { checkHealth, HEALTH_CODES, LiveHealth, type HealthReport } from '../../src/service/surface/health.js';
import { statusSourceFor, type StatusSource } from '../../src/service/surface/status-source.js';
import { VERSION } from '../../src/version.js';
import { tempDir } from '../helpers/temp.js';
import { deliveries, nextEvent, startService } from '../helpers/service.js';
import { FaultyFs } from './helpers/faulty-fs.js';

const codes = (h: HealthReport) => h.problems.map((p) => p.code);

/** Checks health until `done` says so (a cause that clears on the service's own next step). */
async function healthUntil(source: StatusSource, done: (h: HealthReport) => boolean, what: string): Promise<HealthReport> {
  let health = await checkHealth(source);
  for (let i = 0; i < 200 && !done(health); i++) {
    await new Promise((r) => setTimeout(r, 50));
    health = await checkHealth(source);
  }
  assert.ok(done(health), `${what}: ${JSON.stringify(health)}`);
  return health;
}

test('delivery-retrying names the file, errno, folder and attempts while ENOSPC lasts; the metric says 1, then 0 once delivered', async (t) => {
  const root = await tempDir(t);
  const fs = new FaultyFs();
  const repo = join(root, 'newdata');
  fs.inject({ op: 'write', path: (p) => dirname(p) === repo, action: 'fail', errno: 'ENOSPC', times: 1_000_000 });
  const s = await startService(root, '', { random: () => 0.2, fs });
  const source = statusSourceFor(s.service, { quickLookDir: join(root, 'state', 'quicklook') });
  const metrics = attachMetrics(s.service, { processMetrics: false, health: () => checkHealth(source) });
  t.after(() => metrics.detach());
  const gauge = async () => Object.fromEntries((await metrics.registry.getSingleMetric('dataman_health_problem')!.get()).values.map((v) => [v.labels.code, v.value]));

  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1 });
  const retried = nextEvent(s.service, 'job:retry');
  await s.send(`proc /home/data/${raw.name}`);
  await retried;
  const health = await checkHealth(source);
  assert.equal(health.ok, false);
  const problem = health.problems.find((p) => p.code === 'delivery-retrying');
  assert.ok(problem, JSON.stringify(health));
  assert.equal(problem.file, raw.name);
  assert.equal(problem.errno, 'ENOSPC');
  assert.ok((problem.attempts ?? 0) >= 1);
  assert.match(problem.since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(problem.message.startsWith(`${raw.name} ENOSPC in repoDir ${repo} (repo-copy)`), problem.message);
  const metric = await gauge();
  assert.equal(metric['delivery-retrying'], 1);
  assert.deepEqual(Object.keys(metric).sort(), [...HEALTH_CODES].sort(), 'every code exported, so an alert can name one');

  const delivered = deliveries(s.service, 1);
  fs.clear();
  await delivered;
  assert.deepEqual(await checkHealth(source), { ok: true, problems: [] });
  assert.equal((await gauge())['delivery-retrying'], 0);
});

test('ledger-unavailable while ledger writes fail (read-only), cleared by the next write that works', async (t) => {
  const root = await tempDir(t);
  let db: Database.Database | undefined;
  const s = await startService(root, '', { random: () => 0.05, ledger: { onOpen: (d) => { db = d; } } });
  const source = statusSourceFor(s.service, { quickLookDir: join(root, 'state', 'quicklook') });
  assert.equal((await checkHealth(source)).ok, true);
  db!.pragma('query_only = 1');
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1 });
  await s.send(`proc /home/data/${raw.name}`);
  const health = await healthUntil(source, (h) => codes(h).includes('ledger-unavailable'), 'ledger-unavailable appears');
  assert.match(health.problems.find((p) => p.code === 'ledger-unavailable')!.message, /^writes fail: .*SQLITE_READONLY/);
  const delivered = deliveries(s.service, 1);
  db!.pragma('query_only = 0');
  await delivered;
  assert.deepEqual(await checkHealth(source), { ok: true, problems: [] });
});

test('watcher-stale while a channel folder cannot be reached, cleared at the next poll that reaches it', async (t) => {
  const root = await tempDir(t);
  const s = await startService(root, '', { watcherStaleMs: 300 });
  const source = statusSourceFor(s.service, { quickLookDir: join(root, 'state', 'quicklook') });
  assert.equal((await checkHealth(source)).ok, true);
  await new Promise((r) => setTimeout(r, 200)); // a few polls that reach both folders
  const folder = join(root, 'raw', 'mods1r');
  await rename(folder, `${folder}.away`);
  const health = await healthUntil(source, (h) => codes(h).includes('watcher-stale'), 'watcher-stale appears');
  const message = health.problems[0]!.message;
  assert.ok(message.startsWith(`no successful poll of ${folder} for `) && /for \d+ s$/.test(message), message);
  await rename(`${folder}.away`, folder);
  await healthUntil(source, (h) => h.ok, 'watcher-stale clears');
});

test('completeness-overdue for a file still waiting past its timeout (and a grace), gone once it is queued or dropped', async (t) => {
  const root = await tempDir(t);
  const clock = new ManualClock();
  const ledger = openLedger(join(root, 'state'), { clock });
  t.after(() => ledger.close());
  const row = ledger.markWaiting(ledger.note(join(root, 'raw', 'mods1b', 'mods1b.20260115.0001.fits'), 'watcher', { channel: 'mods1b' }).id);
  let tracked = [row];
  const live = new LiveHealth({
    clock, repoDir: root, procDir: root, watcherLastPoll: () => undefined, watcherStaleMs: 30_000,
    tracked: () => tracked, incompleteTimeoutMs: 120_000, incompleteGraceMs: 5_000,
  });
  clock.advance(125_000);
  assert.deepEqual(live.findings(), [], 'not yet: the readiness check fails it at its next look');
  clock.advance(1_000);
  const [overdue, ...more] = live.findings();
  assert.deepEqual(more, []);
  assert.equal(overdue?.code, 'completeness-overdue');
  assert.equal(overdue?.file, row.name);
  assert.equal(overdue?.sinceMs, row.firstSeenAt + 125_000);
  assert.match(overdue?.message ?? '', /still waiting to be complete 126 s after it was found \(timeout 120 s\)/);
  tracked = [ledger.markQueued(row.id)];
  assert.deepEqual(live.findings(), [], 'queued: no longer waiting');
  tracked = [];
  assert.deepEqual(live.findings(), []);
});

test('disk-low when repoDir or procDir has less room than the next file needs; source-dead while a source is down; both clear', async (t) => {
  const root = await tempDir(t);
  const ledger = openLedger(join(root, 'state'), { clock: { now: () => Date.now() } });
  t.after(() => ledger.close());
  let needs = Number.MAX_SAFE_INTEGER;
  let watcher = false;
  const source: StatusSource = {
    version: VERSION, configFile: undefined, startedAt: Date.now(), now: () => Date.now(), channels: ['mods1b'],
    sources: () => ({ watcher, udp: true, drop: null }), queue: () => ({ waiting: 0, queued: 0, running: 0 }),
    ledger, repoDir: join(root, 'state'), procDir: root, quickLook: () => undefined,
    health: { findings: () => [], nextFileBytes: () => needs },
  };
  const bad = await checkHealth(source);
  assert.deepEqual(codes(bad), ['source-dead', 'disk-low', 'disk-low']);
  assert.equal(bad.problems[0]!.message, 'the raw-folder watcher is not running');
  assert.match(bad.problems[1]!.message, new RegExp(`^repoDir ${join(root, 'state')} has [\\d.]+ MB free, the next file needs 9007199254.7 MB$`));
  assert.match(bad.problems[2]!.message, /^procDir /);
  // `since` is when it was first seen, not when last checked.
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual((await checkHealth(source)).problems.map((p) => p.since), bad.problems.map((p) => p.since));
  needs = 154e6;
  watcher = true;
  assert.deepEqual(await checkHealth(source), { ok: true, problems: [] });
});
