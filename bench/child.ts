/**
 * One benchmark measurement in a fresh process, so that peak memory (maxRSS) and CPU time belong
 * to this measurement alone. Prints one JSON line.
 *   header  RAW            read every header of RAW (counting the bytes read)
 *   process RAW OUT        dataman processing of RAW into OUT, stage by stage
 *   floor   RAW OUT BYTES  read RAW and write BYTES bytes to OUT: the I/O any processing must do
 */
import { open, readFile, rm } from 'node:fs/promises';
import { FileSource, readStructure, type ByteSource } from '../src/fits/index.js';
import { processFile } from '../src/steps/pipeline.js';
import { processingOptions } from '../src/steps/defaults.js';

const [mode, raw, out, bytesArg] = process.argv.slice(2);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let extra: Record<string, unknown> = {};

if (mode === 'header') {
  const file = await FileSource.open(raw!);
  let bytesRead = 0;
  let reads = 0;
  const counting: ByteSource = {
    path: raw,
    size: () => file.size(),
    read: async (offset, length) => {
      const b = await file.read(offset, length);
      bytesRead += b.length;
      reads += 1;
      return b;
    },
    close: () => file.close(),
  };
  const s = await readStructure(counting);
  await file.close();
  extra = { bytesRead, reads, hdus: s.hdus.length, fileLength: s.fileLength };
} else if (mode === 'process') {
  await rm(out!, { force: true });
  const result = await processFile(raw!, out!, { ...processingOptions(undefined), checksums: true });
  extra = { stagesMs: result.timings, bytes: result.bytes };
} else if (mode === 'floor') {
  await rm(out!, { force: true });
  const input = await readFile(raw!);
  const handle = await open(out!, 'wx');
  const chunk = Buffer.alloc(8 * 1024 * 1024, 1);
  let left = Number(bytesArg);
  for (let position = 0; left > 0; ) {
    const n = Math.min(chunk.length, left);
    await handle.write(chunk, 0, n, position);
    position += n;
    left -= n;
  }
  await handle.close();
  extra = { bytesIn: input.length, bytesOut: Number(bytesArg) };
} else {
  throw new Error(`unknown mode ${mode}`);
}
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({
  mode,
  wallMs: performance.now() - t0,
  cpuMs: (cpu.user + cpu.system) / 1000,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
  ...extra,
}));
