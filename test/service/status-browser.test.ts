/**
 * The status page in a real browser: Debian's chromium, headless, driven by playwright-core
 * (npm cannot download a browser here, so `executablePath` points at the system one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { writeRaw } from '../../src/simulate/index.js';
import { attachMetrics } from '../../src/service/surface/metrics.js';
import { attachQuickLookUpdater } from '../../src/service/surface/quicklook-updater.js';
import { startStatusServer, type StatusServerOptions } from '../../src/service/surface/status-http.js';
import { statusSourceFor } from '../../src/service/surface/status-source.js';
import { tempDir } from '../helpers/temp.js';
import { deliveries, nextEvent, startService } from '../helpers/service.js';
import { FaultyFs } from './helpers/faulty-fs.js';
import { skipUnless } from '../helpers/tools.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
// Code run in the page is given as text: the tests are type-checked without the DOM library.
/** True once the quick-look image has finished loading (or failed: then naturalWidth is 0). */
const IMAGE_LOADED = "document.querySelector('#ql-mods1b')?.complete === true";
/** The page's full width and the window's. */
const PAGE_WIDTHS = '({ page: document.documentElement.scrollWidth, view: window.innerWidth })';
interface ImageLike { naturalWidth: number; naturalHeight: number }
/** The health banner's background colour, as the browser computes it. */
const BACKGROUND = "getComputedStyle(document.querySelector('#health')).backgroundColor";

/** Where the phone-width screenshot is left for a person to look at. */
const PHONE_SCREENSHOT = '/tmp/dataman-status-phone.png';

async function launch(t: { after(fn: () => Promise<void> | void): void }, viewport: { width: number; height: number }): Promise<BrowserContext> {
  // A fresh profile per browser: nothing cached from an earlier run. Removed only after the
  // browser has closed, since chromium writes to it on the way out.
  const profile = await mkdtemp(join(tmpdir(), 'dataman-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport,
  });
  t.after(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  return context;
}

test('the status page in chromium: the delivered file in the table, the quick look rendered, readable at phone width', async (t) => {
  if (skipUnless(t, existsSync(CHROMIUM), 'chromium not installed (apt-get install chromium)')) return;
  const root = await tempDir(t);
  const s = await startService(root);
  const quickLooks = attachQuickLookUpdater(s.service, { dir: join(root, 'state', 'quicklook') });
  const metrics = attachMetrics(s.service);
  const source = statusSourceFor(s.service, { quickLookDir: quickLooks.dir });
  // A long refresh keeps the page still while it is inspected; the refresh itself is tested below.
  const serve = async (options: StatusServerOptions) => {
    const server = await startStatusServer(source, metrics.registry, { host: '127.0.0.1', port: 0, ...options });
    t.after(() => server.close());
    return `http://127.0.0.1:${server.address.port}/`;
  };
  const url = await serve({ refreshSeconds: 600 });
  t.after(async () => {
    metrics.detach();
    await quickLooks.detach();
    await s.stop();
  });

  const first = deliveries(s.service, 1);
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1, object: 'NGC 1275 <slit 0.6">' });
  await s.send(`proc /home/data/${raw.name}`);
  await first;
  await quickLooks.idle();

  const desktop = await launch(t, { width: 1280, height: 900 });
  const page = await desktop.newPage();
  const response = await page.goto(url);
  assert.equal(response?.status(), 200);
  const row = page.locator(`#recent tr[data-name="${raw.name}"]`);
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[0], raw.name);
  assert.equal(cells[1], 'delivered');
  assert.match(cells[2] ?? '', /^\d+\.\d$/, 'latency in seconds');
  assert.equal(cells[3], 'OBJECT');
  assert.equal(cells[4], 'NGC 1275 <slit 0.6">', 'OBJECT shown as text, not markup');
  assert.equal(cells[7], 'mods1b');
  const img = page.locator('#ql-mods1b');
  await img.waitFor();
  await page.waitForFunction(IMAGE_LOADED);
  const size = await img.evaluate((el: ImageLike) => ({ w: el.naturalWidth, h: el.naturalHeight }));
  assert.ok(size.w > 0 && size.h > 0, `quick look decoded by the browser: ${size.w}x${size.h}`);
  assert.equal(await page.locator('#health').textContent(), 'Healthy');
  const shot = join(await tempDir(t), 'status-desktop.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok((await stat(shot)).size > 1000);

  // Phone width: nothing wider than the screen except inside the scrolling table boxes.
  const phone = await launch(t, { width: 390, height: 844 });
  const small = await phone.newPage();
  await small.goto(url);
  await small.locator(`#recent tr[data-name="${raw.name}"]`).waitFor();
  await small.waitForFunction(IMAGE_LOADED);
  const widths = await small.evaluate<{ page: number; view: number }>(PAGE_WIDTHS);
  assert.ok(widths.page <= widths.view, `no sideways scrolling of the page at 390 px (${widths.page} > ${widths.view})`);
  await small.screenshot({ path: PHONE_SCREENSHOT, fullPage: true });
  assert.ok((await stat(PHONE_SCREENSHOT)).size > 1000);

  // The page reloads by itself: a file delivered after it was opened appears without a click.
  const live = await desktop.newPage();
  await live.goto(await serve({ refreshSeconds: 1 }));
  await live.locator(`#recent tr[data-name="${raw.name}"]`).waitFor();
  const next = deliveries(s.service, 1);
  const later = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 2 });
  await s.send(`proc /home/data/${later.name}`);
  await next;
  await live.locator(`#recent tr.state-delivered[data-name="${later.name}"]`).waitFor({ timeout: 30_000 });
});

