/**
 * The structure of a FITS file: where each HDU's header and data unit are, computed from the
 * headers alone (FITS Standard 4.0 §3.3, §4.4.1, §7). Data units are never read here.
 */
import { padToBlock, valueText, BLOCK_LENGTH } from './card.js';
import { Header } from './header.js';
import { checkCardImage } from './card-parser.js';
import { BadHeaderError, NotFitsError, TruncatedFitsError, type FitsLocation } from './errors.js';
import type { ByteSource } from './source.js';

export type HduType = 'PRIMARY' | 'IMAGE' | 'BINTABLE' | 'TABLE' | string;

export interface Hdu {
  index: number;
  /** PRIMARY, or the XTENSION value (IMAGE, BINTABLE, TABLE…). */
  type: HduType;
  /** EXTNAME, when present. */
  extname: string | undefined;
  header: Header;
  headerOffset: number;
  /** Header length in bytes, whole blocks. */
  headerBytes: number;
  dataOffset: number;
  /** Data length implied by the header, without padding. */
  dataBytes: number;
  /** Data length rounded up to whole 2880-byte blocks. */
  dataPaddedBytes: number;
  bitpix: number;
  /** NAXIS1…NAXISn (empty for NAXIS = 0). */
  axes: number[];
  pcount: number;
  gcount: number;
}

/** Offset just past the HDU (its padded data unit). */
export function hduEnd(hdu: Hdu): number {
  return hdu.dataOffset + hdu.dataPaddedBytes;
}

const VALID_BITPIX = new Set([8, 16, 32, 64, -32, -64]);
const HEADER_READ_BLOCKS = 8;
/** No real header is this long; a longer one is garbage, not a header still being written. */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/** The result of reading a file's structure, complete or not. */
export interface FitsStructure {
  path: string | undefined;
  hdus: Hdu[];
  fileLength: number;
  /** Length the headers imply (whole blocks), counting what is known so far. */
  impliedLength: number;
  /** Headers and data units are all there, and nothing unexpected follows them. */
  complete: boolean;
  /** Why the file is not complete: truncated header or data unit. */
  truncation: TruncatedFitsError | undefined;
}

/**
 * Reads every header of a file and computes the structural length. A file that ends inside a
 * header or a data unit is reported with `complete: false` (it may still be being written);
 * anything that makes the file unreadable as FITS throws a typed `FitsError`.
 */
export async function readStructure(source: ByteSource): Promise<FitsStructure> {
  const path = source.path;
  const fileLength = await source.size();
  const hdus: Hdu[] = [];
  let offset = 0;
  const result = (truncation: TruncatedFitsError | undefined, impliedLength: number): FitsStructure => ({
    path, hdus, fileLength, impliedLength, complete: truncation === undefined, truncation,
  });

  while (offset < fileLength || hdus.length === 0) {
    const index = hdus.length;
    const loc: FitsLocation = { path, hduIndex: index, offset };
    if (index > 0) {
      const probe = await source.read(offset, 8);
      if (probe.every((b) => b === 0)) {
        // Zeros where a header should start: the writer has extended the file but not yet
        // filled it (seen on NFS), so the file is still being written.
        return result(new TruncatedFitsError('expected an extension header, found zero bytes (still being written?)', loc), offset + BLOCK_LENGTH);
      }
      const text = probe.toString('latin1');
      if (!'XTENSION'.startsWith(text.slice(0, Math.min(8, text.length)))) {
        throw new BadHeaderError(`${fileLength - offset} bytes after the last HDU are not a FITS extension`, loc);
      }
    }
    const parsed = await readHeaderAt(source, offset, loc, fileLength);
    if (parsed === undefined) {
      return result(new TruncatedFitsError(`file ends inside the header of HDU ${index}`, loc), offset + BLOCK_LENGTH);
    }
    const hdu = describeHdu(index, offset, parsed.header, parsed.byteLength, loc);
    hdus.push(hdu);
    const end = hduEnd(hdu);
    if (end > fileLength) {
      const short = end - fileLength;
      return result(
        new TruncatedFitsError(
          `file is ${short} bytes short: HDU ${index} needs ${end} bytes, the file has ${fileLength}`,
          { path, hduIndex: index, offset: fileLength },
        ),
        end,
      );
    }
    offset = end;
  }
  return result(undefined, offset);
}

