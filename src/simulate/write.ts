/**
 * Writes synthetic raw files the way azcam does: in place under the final name, no temp file,
 * never overwriting (docs/raw-format.md §1.4). Three modes:
 * - `atonce`: the whole file in one write;
 * - `azcam`: primary + IM1..IM4 written (as astropy's `writeto` does), then, `conparsDelayMs`
 *   later, the file re-opened and CONPARS appended — a reader can see a complete 5-HDU file;
 * - `slow`: `chunkBytes` at a time with `chunkDelayMs` between, CONPARS last (never sharing a
 *   chunk with the images).
 * Every wait goes through the injected `sleep`, so tests can inspect the file between steps.
 */
import { type FileHandle, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { writeFits } from '../fits/writer.js';
import { parseRawName, type ChannelId } from '../mods/channels.js';
import { UsageError } from '../errors.js';
import { type GeneratedRaw, generateRaw } from './generate.js';
import type { SimulateOptions } from './options.js';

export const WRITE_MODES = ['atonce', 'azcam', 'slow'] as const;
export type WriteMode = (typeof WRITE_MODES)[number];

export interface RawWriteOptions extends SimulateOptions {
  /** How the bytes reach the disk. @default 'atonce' */
  write?: WriteMode;
  /** `azcam`: wait between the image HDUs and the CONPARS append, ms. @default 500 */
  conparsDelayMs?: number;
  /** `slow`: bytes per write. @default 1048576 */
  chunkBytes?: number;
  /** `slow`: wait between writes, ms. @default 50 */
  chunkDelayMs?: number;
}

/** What `writeRaw` may wait with; tests pass their own. */
export interface WriteDeps {
  /** @default a real timer */
  sleep?: (ms: number, phase: WritePhase) => Promise<void>;
}

/** Why the writer waits: between the images and CONPARS (`conpars`), or between chunks (`chunk`). */
export type WritePhase = 'conpars' | 'chunk';

export interface WrittenRaw extends GeneratedRaw {
  /** Path of the file written. */
  path: string;
  mode: WriteMode;
}

const realSleep = (ms: number): Promise<void> => delay(ms).then(() => undefined);

/** Generates a raw file and writes it into `dir` under its raw name. */
export async function writeRaw(dir: string, options: RawWriteOptions = {}, deps: WriteDeps = {}): Promise<WrittenRaw> {
  const mode = options.write ?? 'atonce';
  if (!(WRITE_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`write mode must be one of ${WRITE_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  const conparsDelayMs = options.conparsDelayMs ?? 500;
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  const chunkDelayMs = options.chunkDelayMs ?? 50;
  if (!(conparsDelayMs >= 0) || !(chunkDelayMs >= 0)) throw new UsageError('delays must be non-negative milliseconds');
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new UsageError(`chunk size must be a positive integer, got ${chunkBytes}`);
  const sleep = deps.sleep ?? realSleep;
  const raw = generateRaw(options);
  const path = join(dir, raw.name);
  const cut = raw.bytes.length;
  // 'wx': azcam refuses to overwrite an existing file.
  const handle = await open(path, 'wx');
  let closed = false;
  try {
    if (mode === 'atonce') {
      await writeAll(handle, raw.bytes, 0);
    } else if (mode === 'azcam') {
      if (cut >= raw.imagesLength) {
        const images = raw.layout.slice(0, 5).map((l) => ({
          header: l.header,
          data: l.dataBytes > 0 ? { kind: 'bytes' as const, bytes: raw.bytes.subarray(l.dataOffset, l.dataOffset + l.dataBytes) } : undefined,
        }));
        await writeFits(handle, images, { checksums: undefined });
      } else {
        // The writer died inside the images.
        await writeAll(handle, raw.bytes, 0);
      }
      if (cut > raw.imagesLength) {
        // azcam closes the file after writeto and re-opens it in update mode for CONPARS.
        closed = true;
        await handle.close();
        await sleep(conparsDelayMs, 'conpars');
        const again = await open(path, 'r+');
        try {
          await writeAll(again, raw.bytes.subarray(raw.imagesLength), raw.imagesLength);
        } finally {
          await again.close();
        }
        return { ...raw, path, mode };
      }
    } else {
      const boundaries = cut > raw.imagesLength ? [raw.imagesLength, cut] : [cut];
      let position = 0;
      for (const end of boundaries) {
        while (position < end) {
          if (position > 0) await sleep(chunkDelayMs, 'chunk');
          const next = Math.min(end, position + chunkBytes);
          await writeAll(handle, raw.bytes.subarray(position, next), position);
          position = next;
        }
      }
    }
  } finally {
    if (!closed) await handle.close();
  }
  return { ...raw, path, mode };
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * The next free sequence number in `dir` for a channel and date: the highest existing
 * `<chan>.<date>.NNNN.fits` plus one, or 1 (as azcam picks it on start-up, `server.py`).
 */
export async function nextSequenceNumber(dir: string, chan: ChannelId, obsDate: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 1;
    throw err;
  }
  let last = 0;
  for (const name of names) {
    const parsed = parseRawName(name);
    if (parsed && parsed.chan === chan && parsed.obsDate === obsDate && parsed.seq > last) last = parsed.seq;
  }
  return last + 1;
}
