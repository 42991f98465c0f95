/**
 * The status page's HTML, rendered on the server from one `StatusSnapshot`: no script, a
 * `<meta refresh>` every few seconds, CSS that stacks into one column on a phone. Every value
 * that comes from a file, the ledger or the configuration goes through `escapeHtml` (an OBJECT
 * keyword is typed by an observer and can hold anything).
 */
import type { DiskStatus, FileStatus, HealthProblem, HealthReport, StatusSnapshot } from './status-source.js';
import type { CatchUpStatus } from '../events.js';
import { renderLatencyPlot } from './latency-plot.js';

export interface StatusPageOptions {
  /** Seconds between automatic reloads. @default 5 */
  refreshSeconds?: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export const CSS = `
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #b35900; --bad: #c62828; --line: #8884; }
* { box-sizing: border-box; }
body { font: 15px/1.35 system-ui, sans-serif; margin: 0 auto; padding: 8px; max-width: 1400px; }
h1 { font-size: 1.25em; margin: 4px 0 8px; } h2 { font-size: 1.05em; margin: 16px 0 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 8px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
.card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0; }
.card dt { opacity: .7; } .card dd { margin: 0; overflow-wrap: anywhere; }
.ok { color: var(--ok); } .warn { color: var(--warn); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
.banner { padding: 6px 10px; border-radius: 6px; margin-bottom: 8px; border: 2px solid currentColor; }
.banner.unhealthy { background: var(--bad); color: #fff; } .banner ul { margin: 4px 0 0; padding-left: 1.2em; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
td.wrap { white-space: normal; min-width: 12em; overflow-wrap: anywhere; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.state-failed td { background: #c6282815; } tr.state-delivered td.state { color: var(--ok); }
.looks { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 8px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 4px; }
figure img { display: block; width: 100%; height: auto; image-rendering: pixelated; background: #000; }
figcaption { font-size: .9em; padding: 2px 4px; }
footer { opacity: .6; font-size: .85em; margin-top: 14px; }
@media (max-width: 600px) {
  body { font-size: 14px; padding: 6px; }
  .hide-narrow { display: none; }
}
`;

/** The whole page. */
export function renderStatusPage(s: StatusSnapshot, health: HealthReport, options: StatusPageOptions = {}): string {
  const refresh = options.refreshSeconds ?? 5;
  const time = timeFormatter(s.service.timeZone);
  const stamp = (ms: number) => time.format(new Date(ms));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refresh}">
<title>dataman ${escapeHtml(s.service.channels.join(' '))}${health.ok ? '' : ' — UNHEALTHY'}</title>
<style>${CSS}</style>
</head>
<body>
<h1>dataman ${escapeHtml(s.service.version)} — ${escapeHtml(s.service.channels.join(', '))}</h1>
${healthBanner(health)}
<section class="cards">
${serviceCard(s, stamp)}
${queueCard(s)}
${s.disks.map((d) => diskCard(d, s)).join('\n')}
</section>
<h2>Quick look (latest MERGED per channel)</h2>
<section class="looks">
${s.quickLooks.map((q) => quickLookFigure(q.channel, q.available, s.service.now)).join('\n')}
</section>
<h2>Delivery latency (s, from complete to delivered)</h2>
${renderLatencyPlot(s.latency, (ms) => stamp(ms).slice(11, 16), escapeHtml)}
<h2>Recent files</h2>
${filesTable(s.recent, stamp, 'recent', 'No files yet.')}
<h2>Failures</h2>
${failuresTable(s.failures, stamp)}
<footer>Refreshes every ${refresh} s · ${escapeHtml(stamp(s.service.now))} ${escapeHtml(s.service.timeZone)} ·
<a href="status.json">status.json</a> · <a href="metrics">metrics</a> · <a href="healthz">healthz</a></footer>
</body>
</html>
`;
}

function healthBanner(health: HealthReport): string {
  if (health.ok) return '<div class="banner ok" id="health">Healthy</div>';
  const item = (p: HealthProblem) => `<li data-code="${escapeHtml(p.code)}"><b>${escapeHtml(p.code)}</b> ${escapeHtml(p.message)} <span class="since">since ${escapeHtml(p.since)}</span></li>`;
  return `<div class="banner bad unhealthy" id="health">Unhealthy:<ul>${health.problems.map(item).join('')}</ul></div>`;
}

function serviceCard(s: StatusSnapshot, stamp: (ms: number) => string): string {
  const alive = (v: boolean | null) => (v === null ? '<span>not configured</span>' : v ? '<span class="ok">alive</span>' : '<span class="bad">DEAD</span>');
  return `<div class="card" id="service"><dl>
<dt>Uptime</dt><dd>${escapeHtml(duration(s.service.uptimeSeconds))} (since ${escapeHtml(stamp(s.service.startedAt))})</dd>
<dt>Config</dt><dd>${escapeHtml(s.service.configFile ?? 'built-in defaults')}</dd>
<dt>Watcher</dt><dd>${alive(s.sources.watcher)}</dd>
<dt>UDP trigger</dt><dd>${alive(s.sources.udp)}</dd>
<dt>Drop folder</dt><dd>${alive(s.sources.drop)}</dd>
${eventLoopLine(s)}</dl></div>`;
}

/** Shown only when the main thread was late (§7.1): the longest block and the 99th percentile of the last seconds. */
function eventLoopLine(s: StatusSnapshot): string {
  const d = s.eventLoop;
  if (d === null || !d.high || d.maxMs === null) return '';
  const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)} ms`);
  return `<dt>Main thread</dt><dd class="warn" id="event-loop">blocked up to ${ms(d.maxMs)} (p99 ${ms(d.p99Ms)}) in the last seconds</dd>\n`;
}

