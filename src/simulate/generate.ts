/**
 * Builds a synthetic raw MODS file in memory: the six HDUs azcam writes (primary, IM1..IM4,
 * CONPARS), laid out as one buffer, with the broken variants applied.
 */
import { BLOCK_LENGTH, padToBlock } from '../fits/card.js';
import type { Header } from '../fits/header.js';
import type { ReadoutGeometry } from '../mods/geometry.js';
import { UsageError } from '../errors.js';
import { type ResolvedOptions, type SimulateOptions, resolveOptions } from './options.js';
import { buildPrimaryHeader, exposureTimes } from './primary-header.js';
import { buildExtensionHeader } from './extension-header.js';
import { buildConparsHeader, conparsRows, encodeConparsRows } from './conpars.js';
import { type FiducialMark, fiducialMarks, fillExtension, gaussianTable } from './pixels.js';
import { sceneModel } from './scene.js';
import { createPrng } from './prng.js';

/** Where one HDU sits in the complete (untruncated) file. */
export interface RawHduLayout {
  index: number;
  /** EXTNAME, or `PRIMARY`. */
  name: string;
  header: Header;
  headerOffset: number;
  /** Header bytes, whole blocks. */
  headerBytes: number;
  dataOffset: number;
  /** Data bytes without padding. */
  dataBytes: number;
  /** Offset just past the padded data unit. */
  end: number;
}

export interface RawSummary {
  instrument: string;
  chan: string;
  obsDate: string;
  seq: number;
  /** DATE-OBS and UTC-OBS as written (before any `missing-keywords` removal). */
  dateObs: string;
  utcObs: string;
  imageType: string;
  object: string;
  exptimeS: number;
  roi: string;
  bin: string;
  naxis1: number;
  naxis2: number;
  extnames: string[];
  /** Card count of each HDU (END not counted). */
  cards: number[];
  broken: string[];
}

export interface GeneratedRaw {
  /** Base file name `<chan>.<YYYYMMDD>.<NNNN>.fits`. */
  name: string;
  /** The file as it ends up on disk (cut short for `truncated`). */
  bytes: Buffer;
  /** Length of the complete file before any truncation. */
  completeLength: number;
  /** End of IM4: the length of the file azcam writes before it appends CONPARS. */
  imagesLength: number;
  layout: RawHduLayout[];
  geometry: ReadoutGeometry;
  /** Bias level of IM1..IM4 (by position), DN. */
  biasLevels: readonly [number, number, number, number];
  /** The fiducial marks, with their expected MERGED boxes and levels above bias. */
  marks: FiducialMark[];
  /** The CONPARS rows written (empty with `no-conpars`). */
  conparsRows: Array<[string, string]>;
  summary: RawSummary;
  options: ResolvedOptions;
}

/**
 * Generates a raw file in memory. Deterministic: the same options (seed included) give the
 * same bytes. A full frame is 51,672,960 bytes with both optional header blocks.
 */
