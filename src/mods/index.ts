/** MODS instrument knowledge shared by the generator and the processing steps. */
export * from './channels.js';
export * from './geometry.js';
export * from './merged.js';
