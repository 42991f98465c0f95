/**
 * Both copies from one pass (behaviour.md §6): the processed bytes, as the worker makes them, go
 * to the day-folder temporary and to the repository temporary at once, both through the
 * file-system port; the two are flushed together; the repository copy is then read back once
 * and summed HDU by HDU against the sums the writer took of the very bytes it produced. Nothing
 * is read twice, nothing is compared byte for byte with the day copy. The names are given as for
 * any delivery (`Delivery.commit`, deliver.ts).
 *
 * What the check proves, and what it cannot (docs/failure-modes.md): a short, failed or lost
 * write is reported by write, fsync or close (an NFS client reports the server's write-back
 * errors there); the read-back catches a copy that is not the bytes produced (a write that
 * reported success and stored other bytes, a wrong position). Node cannot drop a file's cached
 * pages (no posix_fadvise) nor read with O_DIRECT into its own buffers (they are not aligned), so
 * on NFS the read-back may come from the client's cache: that the server holds the bytes rests on
 * fsync (NFS COMMIT: on stable storage before it returns).
 */
import { join } from 'node:path';
import { onesComplementSum } from '../../fits/index.js';
import { readFully, writeFully, type FsHandle } from './fs-port.js';
import { tempName, type DeliveryOptions, type DeliveryRequest, type RepoCopy } from './delivery-base.js';
import { Delivery, type PreparedDelivery } from './deliver.js';
import type { ChunkWriter } from './worker-pool.js';
import type { WrittenLayout } from './worker-protocol.js';

/** A delivery whose two temporaries are written from one stream of processed bytes. */
export interface OnePassDelivery {
  /**
   * Creates both temporaries and writes into both every chunk `produce` hands its writer;
   * returns what `produce` returns (the layout of what was written, with its sums).
   */
  write<T extends { layout: WrittenLayout }>(produce: (write: ChunkWriter) => Promise<T>): Promise<T>;
  /**
   * Flushes both copies together, then verifies the repository copy; one that does not verify is
   * made again, from the day copy, and checked against it. `instrumentId`: for UNIQNAME.
   */
  seal(instrumentId: string): Promise<PreparedDelivery>;
  /** Removes both temporaries (nothing will be delivered); returns those that could not be removed. */
  abandon(): Promise<string[]>;
}

/** `request.tempPath` must not exist: it is created here (the day-folder temporary). */
export function onePassDelivery(request: DeliveryRequest, options: DeliveryOptions = {}): OnePassDelivery {
  const delivery = new TwoCopies(request, options);
  return {
    write: (produce) => delivery.write(produce),
    seal: (instrumentId) => delivery.seal(instrumentId),
    abandon: () => delivery.abandonBoth(),
  };
}

interface Open {
  day: FsHandle;
  repo: FsHandle;
  repoTemp: string;
  layout: WrittenLayout;
}

class TwoCopies extends Delivery {
  private open: Open | undefined;

  async write<T extends { layout: WrittenLayout }>(produce: (write: ChunkWriter) => Promise<T>): Promise<T> {
    this.validate();
    return this.step('repo-copy', async () => {
      const { repoDir, tempPath } = this.req;
      await this.removeLeftovers();
      const dirStat = await this.op('stat', repoDir, () => this.fs.stat(repoDir));
      if (!dirStat.isDirectory) throw this.badRequest('repo-copy', repoDir, `the repository folder ${repoDir} is not a folder`);
      const day = await this.openFile(tempPath, 'wx', this.req.fileMode);
      this.temps.add(tempPath);
      const repoTemp = join(repoDir, tempName(this.req.baseName, 'part', this.randomId));
      const repo = await this.openFile(repoTemp, 'wx', this.req.fileMode);
      this.temps.add(repoTemp);
      const writing = new Set<Promise<unknown>>();
      const writeBoth: ChunkWriter = (bytes, position) => {
        const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
        const done = both(
          this.op('write', tempPath, () => writeFully(this.fs, day, chunk, position)),
          this.op('write', repoTemp, () => writeFully(this.fs, repo, chunk, position)),
        );
        const settled = done.catch(() => undefined);
        writing.add(settled);
        void settled.then(() => writing.delete(settled));
        return done;
      };
      try {
        const produced = await produce(writeBoth);
        this.open = { day, repo, repoTemp, layout: produced.layout };
        return produced;
      } finally {
        // A failed job may leave writes in flight: the handles are closed only after them.
        await Promise.all(writing);
      }
    });
  }

