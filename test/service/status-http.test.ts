import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeRaw } from '../../src/simulate/index.js';
import { attachMetrics } from '../../src/service/surface/metrics.js';
import { attachQuickLookUpdater, type QuickLookUpdater } from '../../src/service/surface/quicklook-updater.js';
import { startStatusServer, type StatusServer } from '../../src/service/surface/status-http.js';
import { statusSourceFor, type StatusSource } from '../../src/service/surface/status-source.js';
import { openLedger } from '../../src/service/ledger/ledger.js';
import { Registry } from 'prom-client';
import { VERSION } from '../../src/version.js';
import { formatInspectText, inspectFile } from '../../src/fits/inspect-report.js';
import { tempDir } from '../helpers/temp.js';
import { deliveries, nextEvent, startService, type RunningService } from '../helpers/service.js';

interface Surface {
  s: RunningService;
  server: StatusServer;
  quickLooks: QuickLookUpdater;
  url(path: string): string;
}

/** A real service with the wiring the service itself is to get: quick looks, metrics, status server on loopback. */
async function startWithStatus(t: { after(fn: () => Promise<void> | void): void }, root: string): Promise<Surface> {
  const s = await startService(root);
  const quickLooks = attachQuickLookUpdater(s.service, { dir: join(root, 'state', 'quicklook') });
  const metrics = attachMetrics(s.service);
  const server = await startStatusServer(statusSourceFor(s.service, { quickLookDir: quickLooks.dir }), metrics.registry, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await server.close();
    metrics.detach();
    await quickLooks.detach();
    await s.stop();
  });
  return { s, server, quickLooks, url: (path) => `http://127.0.0.1:${server.address.port}${path}` };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)(?: (-?\d+))?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

/**
 * Checks Prometheus text exposition format 0.0.4 line by line and returns the samples: HELP and
 * TYPE lines well-formed, one TYPE per family before its samples, every other line
 * `name{labels} value`, each sample belonging to a declared family.
 */
function parsePrometheus(text: string): Sample[] {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text.slice(0, -1).split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') return; // the format allows empty lines (prom-client separates families with one)
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      assert.ok(m, `${where}: a comment is HELP or TYPE`);
      assert.match(m[2]!, METRIC_NAME, `${where}: metric name`);
      if (m[1] === 'TYPE') {
        assert.match(m[3]!, /^(counter|gauge|histogram|summary|untyped)$/, `${where}: metric type`);
        assert.ok(!types.has(m[2]!), `${where}: TYPE given twice`);
        types.set(m[2]!, m[3]!);
      } else {
        assert.doesNotMatch(m[3]!, /\\[^\\n]/, `${where}: HELP escapes only \\\\ and \\n`);
      }
      return;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `${where}: a sample is name{labels} value`);
    const value = m[3]!;
    // Prometheus parses sample values with Go's ParseFloat: NaN and Inf in any case.
    assert.match(value, /^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?inf|nan)$/i, `${where}: value`);
    const name = m[1]!;
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
    assert.ok(family !== undefined, `${where}: sample of an undeclared metric`);
    if (name.endsWith('_bucket') && types.get(family) === 'histogram') assert.match(m[2] ?? '', /le="/, `${where}: bucket without le`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    samples.push({ name, labels, value: value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value) });
  });
  return samples;
}