function queueCard(s: StatusSnapshot): string {
  const counts = s.counts;
  const ledger = s.ledgerError === null ? '' : `<dt>Ledger</dt><dd class="bad">${escapeHtml(s.ledgerError)}</dd>`;
  const byState = counts === null ? '' : `<dt>Delivered</dt><dd>${counts.byState.delivered}</dd><dt>Failed</dt><dd${counts.byState.failed > 0 ? ' class="warn"' : ''}>${counts.byState.failed}</dd>`;
  return `<div class="card" id="queue"><dl>
<dt>Waiting</dt><dd>${s.queue.waiting}</dd>
<dt>Queued</dt><dd>${s.queue.queued}</dd>
<dt>Running</dt><dd>${s.queue.running}</dd>
${catchUpLine(s)}${byState}${ledger}
</dl></div>`;
}

/** "catching up: 12 of 20 files, about 14 s left" while the start's catch-up runs (behaviour.md §2.4). */
export function catchUpText(c: CatchUpStatus): string {
  const left = c.etaMs === null ? '' : `, about ${Math.max(1, Math.round(c.etaMs / 1000))} s left`;
  return `catching up: ${c.done} of ${c.total} files${left}`;
}

function catchUpLine(s: StatusSnapshot): string {
  const c = s.catchUp;
  const backlog = c === null ? '' : `<dt>Backlog</dt><dd>${c.backlog}</dd>`;
  return c?.active === true ? `<dt>Catch-up</dt><dd class="warn" id="catch-up">${escapeHtml(catchUpText(c))}</dd>${backlog}` : backlog;
}

function diskCard(d: DiskStatus, s: StatusSnapshot): string {
  const cls = d.warning ? 'warn' : 'ok';
  const free = d.error !== null ? `<span class="bad">${escapeHtml(d.error)}</span>`
    : `<span class="${cls}">${escapeHtml(gigabytes(d.freeBytes))} free of ${escapeHtml(gigabytes(d.totalBytes))}`
      + ` (${escapeHtml(percent(d.freeFraction))})${d.warning ? ' — LOW' : ''}</span>`;
  const t = s.thresholds;
  return `<div class="card disk" id="disk-${escapeHtml(d.name)}"><dl>
<dt>${escapeHtml(d.name)}</dt><dd>${escapeHtml(d.path)}</dd>
<dt>Space</dt><dd>${free}</dd>
<dt>Warn below</dt><dd>${escapeHtml(percent(t.minFreeFraction))} or ${escapeHtml(gigabytes(t.minFreeBytes))}</dd>
</dl></div>`;
}

