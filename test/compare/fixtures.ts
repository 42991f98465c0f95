/**
 * Pairs for the compare tests: dataman's output (B) of a generated raw file, and a "reference"
 * output (A) made from a copy of B by doing what the reference does (raw-format.md §8.2, §11) or
 * by a deliberate fault. Headers are edited with the codec and the file written again.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bufferSource, Header, memorySink, readHdus, writeFits, type Card, type HduOutput } from '../../src/fits/index.js';
import { generateAndProcess, testOptions, type Processed } from '../helpers/processing.js';
import { processFile } from '../../src/steps/pipeline.js';
import type { SimulateOptions } from '../../src/simulate/index.js';

export interface EditableHdu { name: string; header: Header; data: Buffer }

/** Reads a FITS file into editable HDUs (names: PRIMARY or EXTNAME). */
export async function readEditable(path: string): Promise<EditableHdu[]> {
  const bytes = await readFile(path);
  const hdus = await readHdus(bufferSource(bytes, path));
  return hdus.map((h) => ({
    name: h.index === 0 ? 'PRIMARY' : (h.extname ?? `HDU${h.index}`),
    header: h.header.clone(),
    data: Buffer.from(bytes.subarray(h.dataOffset, h.dataOffset + h.dataBytes)),
  }));
}

/** Writes HDUs as a FITS file without checksums (as astropy, the reference, writes it). */
export async function writeEditable(path: string, hdus: readonly EditableHdu[]): Promise<void> {
  const outputs: HduOutput[] = hdus.map((h) => {
    for (const k of ['CHECKSUM', 'DATASUM']) h.header.delete(k);
    return { header: h.header, data: h.data.length > 0 ? { kind: 'bytes', bytes: h.data } : undefined };
  });
  const sink = memorySink();
  await writeFits(sink, outputs);
  await writeFile(path, sink.bytes());
}

/** A copy of `from` at `to`, edited. */
export async function derive(from: string, to: string, edit: (hdus: EditableHdu[]) => EditableHdu[] | void): Promise<string> {
  const hdus = await readEditable(from);
  await writeEditable(to, edit(hdus) ?? hdus);
  return to;
}

export function hdu(hdus: readonly EditableHdu[], name: string): EditableHdu {
  const found = hdus.find((h) => h.name === name);
  if (found === undefined) throw new Error(`no HDU ${name}`);
  return found;
}

/** Sets a card's value keeping its comment and place. */
export function setValue(header: Header, keyword: string, value: Card['value'], kind?: Card['kind']): void {
  const old = header.get(keyword);
  header.set(keyword, value, { comment: old?.comment, kind: kind ?? old?.kind });
}

/** dataman's processed file of a generated raw file, the raw header edited first when asked. */
export async function processed(parent: string, sim: SimulateOptions, editRaw?: (hdus: EditableHdu[]) => void): Promise<Processed> {
  if (editRaw === undefined) return generateAndProcess(parent, sim);
  // Generate, edit the raw file, then process the edited one.
  const first = await generateAndProcess(parent, sim);
  const editedRaw = join(parent, `edited-${first.raw.name}`);
  await derive(first.rawPath, editedRaw, (h) => { editRaw(h); });
  const outPath = join(parent, `processed-edited-${first.raw.name}`);
  const result = await processFile(editedRaw, outPath, testOptions());
  const bytes = await readFile(outPath);
  return { ...first, rawPath: editedRaw, outPath, result, bytes, hdus: await readHdus(bufferSource(bytes, outPath)) };
}
