/**
 * Checks a file against its own claims: structural completeness and, where the HDUs carry
 * them, CHECKSUM and DATASUM.
 */
import type { ByteSource } from './source.js';
import { readStructure, type Hdu } from './hdu.js';
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
  const datasumCard = hdu.header.get('DATASUM');
  const checksumCard = hdu.header.get('CHECKSUM');
  if (datasumCard === undefined && checksumCard === undefined) return { index: hdu.index, datasumOk: undefined, checksumOk: undefined };
  const sums = await hduSums(source, hdu);
  const datasumOk = datasumCard === undefined ? undefined : String(datasumCard.value).trim() === String(sums.data);
  let checksumOk: boolean | undefined;
  if (checksumCard !== undefined) {
    // Header and data together must add up to all ones (negative zero).
    const total = addSums(sums.header, sums.data);
    checksumOk = total === CHECKSUM_OK;
  }
  return { index: hdu.index, datasumOk, checksumOk };
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