export function generateRaw(options: SimulateOptions = {}): GeneratedRaw {
  const o = resolveOptions(options);
  const g = o.geometry;
  const prng = createPrng(o.seed);
  const z = gaussianTable(prng);

  const primary = buildPrimaryHeader(o);
  const extnames = [1, 2, 3, 4].map((n) => (o.broken.has('q-extnames') ? `Q${n}` : `IM${n}`));
  const extHeaders = extnames.map((name, k) => buildExtensionHeader(g, k + 1, name));
  let rows: Array<[string, string]> = [];
  let conparsData: Buffer | undefined;
  let conparsHeader: Header | undefined;
  if (!o.broken.has('no-conpars')) {
    const texts = { ...o.conpars };
    if (o.broken.has('nan-temperature')) {
      // The CCD sensor: TEMPB on MODS1, TEMPA on MODS2.
      if (o.channel.mods === 1) texts.tempB ??= 'nan';
      else texts.tempA ??= 'nan';
    }
    rows = conparsRows(o.channel, prng, texts);
    conparsHeader = buildConparsHeader(rows.length);
    conparsData = encodeConparsRows(rows);
  }
  const headers: Header[] = [primary, ...extHeaders, ...(conparsHeader ? [conparsHeader] : [])];
  for (const keyword of o.missingKeywords) for (const h of headers) h.delete(keyword);

  // Layout
  const imageBytes = g.naxis1 * g.naxis2 * 2;
  const dataBytes = [0, imageBytes, imageBytes, imageBytes, imageBytes, ...(conparsData ? [conparsData.length] : [])];
  const layout: RawHduLayout[] = [];
  let offset = 0;
  headers.forEach((header, index) => {
    const headerBytes = header.byteLength;
    const dataOffset = offset + headerBytes;
    const end = dataOffset + padToBlock(dataBytes[index]!);
    layout.push({
      index, name: index === 0 ? 'PRIMARY' : index <= 4 ? extnames[index - 1]! : 'CONPARS', header,
      headerOffset: offset, headerBytes, dataOffset, dataBytes: dataBytes[index]!, end,
    });
    offset = end;
  });
  const completeLength = offset;
  const imagesLength = layout[4]!.end;

  // Bytes: headers, pixels, table; padding stays zero.
  const file = Buffer.alloc(completeLength);
  for (const l of layout) l.header.toBuffer().copy(file, l.headerOffset);
  const marks = fiducialMarks(g);
  const scene = sceneModel(o);
  for (let ext = 1; ext <= 4; ext++) {
    const l = layout[ext]!;
    fillExtension(file.subarray(l.dataOffset, l.dataOffset + l.dataBytes), g, {
      ext, bias: o.biasLevels[ext - 1]!, readNoiseDn: o.readNoiseDn, warmOverscan: o.warmOverscan, z, scene, marks,
    }, prng);
  }
  if (conparsData) conparsData.copy(file, layout[5]!.dataOffset);

  let bytes = file;
  if (o.broken.has('truncated')) {
    let cut = o.truncateAt ?? prng.int(BLOCK_LENGTH, completeLength - 1);
    // A random cut exactly at the end of an HDU would leave a shorter but structurally complete
    // file; move it one byte back so that "truncated" always means incomplete.
    if (o.truncateAt === undefined && layout.some((l) => l.end === cut)) cut -= 1;
    if (cut >= completeLength) {
      throw new UsageError(`truncation point ${cut} is not inside the ${completeLength}-byte file`);
    }
    bytes = file.subarray(0, cut);
  }

  const times = exposureTimes(o.utcStartMs, o.timezoneHours);
  return {
    name: o.name,
    bytes,
    completeLength,
    imagesLength,
    layout,
    geometry: g,
    biasLevels: o.biasLevels,
    marks,
    conparsRows: rows,
    summary: {
      instrument: o.channel.instrument,
      chan: o.channel.id,
      obsDate: o.obsDate,
      seq: o.seq,
      dateObs: times.date,
      utcObs: o.broken.has('utc-fraction-1000') ? `${times.utc.slice(0, 8)}.1000` : times.utc,
      imageType: primary.string('IMAGETYP') ?? '',
      object: o.object,
      exptimeS: Math.trunc(o.exptimeS * 1000 + 1e-6) / 1000,
      roi: o.roiPreset,
      bin: `${o.bin.col}x${o.bin.row}`,
      naxis1: g.naxis1,
      naxis2: g.naxis2,
      extnames,
      cards: headers.map((h) => h.cards.length),
      broken: [...o.broken],
    },
    options: o,
  };
}

/**
 * Where the fiducial marks of a file generated with these options land in MERGED (1-based
 * inclusive boxes) and their levels in DN above the bias of their source extension — what a
 * correct otmProc must reproduce. Depends only on ROI, binning and detector.
 */
export function expectedMarks(options: SimulateOptions = {}): FiducialMark[] {
  return fiducialMarks(resolveOptions(options).geometry);
}
