/**
 * A file's own status page (`/file/<name>`): what the ledger knows of every job of that name
 * (attempts, errors, timings), its warnings, the processed file's header cards as
 * `dataman inspect` prints them, and its quick look. Server-rendered like the main page, every
 * value through `escapeHtml`.
 */
import type { FileDetail } from './file-detail.js';
import { CSS, escapeHtml, timeFormatter } from './status-page.js';

const PAGE_CSS = `${CSS}
pre.header { font: 12px/1.3 ui-monospace, monospace; overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: 6px; max-height: 70vh; }
figure.file-look { max-width: 1024px; }
`;

export function renderFilePage(d: FileDetail, timeZone: string): string {
  const time = timeFormatter(timeZone);
  const stamp = (ms: number | null) => (ms === null ? '' : time.format(new Date(ms)));
  const last = d.jobs[d.jobs.length - 1]!.row;
  const warnings = [...new Set(d.jobs.flatMap((j) => j.row.warnings))];
  const seconds = (s: number | null) => (s === null ? '' : s.toFixed(1));
  const rows = d.jobs.map(({ row: r, latencySeconds, processingSeconds }) => `<tr class="state-${escapeHtml(r.state)}" data-job="${r.id}">
<td class="num">${r.id}</td><td>${escapeHtml(r.origin)}</td><td class="state">${escapeHtml(r.state)}</td><td class="num">${r.attempts}</td>
<td>${escapeHtml(stamp(r.firstSeenAt))}</td><td>${escapeHtml(stamp(r.completeAt))}</td><td>${escapeHtml(stamp(r.startedAt))}</td><td>${escapeHtml(stamp(r.deliveredAt))}</td>
<td class="num">${seconds(processingSeconds)}</td><td class="num">${seconds(latencySeconds)}</td>
<td class="wrap">${escapeHtml([r.errorCode ? `${r.errorCode}: ${r.errorMessage ?? ''}` : '', r.skipReason ? `skipped: ${r.skipReason}` : ''].filter(Boolean).join('; '))}</td></tr>`).join('\n');
  const look = d.shown === undefined ? '<p id="file-quicklook-none">No processed file, so no quick look.</p>'
    // Relative to /file/<name>: the PNG route is /file/<name>/quicklook.png.
    : `<figure class="file-look"><img id="file-quicklook" src="${escapeHtml(encodeURIComponent(d.name))}/quicklook.png" alt="quick look of ${escapeHtml(d.name)}"><figcaption>MERGED, zscale</figcaption></figure>`;
  const header = 'text' in d.header ? `<pre class="header" id="header-cards">${escapeHtml(d.header.text)}</pre>`
    : `<p id="header-error" class="warn">${escapeHtml(d.header.error)}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(d.name)} — dataman</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<p><a href="../" id="back">← status</a></p>
<h1 id="file-name">${escapeHtml(d.name)}</h1>
<section class="cards"><div class="card" id="file-summary"><dl>
<dt>State</dt><dd class="state-${escapeHtml(last.state)}">${escapeHtml(last.state)}</dd>
<dt>Type</dt><dd>${escapeHtml(last.imageType ?? '')}</dd>
<dt>Object</dt><dd>${escapeHtml(last.object ?? '')}</dd>
<dt>Exposure</dt><dd>${last.exptime === null ? '' : `${escapeHtml(last.exptime)} s`}</dd>
<dt>Raw</dt><dd>${escapeHtml(last.path)}</dd>
<dt>Delivered</dt><dd>${escapeHtml(last.repoPath ?? '')}${last.deliveredName !== null && last.deliveredName !== last.name ? ` as ${escapeHtml(last.deliveredName)}` : ''}</dd>
</dl></div></section>
<h2>Warnings</h2>
${warnings.length === 0 ? '<p id="warnings-none">None.</p>' : `<ul id="warnings">${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`}
<h2>Ledger history</h2>
<div class="scroll"><table id="history">
<thead><tr><th class="num">Job</th><th>Origin</th><th>State</th><th class="num">Attempts</th><th>Seen</th><th>Complete</th><th>Started</th><th>Delivered</th><th class="num">Processing s</th><th class="num">Latency s</th><th>Error</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
<h2>Quick look</h2>
${look}
<h2>Header cards (as <code>dataman inspect</code>)</h2>
${header}
<footer>Times in ${escapeHtml(timeZone)}</footer>
</body>
</html>
`;
}
