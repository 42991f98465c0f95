/**
 * What to compare: two files, or two folders whose FITS files are paired by name (the files of
 * one night: `/home/data/<obsDate>` of the reference against the shadow's `<procDir>/<obsDate>`).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UsageError } from '../errors.js';

export interface Pairing {
  folders: boolean;
  pairs: Array<{ name: string; a: string; b: string; bytes: number }>;
  onlyInA: string[];
  onlyInB: string[];
}

const FITS_NAME = /\.fits?$/i;

export async function pairInputs(a: string, b: string): Promise<Pairing> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  if (sa.isDirectory() !== sb.isDirectory()) {
    throw new UsageError(`compare two files or two folders: ${sa.isDirectory() ? a : b} is a folder, ${sa.isDirectory() ? b : a} is not`);
  }
  if (!sa.isDirectory()) return { folders: false, pairs: [{ name: basename(b), a, b, bytes: sa.size + sb.size }], onlyInA: [], onlyInB: [] };
  const [namesA, namesB] = await Promise.all([fitsNames(a), fitsNames(b)]);
  const inB = new Set(namesB);
  const inA = new Set(namesA);
  const pairs = await Promise.all(namesA.filter((n) => inB.has(n)).map(async (name) => {
    const [x, y] = await Promise.all([stat(join(a, name)), stat(join(b, name))]);
    return { name, a: join(a, name), b: join(b, name), bytes: x.size + y.size };
  }));
  return { folders: true, pairs, onlyInA: namesA.filter((n) => !inB.has(n)), onlyInB: namesB.filter((n) => !inA.has(n)) };
}

/** The FITS files directly in a folder, sorted (dot files are temporaries, never compared). */
async function fitsNames(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  return entries.filter((e) => e.isFile() && FITS_NAME.test(e.name) && !e.name.startsWith('.')).map((e) => e.name).sort();
}
