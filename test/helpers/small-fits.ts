/**
 * Small multi-extension FITS files built in memory with the codec itself: a header-only primary,
 * a BITPIX 16 image with BZERO 32768 and a two-column 20A binary table, like a miniature MODS
 * raw file. For codec tests that need no generator and no disk.
 */
import { Header, memorySink, writeFits, type Card, type HduOutput } from '../../src/fits/index.js';

const card = (keyword: string, kind: Card['kind'], value: Card['value'], comment?: string): Card => ({ keyword, kind, value, comment });

export function primaryHeader(extra: Card[] = []): Header {
  const h = new Header();
  for (const c of [
    card('SIMPLE', 'logical', true, 'conforms to FITS standard'),
    card('BITPIX', 'integer', 8, 'array data type'),
    card('NAXIS', 'integer', 0, 'number of array dimensions'),
    card('EXTEND', 'logical', true),
    card('INSTRUME', 'string', 'MODS1B', 'Instrument Name'),
    ...extra,
  ]) h.push(c);
  return h;
}

export function imageHdu(width: number, height: number, extname = 'IM1'): HduOutput {
  const h = new Header();
  for (const c of [
    card('XTENSION', 'string', 'IMAGE', 'Image extension'),
    card('BITPIX', 'integer', 16),
    card('NAXIS', 'integer', 2),
    card('NAXIS1', 'integer', width),
    card('NAXIS2', 'integer', height),
    card('PCOUNT', 'integer', 0),
    card('GCOUNT', 'integer', 1),
    card('EXTNAME', 'string', extname),
    card('BZERO', 'real', 32768),
    card('BSCALE', 'real', 1),
  ]) h.push(c);
  const bytes = Buffer.alloc(width * height * 2);
  for (let i = 0; i < width * height; i++) bytes.writeInt16BE(((i * 37) % 65536) - 32768, i * 2);
  return { header: h, data: { kind: 'bytes', bytes } };
}

export function tableHdu(rows: Array<[string, string]>): HduOutput {
  const h = new Header();
  for (const c of [
    card('XTENSION', 'string', 'BINTABLE', 'binary table extension'),
    card('BITPIX', 'integer', 8),
    card('NAXIS', 'integer', 2),
    card('NAXIS1', 'integer', 40),
    card('NAXIS2', 'integer', rows.length),
    card('PCOUNT', 'integer', 0),
    card('GCOUNT', 'integer', 1),
    card('TFIELDS', 'integer', 2),
    card('TTYPE1', 'string', 'Keyword'),
    card('TFORM1', 'string', '20A'),
    card('TTYPE2', 'string', 'Value'),
    card('TFORM2', 'string', '20A'),
    card('EXTNAME', 'string', 'CONPARS'),
  ]) h.push(c);
  const bytes = Buffer.alloc(40 * rows.length); // NUL-padded, as astropy writes
  rows.forEach(([k, v], i) => {
    bytes.write(k.slice(0, 20), i * 40, 'latin1');
    bytes.write(v.slice(0, 20), i * 40 + 20, 'latin1');
  });
  return { header: h, data: { kind: 'bytes', bytes } };
}

/** Primary + one 10×6 image + CONPARS-like table: 5 blocks, 14400 bytes. */
export async function smallMef(options: { checksums?: boolean; primary?: Card[] } = {}): Promise<Buffer> {
  const sink = memorySink();
  await writeFits(sink, [
    { header: primaryHeader(options.primary) },
    imageHdu(10, 6),
    tableHdu([['MOD10/TEMPA', '-128.104'], ['MOD10/TEMPB', '-106.011'], ['BACKPLANE_TEMP', '23.819']]),
  ], { checksums: options.checksums ? { timestamp: '2026-01-15T04:12:33' } : undefined });
  return sink.bytes();
}
