/**
 * Checks a file against its own claims: structural completeness and, where the HDUs carry
 * them, CHECKSUM and DATASUM.
 */
import type { ByteSource } from './source.js';
import { readStructure, type Hdu } from './hdu.js';
import { valueText } from './card.js';
import { addSums, CHECKSUM_OK, onesComplementSum } from './checksum.js';
import { ChecksumError, FitsError, TruncatedFitsError } from './errors.js';

export interface HduChecksumResult {
  index: number;
  /** undefined when the HDU has no DATASUM card. */
  datasumOk: boolean | undefined;
  /** undefined when the HDU has no CHECKSUM card. */
  checksumOk: boolean | undefined;
}

/** Sums the header bytes and the padded data unit of one HDU. */
export async function hduSums(source: ByteSource, hdu: Hdu, chunkBytes = 8 * 1024 * 1024): Promise<{ header: number; data: number }> {
  const headerBytes = await source.read(hdu.headerOffset, hdu.headerBytes);
  let data = 0;
  for (let done = 0; done < hdu.dataPaddedBytes; ) {
    const want = Math.min(chunkBytes, hdu.dataPaddedBytes - done);
    const chunk = await source.read(hdu.dataOffset + done, want);
    if (chunk.length < want) {
      throw new TruncatedFitsError('file ended inside a data unit', { path: source.path, hduIndex: hdu.index });
    }
    data = onesComplementSum(chunk, data);
    done += want;
  }
  return { header: onesComplementSum(headerBytes), data };
}

/** Verifies CHECKSUM/DATASUM of one HDU. */
export async function verifyHduChecksums(source: ByteSource, hdu: Hdu): Promise<HduChecksumResult> {
  if (!hdu.header.has('DATASUM') && !hdu.header.has('CHECKSUM')) return { index: hdu.index, datasumOk: undefined, checksumOk: undefined };
  return checksumResult(hdu, await hduSums(source, hdu));
}

/** Compares an HDU's CHECKSUM/DATASUM cards with the sums of its header and data bytes. */
function checksumResult(hdu: Hdu, sums: { header: number; data: number }): HduChecksumResult {
  const datasumCard = hdu.header.get('DATASUM');
  const checksumCard = hdu.header.get('CHECKSUM');
  const datasumOk = datasumCard === undefined ? undefined : valueText(datasumCard.value).trim() === String(sums.data);
  let checksumOk: boolean | undefined;
  if (checksumCard !== undefined) {
    // Header and data together must add up to all ones (negative zero).
    const total = addSums(sums.header, sums.data);
    checksumOk = total === CHECKSUM_OK;
  }
  return { index: hdu.index, datasumOk, checksumOk };
}

/**
 * The same checks from the file's bytes fed in order, in chunks of any length that is a
 * multiple of 4: for a reader that passes over the whole file anyway (delivery compares a copy
 * with its source), so that verifying needs no second read.
 */
export class SequentialChecksums {
  /** Header and data regions of every HDU, in file order, with their running sums. */
  private readonly regions: Array<{ start: number; end: number; sum: number }> = [];
  private position = 0;
  private current = 0;

  constructor(private readonly hdus: readonly Hdu[]) {
    for (const h of hdus) {
      this.regions.push({ start: h.headerOffset, end: h.headerOffset + h.headerBytes, sum: 0 });
      this.regions.push({ start: h.dataOffset, end: h.dataOffset + h.dataPaddedBytes, sum: 0 });
    }
  }

  /** Adds the next `chunk` of the file, which starts at byte `offset` (where the last one ended). */
  update(chunk: Uint8Array, offset: number): void {
    if (offset !== this.position) throw new RangeError(`chunks must come in order: got byte ${offset}, expected ${this.position}`);
    if (chunk.length % 4 !== 0) throw new RangeError(`chunk length must be a multiple of 4, got ${chunk.length}`);
    let at = 0;
    while (at < chunk.length) {
      const region = this.regions[this.current];
      if (region === undefined) break; // bytes past the last HDU are the structure check's business
      const position = offset + at;
      if (position >= region.end) {
        this.current++;
        continue;
      }
      if (position < region.start) {
        at = Math.min(chunk.length, region.start - offset); // not inside any HDU (cannot happen in a sound structure)
        continue;
      }
      const take = Math.min(region.end, offset + chunk.length) - position;
      region.sum = onesComplementSum(chunk.subarray(at, at + take), region.sum);
      at += take;
    }
    this.position = offset + chunk.length;
  }

  /** Per HDU, as `verifyHduChecksums` reports it; every byte of every HDU must have been fed. */
  results(): HduChecksumResult[] {
    const end = this.regions.at(-1)?.end ?? 0;
    if (this.position < end) throw new RangeError(`only ${this.position} of the ${end} bytes of the HDUs were fed`);
    return this.hdus.map((hdu, i) => {
      if (!hdu.header.has('DATASUM') && !hdu.header.has('CHECKSUM')) return { index: hdu.index, datasumOk: undefined, checksumOk: undefined };
      return checksumResult(hdu, { header: this.regions[2 * i]!.sum, data: this.regions[2 * i + 1]!.sum });
    });
  }
}

export interface VerifyReport {
  path: string | undefined;
  ok: boolean;
  complete: boolean;
  fileLength: number;
  impliedLength: number;
  hdus: HduChecksumResult[];
  /** One line per problem, each naming the file and the cause. */
  problems: FitsError[];
}

/** Verifies a whole file: complete, and every stamped HDU's checksums match. */
export async function verifyFile(source: ByteSource): Promise<VerifyReport> {
  const problems: FitsError[] = [];
  const structure = await readStructure(source);
  if (structure.truncation) problems.push(structure.truncation);
  const hdus: HduChecksumResult[] = [];
  if (structure.complete) {
    for (const hdu of structure.hdus) {
      const result = await verifyHduChecksums(source, hdu);
      hdus.push(result);
      const loc = { path: source.path, hduIndex: hdu.index };
      if (result.datasumOk === false) problems.push(new ChecksumError('DATASUM does not match the data unit', { ...loc, keyword: 'DATASUM' }));
      if (result.checksumOk === false) problems.push(new ChecksumError('CHECKSUM does not match the HDU', { ...loc, keyword: 'CHECKSUM' }));
    }
  }
  return {
    path: source.path,
    ok: problems.length === 0,
    complete: structure.complete,
    fileLength: structure.fileLength,
    impliedLength: structure.impliedLength,
    hdus,
    problems,
  };
}
