/**
 * Writes a FITS file from headers and data units: headers padded with spaces, data with zeros,
 * to whole 2880-byte blocks. A data unit can be copied byte for byte from another file (padding
 * included), come from memory, or be produced chunk by chunk while it is written. With checksums
 * on, every HDU gets DATASUM and CHECKSUM: the header's length is taken with placeholders, the
 * data streamed while summed, then the header written in front of it with the sums.
 */
import { BLOCK_LENGTH, padToBlock } from './card.js';
import type { Header } from './header.js';
import type { ByteSource } from './source.js';
import { addSums, encodeChecksum, onesComplementSum } from './checksum.js';
import { TruncatedFitsError } from './errors.js';

export type DataUnit =
  /**
   * Bytes in memory, without padding (the writer pads with zeros). `datasum`, when the producer
   * has it, is their ones'-complement sum and saves the writer a pass over them.
   */
  | { kind: 'bytes'; bytes: Uint8Array; datasum?: number }
  /** `length` bytes at `offset` of another file, copied verbatim (pass the padded length). */
  | { kind: 'copy'; source: ByteSource; offset: number; length: number }
  /**
   * `length` bytes (without padding) made while they are written: a large computed image need
   * not exist whole in memory. The writer asks for the next chunk while the last one is being
   * written, and for the one after only once that write has completed: a producer may reuse a
   * chunk's buffer two chunks later (two buffers in turn), never for the very next chunk.
   */
  | { kind: 'stream'; length: number; chunks: () => Iterable<DataChunk> };

/** Part of a streamed data unit: a multiple of 4 bytes long, except the last. */
export interface DataChunk {
  bytes: Uint8Array;
  /** Ones'-complement sum of `bytes`, when the producer has it (saves the writer a pass). */
  sum?: number;
}

export interface HduOutput {
  header: Header;
  data?: DataUnit;
}

export interface WriteOptions {
  /** Stamp CHECKSUM/DATASUM; the timestamp goes into their comments (ISO, UTC, seconds). */
  checksums?: { timestamp: string } | undefined;
  /** Bytes per read/write when copying data units. @default 8 MiB */
  chunkBytes?: number;
  /**
   * Sum every HDU's header and data while writing them, even without stamping (a copy made from
   * these writes is then verified against the sums of the very bytes written). @default false
   */
  sums?: boolean;
}

export interface WrittenHdu {
  headerOffset: number;
  dataOffset: number;
  /** Padded data length written. */
  dataBytes: number;
  /** Ones'-complement sum of the data unit, when stamped or asked for (`sums`). */
  datasum: number | undefined;
  /** Ones'-complement sum of the header as finally written, when stamped or asked for. */
  headerSum: number | undefined;
}

export interface WriteResult {
  bytes: number;
  hdus: WrittenHdu[];
}

/** Where `writeFits` writes: positional writes, as a `FileHandle` does. */
export interface WriteSink {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
}

/** An in-memory sink (tests, small files): `bytes()` returns what was written. */
export function memorySink(): WriteSink & { bytes(): Buffer } {
  let store = Buffer.alloc(64 * 1024);
  let length = 0;
  return {
    async write(buffer, offset, count, position) {
      const end = position + count;
      if (end > store.length) {
        const bigger = Buffer.alloc(Math.max(end, store.length * 2));
        store.copy(bigger, 0, 0, length);
        store = bigger;
      }
      store.set(buffer.subarray(offset, offset + count), position);
      length = Math.max(length, end);
      return { bytesWritten: count };
    },
    bytes: () => Buffer.from(store.subarray(0, length)),
  };
}

const CHECKSUM_PLACEHOLDER = '0000000000000000';

/** One positional write the writer has prepared. */
interface PendingWrite {
  bytes: Uint8Array;
  position: number;
}

/**
 * Writes the HDUs to `handle` from position 0 (the caller opened and will sync/close it).
 *
 * One write is kept in flight while the next is prepared (a chunk computed, read or summed), so
 * the thread computing and the thread writing do not wait for each other. A buffer the writer
 * reuses (the copy buffers) or that a stream reuses is therefore only touched again two writes
 * later, when the write from it has completed. On any failure the write in flight is waited
 * for before the error is thrown: the caller may free or reuse every buffer once this returns.
 */
export async function writeFits(handle: WriteSink, hdus: readonly HduOutput[], options: WriteOptions = {}): Promise<WriteResult> {
  const chunkBytes = options.chunkBytes ?? 8 * 1024 * 1024;
  const result: WriteResult = { bytes: 0, hdus: [] };
  let inFlight: Promise<void> | undefined;
  // Set when the write in flight fails; kept rather than left as a rejected promise nobody
  // awaits yet (Node would report it unhandled while the next write is prepared).
  let writeFailure: { error: unknown } | undefined;
  try {
    for await (const next of pendingWrites(hdus, options.checksums, options.sums === true, chunkBytes, result)) {
      await inFlight;
      if (writeFailure) throw writeFailure.error;
      inFlight = writeAll(handle, next.bytes, next.position).catch((error: unknown) => { writeFailure = { error }; });
    }
    await inFlight;
    if (writeFailure) throw writeFailure.error;
  } catch (err) {
    await inFlight;
    // A failed write comes first: the old, unoverlapped writer would have stopped there and
    // never prepared what failed after it.
    throw writeFailure ? writeFailure.error : err;
  }
  return result;
}

/**
 * The writes of the whole file, in order, each prepared only when asked for. With checksums on,
 * a header is written once, after its data unit, when its DATASUM and CHECKSUM are known: its
 * length does not depend on their values, so its data unit's position is known before.
 */