function quickLookFigure(channel: string, available: boolean, now: number): string {
  const c = escapeHtml(channel);
  if (!available) return `<figure><figcaption>${c}: no quick look yet</figcaption></figure>`;
  // The query string only defeats the browser cache across refreshes; the server ignores it.
  return `<figure><img src="quicklook/${c}.png?t=${Math.floor(now / 1000)}" alt="quick look of the latest ${c} image" id="ql-${c}"><figcaption>${c}</figcaption></figure>`;
}

/**
 * File, state and latency first: on a phone the table scrolls sideways and those are what the
 * observer looks for; the channel is in the file name, so it is dropped on narrow screens.
 */
function filesTable(files: FileStatus[], stamp: (ms: number) => string, id: string, empty: string): string {
  if (files.length === 0) return `<p id="${id}-empty">${escapeHtml(empty)}</p>`;
  const rows = files.map((f) => `<tr class="state-${escapeHtml(f.state)}" data-name="${escapeHtml(f.name)}">
<td>${fileLink(f.name)}</td><td class="state">${escapeHtml(f.state)}</td>
<td class="num">${f.latencySeconds === null ? '' : escapeHtml(f.latencySeconds.toFixed(1))}</td><td>${escapeHtml(f.imageType ?? '')}</td>
<td class="wrap">${escapeHtml(f.object ?? '')}</td><td class="num">${f.exptime === null ? '' : escapeHtml(f.exptime.toFixed(1))}</td>
<td class="wrap">${escapeHtml(notes(f))}</td><td class="hide-narrow">${escapeHtml(f.channel ?? '')}</td><td class="hide-narrow">${escapeHtml(stamp(f.updatedAt))}</td></tr>`).join('\n');
  return `<div class="scroll"><table id="${id}">
<thead><tr><th>File</th><th>State</th><th class="num">Latency s</th><th>Type</th><th>Object</th><th class="num">Exp s</th><th>Warnings</th><th class="hide-narrow">Chan</th><th class="hide-narrow">Updated</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>`;
}

function failuresTable(files: FileStatus[], stamp: (ms: number) => string): string {
  if (files.length === 0) return '<p id="failures-empty">No failures.</p>';
  const rows = files.map((f) => `<tr data-name="${escapeHtml(f.name)}"><td>${fileLink(f.name)}</td><td>${escapeHtml(f.errorCode ?? '')}</td>
<td class="wrap">${escapeHtml(f.errorMessage ?? '')}</td><td class="hide-narrow">${escapeHtml(stamp(f.updatedAt))}</td></tr>`).join('\n');
  return `<div class="scroll"><table id="failures">
<thead><tr><th>File</th><th>Code</th><th>Reason</th><th class="hide-narrow">When</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>`;
}

/** A file name linking to its own page (`file/<name>`, relative so that a proxy prefix keeps working). */
function fileLink(name: string): string {
  return `<a href="file/${escapeHtml(encodeURIComponent(name))}">${escapeHtml(name)}</a>`;
}

/** Warnings, and for a non-delivered file why. */
function notes(f: FileStatus): string {
  const parts = [...f.warnings];
  if (f.state === 'skipped' && f.skipReason) parts.push(`skipped: ${f.skipReason}`);
  if (f.state === 'failed' && f.errorCode) parts.push(`${f.errorCode}: ${f.errorMessage ?? ''}`);
  if (f.deliveredName !== null && f.deliveredName !== f.name) parts.push(`delivered as ${f.deliveredName}`);
  return parts.join('; ');
}

export function timeFormatter(timeZone: string): Intl.DateTimeFormat {
  const options: Intl.DateTimeFormatOptions = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
  try {
    return new Intl.DateTimeFormat('sv-SE', { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat('sv-SE', { ...options, timeZone: 'UTC' });
  }
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  return d > 0 ? `${d} d ${h} h ${m} min` : h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

function gigabytes(bytes: number | null): string {
  return bytes === null ? '?' : `${(bytes / 1e9).toFixed(bytes < 10e9 ? 2 : 0)} GB`;
}

function percent(fraction: number | null): string {
  return fraction === null ? '?' : `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)} %`;
}
