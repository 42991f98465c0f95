/** Night logs: the OSU modsLog fixed-width format and the per-instrument, per-night files. */
export * from './python-format.js';
export * from './format.js';
export * from './nightlog.js';