/** Like `readStructure`, but a file that is not complete is an error. */
export async function readHdus(source: ByteSource): Promise<Hdu[]> {
  const structure = await readStructure(source);
  if (structure.truncation) throw structure.truncation;
  return structure.hdus;
}

async function readHeaderAt(source: ByteSource, offset: number, loc: FitsLocation, fileLength: number) {
  // Each chunk is scanned once (for END and for bytes no header may hold); the cards are parsed
  // once, when END has been found: reading stays linear however long a header is.
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = await source.read(offset + total, HEADER_READ_BLOCKS * BLOCK_LENGTH);
    if (total === 0) checkFirstCard(chunk, loc);
    const firstCard = total / CARD_BYTES;
    chunks.push(chunk);
    total += chunk.length;
    const atEnd = chunk.length < HEADER_READ_BLOCKS * BLOCK_LENGTH || offset + total >= fileLength;
    const scan = scanChunk(chunk, firstCard, offset, loc, atEnd);
    if (scan === 'still-being-written') return undefined;
    if (scan !== undefined) {
      const headerEnd = padToBlock((scan + 1) * CARD_BYTES);
      // END must sit in a complete block for the header to be whole.
      if (total >= headerEnd) return Header.parse(Buffer.concat(chunks, total).subarray(0, headerEnd), loc, offset);
    }
    if (atEnd) return undefined; // out of bytes: a header still being written
    if (total > MAX_HEADER_BYTES) {
      throw new BadHeaderError(`no END card in the first ${MAX_HEADER_BYTES} bytes of the header`, loc);
    }
  }
}

const CARD_BYTES = 80;
const END_IMAGE = Buffer.from('END'.padEnd(CARD_BYTES), 'latin1');

/**
 * Looks through the whole cards of one chunk: returns the header-relative index of an END card,
 * 'still-being-written' when the file ends in zero bytes (space the writer has reserved but not
 * filled, seen on NFS), undefined when neither; throws BadCardError for a byte outside printable
 * ASCII before END.
 */
function scanChunk(chunk: Buffer, firstCard: number, offset: number, loc: FitsLocation, atEnd: boolean): number | 'still-being-written' | undefined {
  const cards = Math.floor(chunk.length / CARD_BYTES);
  for (let c = 0; c < cards; c++) {
    const at = c * CARD_BYTES;
    if (chunk[at] === 0x45 && chunk.compare(END_IMAGE, 0, 3, at, at + 3) === 0 && isBlank(chunk, at + 3, at + CARD_BYTES)) {
      return firstCard + c;
    }
    for (let b = at; b < at + CARD_BYTES; b++) {
      const byte = chunk[b]!;
      if (byte >= 0x20 && byte <= 0x7e) continue;
      if (atEnd && chunk.subarray(b).every((z) => z === 0)) return 'still-being-written';
      // Let the card checker name the byte, the column and the offset.
      checkCardImage(chunk.toString('latin1', at, at + CARD_BYTES), { ...loc, offset: offset + (firstCard + c) * CARD_BYTES });
    }
  }
  if (atEnd && cards * CARD_BYTES < chunk.length) {
    // A partial last card: garbage if it holds a byte no header may hold, other than the zeros
    // of reserved space at the very end.
    let end = chunk.length;
    while (end > cards * CARD_BYTES && chunk[end - 1] === 0) end--;
    const text = chunk.subarray(cards * CARD_BYTES, end);
    if (!text.every((z) => z >= 0x20 && z <= 0x7e)) {
      checkCardImage(text.toString('latin1').padEnd(CARD_BYTES), { ...loc, offset: offset + (firstCard + cards) * CARD_BYTES });
    }
  }
  return undefined;
}

function isBlank(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0x20) return false;
  return true;
}


