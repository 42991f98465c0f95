/** The FITS codec: FITS Standard 4.0 only, no MODS knowledge. */
export * from './card.js';
export * from './card-parser.js';
export * from './card-formatter.js';
export * from './header.js';
export * from './errors.js';
export * from './source.js';
export * from './hdu.js';
export * from './image.js';
export * from './table.js';
export * from './checksum.js';
export * from './writer.js';
export * from './verify.js';
