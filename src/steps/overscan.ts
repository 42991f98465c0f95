/**
 * Overscan statistics as the reference computes them with numpy: the exact median
 * (`np.median`: the mean of the two middle values for an even count) and the population
 * standard deviation (`np.std`, ddof = 0) of a rectangular region.
 */

export interface RegionStats {
  median: number;
  std: number;
  count: number;
}

/**
 * Statistics of integer values in 0..65535 through a histogram: exact, one pass, no sort, no
 * copy of the region.
 */
export function uint16RegionStats(
  pixels: Uint16Array, width: number, rowStart: number, rowEnd: number, colStart: number, colEnd: number,
): RegionStats {
  const histogram = new Uint32Array(65536);
  for (let r = rowStart; r < rowEnd; r++) {
    const base = r * width;
    for (let c = colStart; c < colEnd; c++) histogram[pixels[base + c]!]! += 1;
  }
  return histogramStats(histogram);
}

/**
 * Median and population standard deviation of the values counted in `histogram` (index = value),
 * visiting only the occupied range: an overscan spans a few hundred values.
 */
export function histogramStats(histogram: Uint32Array): RegionStats {
  let low = 0;
  while (low < histogram.length && histogram[low] === 0) low++;
  if (low === histogram.length) return { median: Number.NaN, std: Number.NaN, count: 0 };
  let high = histogram.length - 1;
  while (histogram[high] === 0) high--;
  let count = 0;
  let sum = 0;
  for (let v = low; v <= high; v++) {
    count += histogram[v]!;
    sum += v * histogram[v]!;
  }
  const mean = sum / count;
  let squares = 0;
  for (let v = low; v <= high; v++) if (histogram[v]) squares += histogram[v]! * (v - mean) ** 2;
  return { median: histogramMedian(histogram, count, low, high), std: Math.sqrt(squares / count), count };
}

function histogramMedian(histogram: Uint32Array, count: number, low: number, high: number): number {
  const lowRank = Math.floor((count - 1) / 2);
  const highRank = Math.floor(count / 2);
  let seen = 0;
  let lower: number | undefined;
  for (let v = low; v <= high; v++) {
    const n = histogram[v]!;
    if (n === 0) continue;
    if (lower === undefined && seen + n > lowRank) lower = v;
    if (seen + n > highRank) return (lower! + v) / 2;
    seen += n;
  }
  throw new Error('internal: median rank beyond the histogram');
}

/** The same statistics for any values (sorting a copy of the region). */
export function regionStats(
  value: (index: number) => number, width: number, rowStart: number, rowEnd: number, colStart: number, colEnd: number,
): RegionStats {
  const cols = Math.max(0, colEnd - colStart);
  const values = new Float64Array(Math.max(0, rowEnd - rowStart) * cols);
  let k = 0;
  for (let r = rowStart; r < rowEnd; r++) for (let c = colStart; c < colEnd; c++) values[k++] = value(r * width + c);
  if (values.length === 0) return { median: Number.NaN, std: Number.NaN, count: 0 };
  values.sort();
  const n = values.length;
  const median = n % 2 === 1 ? values[(n - 1) / 2]! : (values[n / 2 - 1]! + values[n / 2]!) / 2;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { median, std: Math.sqrt(squares / n), count: n };
}
