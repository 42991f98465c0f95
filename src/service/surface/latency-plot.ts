/**
 * The status page's plot of delivery latency over the night: an inline SVG (no script, no
 * library), one dot per delivered file at (delivery time, seconds from complete to delivered),
 * a linear time axis in the page's time zone and a latency axis from 0 to a rounded maximum.
 */
import type { LatencyPoint } from './status-source.js';

const WIDTH = 640;
const HEIGHT = 180;
const PAD = { left: 44, right: 10, top: 10, bottom: 26 };

/** A round axis maximum ≥ `v`: 1, 2 or 5 × 10ⁿ. */
export function niceCeiling(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * The SVG, or a sentence when nothing was delivered. `clock` formats a time `hh:mm`;
 * `escape` makes text safe for HTML (names end up in tooltips).
 */
export function renderLatencyPlot(points: readonly LatencyPoint[], clock: (ms: number) => string, escape: (v: unknown) => string): string {
  if (points.length === 0) return '<p id="latency-empty">No deliveries in the last hours.</p>';
  const t0 = points[0]!.deliveredAt;
  const t1 = Math.max(points[points.length - 1]!.deliveredAt, t0 + 60_000);
  const top = niceCeiling(Math.max(...points.map((p) => p.seconds)));
  const w = WIDTH - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * w;
  const y = (s: number) => PAD.top + h - (Math.max(0, s) / top) * h;
  const dots = points.map((p) => `<circle cx="${x(p.deliveredAt).toFixed(1)}" cy="${y(p.seconds).toFixed(1)}" r="2.5"><title>${escape(p.name)}: ${p.seconds.toFixed(1)} s at ${escape(clock(p.deliveredAt))}</title></circle>`);
  const yTicks = [0, top / 2, top].map((s) => `<text x="${PAD.left - 4}" y="${(y(s) + 4).toFixed(1)}" text-anchor="end">${s}</text><line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(s).toFixed(1)}" y2="${y(s).toFixed(1)}" class="grid"/>`);
  const xTicks = [t0, (t0 + t1) / 2, t1].map((t, i) => `<text x="${x(t).toFixed(1)}" y="${HEIGHT - 8}" text-anchor="${['start', 'middle', 'end'][i]}">${escape(clock(t))}</text>`);
  return `<svg id="latency" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" style="max-width: ${WIDTH}px" role="img" aria-label="delivery latency of ${points.length} files, up to ${top} s">
<style>#latency text { font: 11px system-ui, sans-serif; fill: currentColor; } #latency .grid { stroke: #8884; } #latency circle { fill: #1a7f37; }</style>
${yTicks.join('\n')}
${xTicks.join('\n')}
<text x="${PAD.left}" y="${PAD.top - 1}" dy="-1">s</text>
${dots.join('\n')}
</svg>`;
}
