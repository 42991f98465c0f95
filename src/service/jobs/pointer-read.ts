/**
 * What the pointer rule (pointer-rule.ts) needs from the disk: the file `<CHAN>.new` names and
 * the exposure start in its primary header, and the same for the file being delivered. Read
 * from the files themselves, not kept anywhere else, so that the rule holds across restarts, a
 * pointer written by another tool, or a ledger moved away: the pointer file is what modsDisp
 * reads. Only the primary header is read (a few blocks), whatever the file's size.
 */
import { basename, dirname, join } from 'node:path';
import { FitsError, Header } from '../../fits/index.js';
import { readFully, type FsPort } from './fs-port.js';
import { exposureKey, type CurrentPointer, type ExposureKey } from './pointer-rule.js';

const BLOCK = 2880;
/** Header blocks read at a time, and the most looked at before a header is called unusable. */
const READ_BLOCKS = 8;
const MAX_BLOCKS = 256;
/** A pointer holds one file name; more than this is not a pointer. */
const MAX_POINTER_BYTES = 4096;

/**
 * What the pointer names now. Every failure to read it (the pointer or the file it names gone,
 * unreadable, not FITS, without DATE-OBS) is an `unusable` or `none` answer, never an error:
 * the rule must not hold up a delivery for a pointer nobody can use.
 */
export async function readCurrentPointer(fs: FsPort, pointerPath: string): Promise<CurrentPointer> {
  let text: string;
  try {
    text = (await readHead(fs, pointerPath, MAX_POINTER_BYTES)).toString('utf8');
  } catch (err) {
    if (errno(err) === 'ENOENT') return { kind: 'none' };
    return { kind: 'unusable', name: basename(pointerPath), why: `which cannot be read (${message(err)})` };
  }
  const name = text.trim();
  if (name === '' || name.includes('/') || name.includes('\n') || name.startsWith('.')) {
    return { kind: 'unusable', name: JSON.stringify(name.slice(0, 80)), why: `which is not a file name in ${basename(pointerPath)}` };
  }
  try {
    const header = await readPrimaryHeader(fs, join(dirname(pointerPath), name));
    if (typeof header === 'string') return { kind: 'unusable', name, why: header };
    const key = exposureKey(header.string('DATE-OBS'), name, header.string('FILENAME'));
    return key === undefined ? { kind: 'unusable', name, why: 'which has no usable DATE-OBS' } : { kind: 'exposure', name, key };
  } catch (err) {
    return errno(err) === 'ENOENT' ? { kind: 'gone', name } : { kind: 'unusable', name, why: `which cannot be read (${message(err)})` };
  }
}

/**
 * The exposure start of the file being delivered, from its own primary header (the processed
 * DATE-OBS), with the raw name's sequence number. Undefined when the header has no usable
 * DATE-OBS; a failure to read the file (just verified) is the delivery's and is thrown.
 */
export async function readDeliveredExposure(fs: FsPort, path: string, rawName: string): Promise<ExposureKey | undefined> {
  const header = await readPrimaryHeader(fs, path);
  if (typeof header === 'string') return undefined;
  return exposureKey(header.string('DATE-OBS'), rawName, basename(path));
}

/** The primary header, or what makes the file unusable as FITS. Throws what the file system throws. */
async function readPrimaryHeader(fs: FsPort, path: string): Promise<Header | string> {
  const handle = await fs.open(path, 'r');
  try {
    let bytes = Buffer.alloc(0);
    for (let blocks = 0; blocks < MAX_BLOCKS; blocks += READ_BLOCKS) {
      const chunk = await readFully(fs, handle, bytes.length, READ_BLOCKS * BLOCK);
      bytes = Buffer.concat([bytes, chunk]);
      if (blocks === 0 && bytes.toString('latin1', 0, 9) !== 'SIMPLE  =') return 'which is not a FITS file';
      const parsed = Header.parse(bytes, { path });
      if (parsed !== undefined) return parsed.header;
      if (chunk.length < READ_BLOCKS * BLOCK) return 'whose primary header has no END';
    }
    return `whose primary header is longer than ${MAX_BLOCKS} blocks`;
  } catch (err) {
    if (err instanceof FitsError) return `whose primary header is not valid FITS (${err.message})`;
    throw err;
  } finally {
    await fs.close(handle);
  }
}

async function readHead(fs: FsPort, path: string, length: number): Promise<Buffer> {
  const handle = await fs.open(path, 'r');
  try {
    return await readFully(fs, handle, 0, length);
  } finally {
    await fs.close(handle);
  }
}

function errno(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
