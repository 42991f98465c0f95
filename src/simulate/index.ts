/** Synthetic raw MODS files for tests, the demo and benchmarks (`dataman simulate`). */
export * from './options.js';
export * from './prng.js';
export * from './sky.js';
export * from './primary-header.js';
export * from './extension-header.js';
export * from './conpars.js';
export * from './pixels.js';
export * from './generate.js';
export * from './write.js';
export * from './trigger.js';
