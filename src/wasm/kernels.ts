/**
 * The WebAssembly kernels (kernels.wat): the passes over every pixel of a frame, in SIMD. An
 * arena is one instance with its own memory, sized once for a job: the caller reads its data
 * straight into the arena's views (no copy), runs the kernels and writes the results from
 * views again. Views stay valid for the arena's life because its memory never grows after
 * creation.
 */
import { KERNELS_WASM_BASE64 } from './kernels-binary.js';

/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  place(src: number, n: number, flip: number, bias: number, dst: number, sums: number): void;
  halves(src: number, words: number, sums: number): void;
}

let compiled: object | undefined;

function kernelsModule(): object {
  compiled ??= new wasm.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  return compiled;
}

/** Pixels per `place` call and words per `halves` call: no 32-bit total can overflow. */
export const MAX_PLACE_PIXELS = 32768;
export const MAX_HALVES_WORDS = 65536;

const PAGE = 65536;

export class KernelArena {
  private readonly exports: Exports;
  private readonly bytes: Buffer;
  private readonly sumsAt: number;
  private next = 0;

  /** An arena with room for `size` bytes of the caller's data (plus 8 of its own). */
  constructor(size: number) {
    this.exports = new wasm.Instance(kernelsModule()).exports as Exports;
    const memory = this.exports.memory;
    const pages = Math.ceil((size + 16) / PAGE) - memory.buffer.byteLength / PAGE;
    if (pages > 0) memory.grow(pages);
    this.bytes = Buffer.from(memory.buffer);
    this.sumsAt = this.bytes.length - 8;
  }

  /** Bytes the caller can take in all. */
  get capacity(): number {
    return this.sumsAt;
  }

  /** Takes the next `length` bytes of the arena (16-byte aligned) as a Buffer view. */
  take(length: number): Buffer {
    const start = this.next;
    if (start + length > this.sumsAt) throw new RangeError(`arena of ${this.sumsAt} bytes is full (asked for ${length} more at ${start})`);
    this.next = (start + length + 15) & ~15;
    return this.bytes.subarray(start, start + length);
  }

  /**
   * Writes `n` big-endian float32 values physical − bias into `out`, from the stored big-endian
   * 16-bit words (BZERO 32768) at `words`, reversed when `flip`. Both must be views of this arena.
   * Returns the totals of the output words' high and low 16-bit halves.
   */
  place(words: Buffer, out: Buffer, flip: boolean, bias: number): [number, number] {
    const n = out.length / 4;
    if (words.length !== 2 * n || n > MAX_PLACE_PIXELS) throw new RangeError(`place: ${words.length} bytes of words for ${out.length} bytes of output (at most ${MAX_PLACE_PIXELS} pixels)`);
    this.exports.place(this.offsetOf(words), n, flip ? 1 : 0, bias, this.offsetOf(out), this.sumsAt);
    return this.sums();
  }

  /** Totals of the high and low 16-bit halves of the big-endian 32-bit words of `data` (a view of this arena). */
  halves(data: Buffer): [number, number] {
    if (data.length % 4 !== 0) throw new RangeError(`halves: ${data.length} bytes is not whole 32-bit words`);
    let hi = 0;
    let lo = 0;
    const offset = this.offsetOf(data);
    for (let word = 0, words = data.length / 4; word < words; word += MAX_HALVES_WORDS) {
      this.exports.halves(offset + 4 * word, Math.min(MAX_HALVES_WORDS, words - word), this.sumsAt);
      const [h, l] = this.sums();
      hi += h;
      lo += l;
    }
    return [hi, lo];
  }

  /** Makes all of the arena free again (its earlier views must no longer be used). */
  reset(): void {
    this.next = 0;
  }

  private sums(): [number, number] {
    return [this.bytes.readUInt32LE(this.sumsAt), this.bytes.readUInt32LE(this.sumsAt + 4)];
  }

  private offsetOf(view: Buffer): number {
    if (view.buffer !== this.bytes.buffer) throw new RangeError('not a view of this arena');
    return view.byteOffset;
  }
}

/**
 * The arena of the last job, kept for the next one on this thread: a frame's memory is then
 * mapped once per thread rather than once per file (fewer page faults, and a service's memory
 * that does not depend on when the garbage collector frees old arenas).
 */
let idle: KernelArena | undefined;
const busy = new WeakSet<KernelArena>();
/** Larger arenas (not MODS frames) are not kept. */
const KEEP_AT_MOST_BYTES = 256 * 1024 * 1024;

/** An arena of at least `size` bytes: the idle one when it is large enough, else a new one. */
export function acquireArena(size: number): KernelArena {
  let arena = idle !== undefined && idle.capacity >= size ? idle : undefined;
  if (arena !== undefined) {
    idle = undefined;
    arena.reset();
  } else {
    arena = new KernelArena(size);
  }
  busy.add(arena);
  return arena;
}

/**
 * Makes this thread's kept arena `size` bytes and touches every page of it, so that the memory a
 * frame of that size needs is taken now (at start) rather than when the first such frame comes.
 */
export function reserveArena(size: number): void {
  const arena = acquireArena(size);
  arena.take(size).fill(0);
  releaseArena(arena);
}

/** Gives an arena back once nothing reads its views any more; the largest one is kept. */
export function releaseArena(arena: KernelArena): void {
  if (!busy.delete(arena)) throw new Error('internal: an arena released twice, or never acquired');
  if (arena.capacity <= KEEP_AT_MOST_BYTES && (idle === undefined || idle.capacity < arena.capacity)) idle = arena;
}
