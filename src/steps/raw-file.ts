/**
 * A MODS raw (or already processed) file opened for processing: the primary header, the four
 * amplifier images IM1..IM4 (Q1..Q4 before 2026-01-02), CONPARS and an earlier MERGED, found by
 * EXTNAME rather than by position (behaviour.md §9 row 9).
 */
import { BadHeaderError, findHdu, type ByteSource, type Hdu, type Header, readHdus } from '../fits/index.js';

export interface RawFile {
  source: ByteSource;
  hdus: Hdu[];
  primary: Header;
  /** IM1..IM4 in ADC-channel order. */
  images: [Hdu, Hdu, Hdu, Hdu];
  conpars: Hdu | undefined;
  /** A MERGED extension from an earlier processing run (replaced, never duplicated). */
  merged: Hdu | undefined;
}

/** Keywords that are re-stamped on every write; stripped first so that reprocessing is idempotent. */
const STAMPS = ['CHECKSUM', 'DATASUM'];

/** Reads the headers and finds the MODS extensions; a file without IM1..IM4 is an error. */
export async function openRawFile(source: ByteSource): Promise<RawFile> {
  const hdus = await readHdus(source);
  const images = [1, 2, 3, 4].map((n) => findHdu(hdus, `IM${n}`) ?? findHdu(hdus, `Q${n}`));
  const missing = images.flatMap((h, i) => (h === undefined ? [`IM${i + 1}`] : []));
  if (missing.length > 0) {
    throw new BadHeaderError(`no image extension ${missing.join(', ')} (nor Q1..Q4): not a MODS raw file`, { path: source.path });
  }
  for (const image of images) {
    if (image!.axes.length !== 2 || image!.type !== 'IMAGE') {
      throw new BadHeaderError(`extension ${image!.extname} is not a 2-D image`, { path: source.path, hduIndex: image!.index });
    }
  }
  for (const hdu of hdus) for (const k of STAMPS) hdu.header.delete(k);
  return {
    source,
    hdus,
    primary: hdus[0]!.header,
    images: images as [Hdu, Hdu, Hdu, Hdu],
    conpars: findHdu(hdus, 'CONPARS'),
    merged: findHdu(hdus, 'MERGED'),
  };
}