test('the status page in chromium: a red banner saying what fails and since when while a delivery retries ENOSPC, healthy again after', async (t) => {
  if (skipUnless(t, existsSync(CHROMIUM), 'chromium not installed (apt-get install chromium)')) return;
  const root = await tempDir(t);
  const repo = join(root, 'newdata');
  const fs = new FaultyFs();
  fs.inject({ op: 'write', path: (p) => dirname(p) === repo, action: 'fail', errno: 'ENOSPC', times: 1_000_000 });
  const s = await startService(root, '', { random: () => 0.2, fs });
  const metrics = attachMetrics(s.service, { processMetrics: false });
  const server = await startStatusServer(statusSourceFor(s.service, { quickLookDir: join(root, 'state', 'quicklook') }), metrics.registry, { host: '127.0.0.1', port: 0, refreshSeconds: 1 });
  t.after(async () => {
    await server.close();
    metrics.detach();
    await s.stop();
  });
  const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: '1k', seq: 1 });
  const retried = nextEvent(s.service, 'job:retry');
  await s.send(`proc /home/data/${raw.name}`);
  await retried;

  const page = await (await launch(t, { width: 1280, height: 900 })).newPage();
  await page.goto(`http://127.0.0.1:${server.address.port}/`);
  const banner = page.locator('#health');
  const problem = banner.locator('li[data-code="delivery-retrying"]');
  await problem.waitFor();
  const text = await problem.textContent() ?? '';
  assert.ok(text.startsWith(`delivery-retrying ${raw.name} ENOSPC in repoDir ${repo}`), text);
  assert.match(text, / since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const colour = await page.evaluate<string>(BACKGROUND);
  const [r, g, b] = (colour.match(/\d+/g) ?? []).map(Number);
  assert.ok(r! > 150 && g! < 80 && b! < 80, `the banner is red: ${colour}`);
  assert.match(await page.title(), /UNHEALTHY/);

  // The cause gone, the page (reloading itself) says so without a click.
  const delivered = deliveries(s.service, 1);
  fs.clear();
  await delivered;
  await page.locator('#health.ok').waitFor({ timeout: 30_000 });
  assert.equal(await banner.textContent(), 'Healthy');
  assert.notEqual(await page.evaluate<string>(BACKGROUND), colour);
});

test('in chromium: a file\'s own page (summary, history, header cards, quick look) opened from the table, and the latency plot', async (t) => {
  if (skipUnless(t, existsSync(CHROMIUM), 'chromium not installed (apt-get install chromium)')) return;
  const root = await tempDir(t);
  const s = await startService(root);
  const quickLooks = attachQuickLookUpdater(s.service, { dir: join(root, 'state', 'quicklook') });
  const metrics = attachMetrics(s.service);
  const server = await startStatusServer(statusSourceFor(s.service, { quickLookDir: quickLooks.dir }), metrics.registry,
    { host: '127.0.0.1', port: 0, refreshSeconds: 600 });
  t.after(async () => {
    await server.close();
    metrics.detach();
    await quickLooks.detach();
    await s.stop();
  });
  const delivered = deliveries(s.service, 2);
  const raws = [];
  for (const seq of [1, 2]) {
    const raw = await writeRaw(join(root, 'raw', 'mods1b'), { roi: "1k", seq, object: `Galaxy <${seq}>` });
    await s.send(`proc /home/data/${raw.name}`);
    raws.push(raw);
  }
  await delivered;
  await quickLooks.idle();

  const browser = await launch(t, { width: 1280, height: 900 });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address.port}/`);
  // The latency plot: one dot per delivered file, each naming its file.
  await page.locator('#latency').waitFor();
  const dots = await page.locator('#latency circle title').allTextContents();
  assert.equal(dots.length, 2);
  for (const dot of dots) assert.match(dot, /^mods1b\.20260115\.000[12]\.fits: \d+\.\d s at \d\d:\d\d$/);
  assert.deepEqual(dots.map((d) => d.slice(0, 25)).sort(), raws.map((r) => r.name));
  const box = await page.locator('#latency').boundingBox();
  assert.ok(box !== null && box.width > 200 && box.height > 40, `the plot is drawn: ${JSON.stringify(box)}`);

  // Follow the link of the first file.
  const target = raws[0]!;
  await page.locator(`#recent tr[data-name="${target.name}"] a`).click();
  await page.waitForURL(`**/file/${target.name}`);
  assert.equal(await page.locator('#file-name').textContent(), target.name);
  assert.match(await page.locator('#file-summary').textContent() ?? '', /delivered[\s\S]*Galaxy <1>[\s\S]*300 s/);
  const history = await page.locator('#history tbody tr').first().locator('td').allTextContents();
  assert.deepEqual([history[2], history[3]], ['delivered', '1'], 'state and attempts');
  assert.match(history[9] ?? '', /^\d+\.\d$/, 'latency in seconds');
  const header = await page.locator('#header-cards').textContent() ?? '';
  assert.match(header, /^OBJECT  = 'Galaxy <1>'/m, 'the OBJECT card as inspect prints it');
  assert.match(header, /^\d +MERGED +IMAGE/m, 'the HDU list with MERGED');
  await page.waitForFunction("document.querySelector('#file-quicklook')?.complete === true", undefined, { timeout: 30_000 });
  const size = await page.locator('#file-quicklook').evaluate((el: ImageLike) => ({ w: el.naturalWidth, h: el.naturalHeight }));
  assert.deepEqual(size, { w: 1024, h: 1024 }, 'the file\'s quick look decoded by the browser');
  await page.locator('#back').click();
  await page.locator('#latency').waitFor();
});
