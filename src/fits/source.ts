/**
 * Random-access bytes: an open file or an in-memory buffer. The codec reads headers through
 * this so that it never has to load a data unit it does not need.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface ByteSource {
  /** The file name, for error messages. */
  readonly path: string | undefined;
  /** Current length in bytes (re-read each call: a file being written grows). */
  size(): Promise<number>;
  /**
   * Up to `length` bytes at `offset`; fewer only at the end of the data. With `into` (at least
   * `length` bytes long) the bytes are read into it and a view of it is returned, so that large
   * reads can reuse one buffer.
   */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export function bufferSource(bytes: Buffer, path?: string): ByteSource {
  return {
    path,
    size: async () => bytes.length,
    read: async (offset, length, into) => {
      const view = bytes.subarray(offset, Math.min(offset + length, bytes.length));
      if (into === undefined) return view;
      view.copy(into);
      return into.subarray(0, view.length);
    },
    close: async () => {},
  };
}

export class FileSource implements ByteSource {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<FileSource> {
    return new FileSource(path, await open(path, 'r'));
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  async read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const buffer = into ?? Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(buffer, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    // A caller's buffer may be longer than this read: return exactly the bytes read.
    return filled === buffer.length ? buffer : buffer.subarray(0, filled);
  }

  /** The underlying handle, for streaming copies of data units. */
  get fileHandle(): FileHandle {
    return this.handle;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Runs `fn` with the file open for reading and always closes it. */
export async function withFileSource<T>(path: string, fn: (source: FileSource) => Promise<T>): Promise<T> {
  const source = await FileSource.open(path);
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}

/** Bytes to read at `offset`, into `into` (exactly `into.length` bytes are asked for). */
export interface ReadPiece {
  offset: number;
  into: Buffer;
}

/**
 * Reads `pieces` keeping up to `ahead` reads in flight, and hands each to `use` in order as
 * soon as it has arrived (shorter than asked only at the end of the data): the thread pool
 * reads the next pieces while this thread works on the current one. Returns once every read
 * has settled, also on failure, so that no read lands in a buffer its owner has given back.
 */
export async function readAhead(source: ByteSource, pieces: readonly ReadPiece[], ahead: number, use: (bytes: Buffer, index: number) => void): Promise<void> {
  const inFlight: Array<Promise<Buffer>> = [];
  const start = (i: number) => {
    const p = source.read(pieces[i]!.offset, pieces[i]!.into.length, pieces[i]!.into);
    p.catch(() => undefined); // awaited below, in order; a later failure must not go unhandled meanwhile
    inFlight.push(p);
  };
  let next = 0;
  try {
    for (let i = 0; i < pieces.length; i++) {
      while (next < pieces.length && next < i + Math.max(1, ahead)) start(next++);
      use(await inFlight[i]!, i);
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
}
