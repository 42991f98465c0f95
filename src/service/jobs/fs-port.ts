/**
 * The narrow file-system port that delivery goes through (STYLE §5, cf. isaacs/path-scurry
 * `FSOption`): every call that can fail on a full disk, a stale NFS handle or a vanished mount
 * is one method here, so that tests can inject `ENOSPC`, `EIO`, `ESTALE`, `EXDEV` or a slow call
 * on any operation without mocking `node:fs` globally. The default is a thin wrapper over
 * `node:fs/promises`.
 */
import { open, link, rename, unlink, stat, chmod, mkdir, type FileHandle } from 'node:fs/promises';
import type { ByteSource } from '../../fits/index.js';

/** An open file. Opaque to callers: pass it back to the port that opened it. */
export interface FsHandle {
  /** The path it was opened with (for error messages and fault matching). */
  readonly path: string;
}

/** What delivery needs from `stat`. */
export interface FsStats {
  size: number;
  mode: number;
  /** Inode and device: the same pair means the same file (two hard links to it). */
  ino: number;
  dev: number;
  isFile: boolean;
  isDirectory: boolean;
}

/** `r` read, `r+` read/write an existing file, `wx` create a new file (fails with EEXIST). */
export type OpenFlags = 'r' | 'r+' | 'wx';

export interface FsPort {
  /** `mode` applies to files created with `wx` (before the umask). */
  open(path: string, flags: OpenFlags, mode?: number): Promise<FsHandle>;
  /** Reads up to `length` bytes at `position`; returns how many were read (0 at the end). */
  read(handle: FsHandle, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes up to `length` bytes at `position`; returns how many were written (may be short). */
  write(handle: FsHandle, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Flushes the file's data and metadata to stable storage. */
  fsync(handle: FsHandle): Promise<void>;
  /** Flushes a directory, so that names created, renamed or removed in it are durable. */
  fsyncDir(path: string): Promise<void>;
  close(handle: FsHandle): Promise<void>;
  /** Hard link: fails with EEXIST, atomically, when `newPath` exists (never overwrites). */
  link(existingPath: string, newPath: string): Promise<void>;
  /** Atomically replaces `newPath` if it exists. */
  rename(oldPath: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  stat(path: string): Promise<FsStats>;
  chmod(path: string, mode: number): Promise<void>;
  mkdir(path: string, options: { recursive: boolean; mode?: number }): Promise<void>;
}

class NodeHandle implements FsHandle {
  constructor(
    readonly path: string,
    readonly file: FileHandle,
  ) {}
}

function nodeHandle(handle: FsHandle): FileHandle {
  if (!(handle instanceof NodeHandle)) throw new TypeError(`not a handle of the node file-system port: ${handle.path}`);
  return handle.file;
}

/** The real file system (`node:fs/promises`). */
export const nodeFsPort: FsPort = {
  open: async (path, flags, mode) => new NodeHandle(path, await open(path, flags, mode)),
  read: async (handle, buffer, offset, length, position) => (await nodeHandle(handle).read(buffer, offset, length, position)).bytesRead,
  write: async (handle, buffer, offset, length, position) => (await nodeHandle(handle).write(buffer, offset, length, position)).bytesWritten,
  fsync: (handle) => nodeHandle(handle).sync(),
  fsyncDir: async (path) => {
    // Linux (and NFS clients) flush a directory through a read-only descriptor on it.
    const dir = await open(path, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  },
  close: (handle) => nodeHandle(handle).close(),
  link: (existingPath, newPath) => link(existingPath, newPath),
  rename: (oldPath, newPath) => rename(oldPath, newPath),
  unlink: (path) => unlink(path),
  stat: async (path) => {
    const s = await stat(path);
    return { size: s.size, mode: s.mode, ino: s.ino, dev: s.dev, isFile: s.isFile(), isDirectory: s.isDirectory() };
  },
  chmod: (path, mode) => chmod(path, mode),
  mkdir: async (path, options) => {
    await mkdir(path, options);
  },
};

/** Reads `length` bytes at `position` into a new buffer, looping over short reads; shorter only at the end of the file. */
export async function readFully(fs: FsPort, handle: FsHandle, position: number, length: number, into?: Buffer): Promise<Buffer> {
  // A caller's buffer, reused across chunks, spares the page faults of a fresh one each time.
  const buffer = into === undefined ? Buffer.allocUnsafe(length) : into.subarray(0, length);
  if (buffer.length < length) throw new RangeError(`read into ${into!.length} bytes: ${length} asked`);
  let filled = 0;
  while (filled < length) {
    const n = await fs.read(handle, buffer, filled, length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/** Writes all of `buffer` at `position`, looping over short writes. */
export async function writeFully(fs: FsPort, handle: FsHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const n = await fs.write(handle, buffer, done, buffer.length - done, position + done);
    if (n <= 0) {
      // A write that stores nothing and reports no error: treat it as the I/O error it is.
      throw Object.assign(new Error(`EIO: write made no progress at byte ${position + done}, write '${handle.path}'`), {
        code: 'EIO', syscall: 'write', path: handle.path,
      });
    }
    done += n;
  }
}

/**
 * A codec `ByteSource` over a port handle, so that `verifyFile` reads through the port (and
 * faults injected there reach the verification too). `close()` closes the handle.
 */
export function portByteSource(fs: FsPort, handle: FsHandle): ByteSource {
  return {
    path: handle.path,
    size: async () => (await fs.stat(handle.path)).size,
    read: (offset, length, into) => readFully(fs, handle, offset, length, into),
    close: () => fs.close(handle),
  };
}
