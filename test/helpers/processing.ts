/** Processing generated raw files in temp folders, for step and conformance tests. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRaw, type GeneratedRaw, type SimulateOptions } from '../../src/simulate/index.js';
import { processFile, type ProcessFileResult } from '../../src/steps/pipeline.js';
import { processingOptions } from '../../src/steps/defaults.js';
import { bufferSource, readHdus, type Hdu } from '../../src/fits/index.js';
import { readFile } from 'node:fs/promises';
import { ManualClock } from '../../src/base/clock.js';
import type { ProcessingOptions } from '../../src/steps/types.js';

/** Processing on 2026-01-15 05:00:00 UTC (22:00 MST), in Arizona time. */
export function testOptions(overrides: Partial<ProcessingOptions> = {}): ProcessingOptions {
  return { ...processingOptions(undefined, new ManualClock(Date.UTC(2026, 0, 15, 5, 0, 0))), timeZone: 'America/Phoenix', ...overrides };
}

export interface Processed {
  raw: GeneratedRaw;
  rawPath: string;
  outPath: string;
  result: ProcessFileResult;
  bytes: Buffer;
  hdus: Hdu[];
}

/** Generates a raw file into a fresh sub-folder of `parent` and processes it next to it. */
export async function generateAndProcess(parent: string, sim: SimulateOptions, options = testOptions()): Promise<Processed> {
  const dir = await mkdtemp(join(parent, 'case-'));
  const raw = generateRaw(sim);
  const rawPath = join(dir, raw.name);
  await writeFile(rawPath, raw.bytes);
  const outPath = join(dir, `processed-${raw.name}`);
  const result = await processFile(rawPath, outPath, options);
  const bytes = await readFile(outPath);
  return { raw, rawPath, outPath, result, bytes, hdus: await readHdus(bufferSource(bytes, outPath)) };
}

/** Messages of a processing result, `step: text`. */
export function messages(result: ProcessFileResult): string[] {
  return result.outcomes.flatMap((o) => [...(o.reason ? [`${o.step}: ${o.reason}`] : []), ...o.warnings.map((w) => `${o.step}: ${w}`)]);
}