function checkFirstCard(bytes: Buffer, loc: FitsLocation): void {
  const first = bytes.toString('latin1', 0, Math.min(80, bytes.length));
  if (loc.hduIndex === 0) {
    const expected = 'SIMPLE  =                    T';
    const seen = first.slice(0, expected.length);
    const simpleOk = expected.startsWith(seen) || (seen.startsWith('SIMPLE  =') && /^\s*T\b/.test(first.slice(10)));
    if (!simpleOk || bytes.length === 0) {
      throw new NotFitsError(
        bytes.length === 0 ? 'file is empty' : `does not start with SIMPLE = T (starts with ${JSON.stringify(first.slice(0, 30))})`,
        loc,
      );
    }
  }
}

function describeHdu(index: number, offset: number, header: Header, headerBytes: number, loc: FitsLocation): Hdu {
  const first = header.cards[0];
  let type: HduType;
  if (index === 0) {
    if (first?.keyword !== 'SIMPLE' || first.value !== true) {
      throw new NotFitsError('first card is not SIMPLE = T', loc);
    }
    type = 'PRIMARY';
  } else {
    if (first?.keyword !== 'XTENSION' || first.kind !== 'string') {
      throw new BadHeaderError('extension header does not start with XTENSION', loc);
    }
    type = valueText(first.value);
  }
  const bitpix = requireInteger(header, 'BITPIX', loc);
  if (!VALID_BITPIX.has(bitpix)) throw new BadHeaderError(`BITPIX = ${bitpix} is not one of 8, 16, 32, 64, -32, -64`, { ...loc, keyword: 'BITPIX' });
  const naxis = requireInteger(header, 'NAXIS', loc);
  if (naxis < 0 || naxis > 999) throw new BadHeaderError(`NAXIS = ${naxis} is outside 0..999`, { ...loc, keyword: 'NAXIS' });
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) {
    const n = requireInteger(header, `NAXIS${i}`, loc);
    if (n < 0) throw new BadHeaderError(`NAXIS${i} = ${n} is negative`, { ...loc, keyword: `NAXIS${i}` });
    axes.push(n);
  }
  const isExtension = index > 0;
  const randomGroups = !isExtension && naxis > 0 && axes[0] === 0 && header.value('GROUPS') === true;
  const pcount = isExtension || randomGroups ? requireInteger(header, 'PCOUNT', loc) : 0;
  const gcount = isExtension || randomGroups ? requireInteger(header, 'GCOUNT', loc) : 1;
  if (pcount < 0 || gcount < 0) throw new BadHeaderError(`PCOUNT = ${pcount}, GCOUNT = ${gcount}: negative`, loc);
  const elements = naxis === 0 ? 0 : (randomGroups ? axes.slice(1) : axes).reduce((a, b) => a * b, 1);
  const dataBytes = naxis === 0 && pcount === 0 ? 0 : (Math.abs(bitpix) / 8) * gcount * (pcount + elements);
  if (!Number.isSafeInteger(dataBytes)) {
    throw new BadHeaderError(`data unit size ${dataBytes} implied by BITPIX/NAXISn/PCOUNT/GCOUNT is not plausible`, loc);
  }
  const extname = header.get('EXTNAME');
  return {
    index,
    type,
    extname: extname?.kind === 'string' ? (extname.value as string) : undefined,
    header,
    headerOffset: offset,
    headerBytes,
    dataOffset: offset + headerBytes,
    dataBytes,
    dataPaddedBytes: padToBlock(dataBytes),
    bitpix,
    axes,
    pcount,
    gcount,
  };
}

function requireInteger(header: Header, keyword: string, loc: FitsLocation): number {
  const card = header.get(keyword);
  if (card === undefined) throw new BadHeaderError(`mandatory keyword ${keyword} is missing`, { ...loc, keyword });
  if (card.kind !== 'integer' || typeof card.value !== 'number') {
    throw new BadHeaderError(`${keyword} must be an integer, found ${JSON.stringify(valueText(card.value))}`, { ...loc, keyword });
  }
  return card.value;
}

/** Finds an HDU by EXTNAME (case-insensitive, as FITS readers conventionally do). */
export function findHdu(hdus: readonly Hdu[], extname: string): Hdu | undefined {
  const wanted = extname.toUpperCase();
  return hdus.find((h) => h.extname?.toUpperCase() === wanted);
}