function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** One raw exchange on a socket: what the server answers to bytes that are not valid HTTP. */
async function rawRequest(port: number, bytes: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.end(bytes);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

test('the status page, status.json and /metrics show delivered and failed files with their state', async (t) => {
  const root = await tempDir(t);
  const { s, quickLooks, url, server } = await startWithStatus(t, root);

  // One failure (a drop-folder file that is not FITS), then two delivered files.
  const failed = nextEvent(s.service, 'job:failed');
  await writeFile(join(root, 'drop', 'mods1r.20260115.0007.fits'), 'This is bad data');
  await failed;
  const delivered = deliveries(s.service, 2);
  const first = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1, object: '<b>M31 & "friends"</b>' });
  await s.send(`proc /home/data/${first.name}`);
  const second = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 2, imageType: 'flat', exptimeS: 2.5 });
  await s.send(`proc /home/data/${second.name}`);
  await delivered;
  await s.service.idle();
  await quickLooks.idle();

  const page = await fetch(url('/'));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  assert.match(html, /<meta http-equiv="refresh" content="5">/);
  assert.match(html, /<meta name="viewport"/);
  for (const name of [first.name, second.name]) {
    assert.match(html, new RegExp(`<tr class="state-delivered" data-name="${name.replace(/\./g, '\\.')}">`), `${name} listed as delivered`);
  }
  assert.ok(html.includes('&lt;b&gt;M31 &amp; &quot;friends&quot;&lt;/b&gt;'), 'OBJECT is shown, escaped');
  assert.ok(!html.includes('<b>M31'), 'OBJECT never reaches the page unescaped');
  assert.match(html, /<table id="failures">[\s\S]*mods1r\.20260115\.0007\.fits[\s\S]*does not start with SIMPLE = T/);
  assert.match(html, /<img src="quicklook\/mods1b\.png\?t=\d+"/);
  assert.match(html, /mods1r: no quick look yet/);
  assert.match(html, /id="health">Healthy</);

  const json = await (await fetch(url('/status.json'))).json() as {
    service: { version: string; configFile: string; channels: string[]; uptimeSeconds: number };
    sources: { watcher: boolean; udp: boolean; drop: boolean | null };
    queue: { waiting: number; queued: number; running: number };
    counts: { byState: Record<string, number> };
    disks: Array<{ name: string; freeBytes: number; totalBytes: number; warning: boolean }>;
    recent: Array<{ name: string; state: string; channel: string; imageType: string; object: string; exptime: number; latencySeconds: number | null }>;
    failures: Array<{ name: string; errorCode: string; errorMessage: string }>;
    quickLooks: Array<{ channel: string; available: boolean }>;
    health: { ok: boolean; problems: unknown[] };
  };
  assert.equal(json.service.version, VERSION);
  assert.equal(json.service.configFile, join(root, 'dataman.yaml'));
  assert.deepEqual(json.service.channels, ['mods1b', 'mods1r']);
  assert.deepEqual(json.sources, { watcher: true, udp: true, drop: true });
  assert.deepEqual(json.queue, { waiting: 0, queued: 0, running: 0 });
  assert.equal(json.counts.byState.delivered, 2);
  assert.equal(json.counts.byState.failed, 1);
  assert.deepEqual(json.disks.map((d) => d.name), ['repoDir', 'procDir']);
  assert.ok(json.disks.every((d) => d.totalBytes > 0 && d.freeBytes >= 0 && typeof d.warning === 'boolean'));
  const row2 = json.recent.find((r) => r.name === second.name);
  assert.ok(row2, 'second file in status.json');
  assert.equal(row2.state, 'delivered');
  assert.equal(row2.channel, 'mods1b');
  assert.equal(row2.imageType?.toLowerCase(), 'flat');
  assert.equal(row2.exptime, 2.5);
  assert.ok(row2.latencySeconds !== null && row2.latencySeconds >= 0, 'latency from complete to delivered');
  assert.equal(json.recent.find((r) => r.name === first.name)?.object, '<b>M31 & "friends"</b>');
  assert.deepEqual(json.failures.map((f) => f.name), ['mods1r.20260115.0007.fits']);
  assert.match(json.failures[0]!.errorMessage, /does not start with SIMPLE = T/);
  assert.ok(json.failures[0]!.errorCode.length > 0);
  assert.deepEqual(json.quickLooks, [{ channel: 'mods1b', available: true }, { channel: 'mods1r', available: false }]);
  assert.deepEqual(json.health, { ok: true, problems: [] });

  const png = await fetch(url('/quicklook/mods1b.png'));
  assert.equal(png.status, 200);
  assert.equal(png.headers.get('content-type'), 'image/png');
  assert.deepEqual([...Buffer.from(await png.arrayBuffer()).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal((await fetch(url('/quicklook/mods1r.png'))).status, 404, 'no quick look yet');
  assert.equal((await fetch(url('/quicklook/mods2b.png'))).status, 404, 'not a channel of this service');
  assert.equal((await fetch(url('/quicklook/..%2Fledger.sqlite'))).status, 404);

  const metrics = await fetch(url('/metrics'));
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples = parsePrometheus(await metrics.text());
  assert.equal(sample(samples, 'dataman_files', { state: 'delivered', channel: 'mods1b' }), 2);
  assert.equal(sample(samples, 'dataman_files', { state: 'failed', channel: 'mods1r' }), 1);
  assert.equal(sample(samples, 'dataman_deliveries_total', { channel: 'mods1b' }), 2);
  assert.equal(sample(samples, 'dataman_delivery_latency_seconds_count', { channel: 'mods1b' }), 2);
  assert.equal(sample(samples, 'dataman_processing_seconds_count', { channel: 'mods1b' }), 2);
  assert.equal(sample(samples, 'dataman_delivery_latency_seconds_bucket', { channel: 'mods1b', le: '+Inf' }), 2);
  assert.equal(samples.filter((x) => x.name === 'dataman_errors_total').reduce((sum, x) => sum + x.value, 0), 1);
  assert.equal(sample(samples, 'dataman_errors_total', { code: json.failures[0]!.errorCode }), 1);
  for (const stage of ['waiting', 'queued', 'running']) assert.equal(sample(samples, 'dataman_queue_depth', { stage }), 0);
  const last = sample(samples, 'dataman_last_delivery_timestamp_seconds', { channel: 'mods1b' });
  assert.ok(last !== undefined && Math.abs(last - Date.now() / 1000) < 3600, `last delivery time ${last}`);
  assert.equal(sample(samples, 'dataman_ledger_up'), 1);
  assert.equal(sample(samples, 'dataman_info', { version: VERSION }), 1);

  // Bad requests are answered, never crash the server.
  assert.equal((await fetch(url('/nothing-here'))).status, 404);
  assert.equal((await fetch(url('/'), { method: 'POST', body: 'x' })).status, 405);
  assert.match(await rawRequest(server.address.port, 'THIS IS NOT HTTP\r\n\r\n'), /^HTTP\/1\.1 400/);
  assert.match(await rawRequest(server.address.port, 'GET http://[bad/ HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 (400|404)/);
  assert.equal((await fetch(url('/healthz'))).status, 200, 'still serving');
});

test('/healthz turns unhealthy when repoDir is unwritable and healthy again after', async (t) => {
  const root = await tempDir(t);
  const { url } = await startWithStatus(t, root);
  const repo = join(root, 'newdata');
  const ok = await fetch(url('/healthz'));
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'ok\n');

  // Tests run as root, for whom chmod blocks nothing: put a regular file where the folder was.
  await rename(repo, `${repo}.away`);
  await writeFile(repo, 'not a folder');
  const bad = await fetch(url('/healthz'));
  assert.equal(bad.status, 503);
  const reason = await bad.text();
  assert.match(reason, /^unhealthy: repo-unwritable repoDir \S+ is not writable: ENOTDIR[^\n]* since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
  assert.ok(reason.includes(`repoDir ${repo} is not writable`), reason);
  const page = await (await fetch(url('/'))).text();
  assert.match(page, /id="health">Unhealthy:<ul><li data-code="repo-unwritable"><b>repo-unwritable<\/b> repoDir /);

  await rm(repo);
  await rename(`${repo}.away`, repo);
  const again = await fetch(url('/healthz'));
  assert.equal(again.status, 200);
  assert.equal(await again.text(), 'ok\n');

  // Gone entirely is unhealthy too, and coming back heals it.
  await rename(repo, `${repo}.away`);
  assert.equal((await fetch(url('/healthz'))).status, 503);
  await mkdir(repo);
  assert.equal((await fetch(url('/healthz'))).status, 200);
});

test('after the service stops, /healthz names the dead sources and the closed ledger; the page still answers', async (t) => {
  const root = await tempDir(t);
  const { s, url } = await startWithStatus(t, root);
  await s.stop();
  const res = await fetch(url('/healthz'));
  assert.equal(res.status, 503);
  const text = await res.text();
  assert.match(text, /source-dead the raw-folder watcher/);
  assert.match(text, /source-dead the UDP trigger/);
  assert.match(text, /source-dead the drop-folder watcher/);
  assert.match(text, /ledger-unavailable cannot read the ledger: .*closed/);
  const page = await fetch(url('/'));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /class="bad">DEAD</);
  const samples = parsePrometheus(await (await fetch(url('/metrics'))).text());
  assert.equal(sample(samples, 'dataman_ledger_up'), 0);
});

test('a disk below the free-space threshold is flagged on the page and in status.json', async (t) => {
  const root = await tempDir(t);
  const ledger = openLedger(join(root, 'state'), { clock: { now: () => Date.now() } });
  t.after(() => ledger.close());
  // Any StatusSource will do: the HTTP layer knows nothing of the service.
  const source: StatusSource = {
    version: VERSION, configFile: undefined, startedAt: Date.now(), now: () => Date.now(), channels: ['mods1b'],
    sources: () => ({ watcher: true, udp: true, drop: null }), queue: () => ({ waiting: 0, queued: 0, running: 0 }),
    ledger, repoDir: root, procDir: join(root, 'missing'), quickLook: () => undefined,
  };
  const server = await startStatusServer(source, new Registry(), {
    host: '127.0.0.1', port: 0, thresholds: { minFreeFraction: 0.1, minFreeBytes: Number.MAX_SAFE_INTEGER },
  });
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address.port}`;
  const json = await (await fetch(`${base}/status.json`)).json() as { disks: Array<{ name: string; warning: boolean; error: string | null }> };
  assert.deepEqual(json.disks.map((d) => [d.name, d.warning, d.error === null]), [['repoDir', true, true], ['procDir', true, false]]);
  const html = await (await fetch(`${base}/`)).text();
  assert.match(html, /id="disk-repoDir"[\s\S]*?<span class="warn">[^<]*— LOW<\/span>/);
  assert.match(html, /id="disk-procDir"[\s\S]*?<span class="bad">ENOENT/);
  assert.match(html, /Drop folder<\/dt><dd><span>not configured/);
  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'low disk space warns; it is not unhealthy');
});

test('a file\'s own page: ledger history, warnings, header cards as inspect prints them, quick look; bad names are 404s', async (t) => {
  const root = await tempDir(t);
  const { s, url, server } = await startWithStatus(t, root);
  const delivered = deliveries(s.service, 1);
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 3, object: 'NGC <1275>', broken: ['no-conpars'] });
  await s.send(`proc /home/data/${raw.name}`);
  await delivered;
  await s.service.idle();

  const main = await (await fetch(url('/'))).text();
  assert.ok(main.includes(`<a href="file/${raw.name}">${raw.name}</a>`), 'the main page links the file to its page');
  assert.match(main, /<svg id="latency"[\s\S]*<circle [^>]*><title>mods1b\.20260115\.0003\.fits: \d+\.\d s at /, 'one dot on the latency plot');
  const json = await (await fetch(url('/status.json'))).json() as { latency: Array<{ name: string; seconds: number }> };
  assert.deepEqual(json.latency.map((p) => p.name), [raw.name]);

  const res = await fetch(url(`/file/${raw.name}`));
  assert.equal(res.status, 200);
  const html = await res.text();
  const row = s.service.ledgerHandle.byName(raw.name)[0]!;
  const inspected = await inspectFile(row.procPath!);
  // The header cards exactly as `dataman inspect` prints them, escaped.
  assert.ok(html.includes(`<pre class="header" id="header-cards">${escapeText(formatInspectText(inspected.report, inspected.hdus))}</pre>`));
  assert.ok(html.includes('NGC &lt;1275&gt;') && !html.includes('NGC <1275>'), 'OBJECT card escaped');
  assert.match(html, new RegExp(`<tr class="state-delivered" data-job="${row.id}">\\s*<td class="num">${row.id}</td><td>${row.origin}</td><td class="state">delivered</td><td class="num">1</td>`));
  assert.match(html, /<ul id="warnings"><li>[^<]*CONPARS/i, 'the no-CONPARS warning');
  assert.match(html, new RegExp(`<img id="file-quicklook" src="${raw.name.replace(/\./g, '\\.')}/quicklook\\.png"`));
  const png = await fetch(url(`/file/${raw.name}/quicklook.png`));
  assert.equal(png.status, 200);
  assert.equal(png.headers.get('content-type'), 'image/png');
  assert.deepEqual([...Buffer.from(await png.arrayBuffer()).subarray(1, 4)], [...Buffer.from('PNG')]);

  // Unknown and malformed names: 404 with a reason; nothing outside the ledger is ever read.
  const notFound = async (path: string, reason: RegExp) => {
    const r = await fetch(url(path));
    assert.equal(r.status, 404, path);
    assert.match(await r.text(), reason, path);
  };
  await notFound('/file/mods1b.20260115.0099.fits', /the ledger has no file named mods1b\.20260115\.0099\.fits/);
  await notFound('/file/mods1b.20260115.0099.fits/quicklook.png', /no processed file named/);
  await notFound('/file/..%2F..%2Fetc%2Fpasswd', /not a file name/);
  await notFound('/file/%2Fetc%2Fpasswd', /not a file name/);
  await notFound('/file/.ledger.sqlite', /not a file name/);
  await notFound('/file/a%00b.fits', /not a file name/);
  await notFound('/file/%E0%A4%A', /bad %-encoding/);
  await notFound('/file/', /not a file name/);
  // A raw request with a literal ../ (fetch would normalise it): Node's URL parser removes the dot segments.
  const traversal = await rawRequest(server.address.port, 'GET /file/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(traversal, /^HTTP\/1\.1 404/);
  assert.doesNotMatch(traversal, /root:/);
});

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
