/** Quick-look PNGs of the MERGED image: zscale, block average, greyscale PNG. */
export * from './pixel-grid.js';
export * from './zscale.js';
export * from './downsample.js';
export * from './png.js';
export * from './quicklook.js';