  async seal(instrumentId: string): Promise<PreparedDelivery> {
    this.req = { ...this.req, instrumentId };
    this.validate();
    const open = this.open;
    if (open === undefined) throw new Error('internal: seal() before a completed write()');
    this.open = undefined;
    // The read-back runs while both copies are flushed: it reads what the page cache holds either
    // way, and the flush, not the read, is what puts the bytes on the disk (or the NFS server).
    const { copy, problem } = await this.step('repo-copy', async () => {
      const [flushed, checked] = await Promise.allSettled([this.flushBoth(open), this.verifyWritten(open.repoTemp, open.layout)]);
      if (flushed.status === 'rejected') throw flushed.reason;
      if (checked.status === 'rejected') throw checked.reason;
      return { copy: flushed.value, problem: checked.value };
    });
    if (problem === undefined) {
      this.prepared = copy;
    } else {
      await this.rejectCopy(copy, this.req.tempPath, problem, 1);
      this.prepared = await this.verifiedCopy(this.req.tempPath, 2);
    }
    // Until here a failure removed the day copy too (a retry processes again); from here it is
    // the processed file to deliver, kept for a retry as in `deliver`.
    this.temps.delete(this.req.tempPath);
    return { commit: () => this.commit(), abandon: () => this.abandon() };
  }

  /** Before `seal`: both temporaries go. (After it, `abandon` leaves the day copy, as any prepared delivery.) */
  async abandonBoth(): Promise<string[]> {
    this.open = undefined;
    return this.abandon();
  }

  /** Both copies flushed at once, closed and given their mode. */
  private async flushBoth(open: Open): Promise<RepoCopy> {
    const { tempPath } = this.req;
    await both(this.op('fsync', tempPath, () => this.fs.fsync(open.day)), this.op('fsync', open.repoTemp, () => this.fs.fsync(open.repo)));
    await this.closeFile(open.day);
    await this.closeFile(open.repo);
    await this.op('chmod', tempPath, () => this.fs.chmod(tempPath, this.req.fileMode));
    await this.op('chmod', open.repoTemp, () => this.fs.chmod(open.repoTemp, this.req.fileMode));
    return { temp: open.repoTemp, bytes: open.layout.bytes, sourceBytes: open.layout.bytes };
  }

  /**
   * The repository copy read back once: its length, and every HDU's header and data summing to
   * what the writer summed while it produced them. Returns what is wrong, or undefined.
   */
  private async verifyWritten(temp: string, layout: WrittenLayout): Promise<string | undefined> {
    const st = await this.op('stat', temp, () => this.fs.stat(temp));
    if (st.size !== layout.bytes) return `${st.size} bytes, expected ${layout.bytes}`;
    const parts = layout.hdus.flatMap((h, index) => [
      { what: `the header of HDU ${index}`, start: h.headerOffset, end: h.dataOffset, sum: h.headerSum },
      { what: `the data of HDU ${index}`, start: h.dataOffset, end: h.dataOffset + h.dataBytes, sum: h.datasum },
    ]).filter((p) => p.end > p.start);
    const handle = await this.openFile(temp, 'r');
    const buffer = Buffer.allocUnsafe(this.chunkBytes);
    const sums = parts.map(() => 0);
    for (let offset = 0; offset < layout.bytes; ) {
      const chunk = await this.op('read', temp, () => readFully(this.fs, handle, offset, Math.min(this.chunkBytes, layout.bytes - offset), buffer));
      if (chunk.length === 0) {
        await this.closeFile(handle);
        return `${temp} ended at byte ${offset} of ${layout.bytes}`;
      }
      const end = offset + chunk.length;
      parts.forEach((p, i) => {
        const from = Math.max(p.start, offset);
        const to = Math.min(p.end, end);
        if (from < to) sums[i] = onesComplementSum(chunk.subarray(from - offset, to - offset), sums[i]);
      });
      offset = end;
    }
    await this.closeFile(handle);
    const wrong = parts.filter((p, i) => p.sum === undefined || p.sum !== sums[i]).map((p) => p.what);
    return wrong.length === 0 ? undefined : `${wrong.join(', ')} not as written`;
  }
}

/** Waits for both operations, then throws the first failure: neither is still running when a step cleans up. */
async function both(a: Promise<unknown>, b: Promise<unknown>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
}