async function* pendingWrites(
  hdus: readonly HduOutput[], stamp: WriteOptions['checksums'], sums: boolean, chunkBytes: number, result: WriteResult,
): AsyncGenerator<PendingWrite> {
  const summing = stamp !== undefined || sums;
  let position = 0;
  for (const hdu of hdus) {
    const header = hdu.header;
    if (stamp) {
      header.set('CHECKSUM', CHECKSUM_PLACEHOLDER, { comment: `HDU checksum updated ${stamp.timestamp}`, kind: 'string' });
      header.set('DATASUM', '0', { comment: `data unit checksum updated ${stamp.timestamp}`, kind: 'string' });
    }
    const headerOffset = position;
    const headerBytes = header.toBuffer();
    if (!stamp) yield { bytes: headerBytes, position };
    position += headerBytes.length;
    const dataOffset = position;
    const data = dataWrites(hdu.data, position, chunkBytes, summing);
    let step = await data.next();
    for (; !step.done; step = await data.next()) yield step.value;
    const { bytes: dataBytes, sum } = step.value;
    position += dataBytes;
    let headerSum = summing && !stamp ? onesComplementSum(headerBytes) : undefined;
    if (stamp) {
      header.set('DATASUM', String(sum), { kind: 'string' });
      const withPlaceholder = header.toBuffer();
      const checksum = encodeChecksum(addSums(onesComplementSum(withPlaceholder), sum));
      header.set('CHECKSUM', checksum, { kind: 'string' });
      const final = header.toBuffer();
      if (final.length !== headerBytes.length) throw new Error('internal: header length changed while stamping checksums');
      headerSum = onesComplementSum(final);
      yield { bytes: final, position: headerOffset };
    }
    result.hdus.push({ headerOffset, dataOffset, dataBytes, datasum: summing ? sum : undefined, headerSum });
    result.bytes = position;
  }
}

/** The writes of one data unit; returns its padded length and ones'-complement sum. */
async function* dataWrites(
  data: DataUnit | undefined, position: number, chunkBytes: number, summing: boolean,
): AsyncGenerator<PendingWrite, { bytes: number; sum: number }> {
  if (data === undefined) return { bytes: 0, sum: 0 };
  if (data.kind === 'bytes') {
    const padded = padToBlock(data.bytes.length);
    let sum = data.datasum ?? 0;
    if (summing && data.datasum === undefined) sum = sumWithTail(data.bytes);
    yield { bytes: data.bytes, position };
    if (padded > data.bytes.length) yield { bytes: Buffer.alloc(padded - data.bytes.length), position: position + data.bytes.length };
    return { bytes: padded, sum };
  }
  if (data.kind === 'stream') return yield* streamWrites(data, position, summing);
  return yield* copyWrites(data, position, chunkBytes, summing);
}

function* streamWrites(
  data: Extract<DataUnit, { kind: 'stream' }>, position: number, summing: boolean,
): Generator<PendingWrite, { bytes: number; sum: number }> {
  let done = 0;
  let sum = 0;
  for (const chunk of data.chunks()) {
    const n = chunk.bytes.length;
    if (done + n > data.length) throw new Error(`internal: a streamed data unit gave more than the ${data.length} bytes it announced`);
    if (summing) {
      if (n % 4 !== 0 && done + n !== data.length) throw new Error('internal: only the last chunk of a streamed data unit may end inside a 32-bit word');
      sum = addSums(sum, chunk.sum ?? sumWithTail(chunk.bytes));
    }
    yield { bytes: chunk.bytes, position: position + done };
    done += n;
  }
  if (done !== data.length) throw new Error(`internal: a streamed data unit gave ${done} of the ${data.length} bytes it announced`);
  const padded = padToBlock(data.length);
  if (padded > data.length) yield { bytes: Buffer.alloc(padded - data.length), position: position + data.length };
  return { bytes: padded, sum };
}

/** Copies in two buffers taken in turn: one is read into while the other is written from. */
async function* copyWrites(
  data: Extract<DataUnit, { kind: 'copy' }>, position: number, chunkBytes: number, summing: boolean,
): AsyncGenerator<PendingWrite, { bytes: number; sum: number }> {
  if (data.length % BLOCK_LENGTH !== 0) throw new RangeError(`copied data units must be whole blocks, got ${data.length} bytes`);
  let sum = 0;
  // Two buffers for the whole copy: large data units would otherwise churn the garbage collector.
  const size = Math.min(chunkBytes, data.length);
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] as const;
  for (let done = 0, turn = 0; done < data.length; turn ^= 1) {
    const want = Math.min(chunkBytes, data.length - done);
    const chunk = await data.source.read(data.offset + done, want, buffers[turn]);
    if (chunk.length < want) {
      throw new TruncatedFitsError(`source ended ${data.length - done - chunk.length} bytes early while copying a data unit`, {
        path: data.source.path, offset: data.offset + done + chunk.length,
      });
    }
    if (summing) sum = onesComplementSum(chunk, sum);
    yield { bytes: chunk, position: position + done };
    done += want;
  }
  return { bytes: data.length, sum };
}

/** Ones'-complement sum of bytes whose length need not be a multiple of 4 (zero-padded). */
function sumWithTail(bytes: Uint8Array): number {
  const whole = bytes.length - (bytes.length % 4);
  let sum = onesComplementSum(bytes.subarray(0, whole));
  if (whole < bytes.length) {
    const tail = new Uint8Array(4);
    tail.set(bytes.subarray(whole));
    sum = addSums(sum, onesComplementSum(tail));
  }
  return sum;
}

async function writeAll(handle: WriteSink, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
