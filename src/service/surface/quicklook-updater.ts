/**
 * Keeps `<dir>/<chan>.png`, the quick look of the file each channel's `<CHAN>.new` names, for the
 * status page. One PNG is made per delivered file, in the background after `delivery:done`
 * (never per page view, and never in the way of the next delivery); `writeQuickLook` replaces
 * the PNG atomically, so the page never serves half a picture.
 *
 * Per channel at most one PNG is being made and one is pending: when several files of a channel
 * are delivered while a PNG is being made (a burst of short exposures), only the newest of them
 * gets one — the page shows the latest image, the skipped ones would be overwritten at once.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MissingMergedError, writeQuickLook, type QuickLookOptions } from '../../quicklook/index.js';
import type { Logger } from '../../ops/logger.js';
import type { ServiceEventSource } from '../events.js';
import type { LedgerRow } from '../ledger/ledger.js';
import type { DeliveryResult } from '../jobs/deliver.js';
import { quickLookPath } from './status-source.js';

export interface QuickLookUpdaterOptions {
  /** Folder of the PNGs, created if missing; e.g. `<stateDir>/quicklook`. */
  dir: string;
  /** @default the service's logger, scope `quicklook` */
  logger?: Logger;
  quickLook?: QuickLookOptions;
  /** Called after each PNG is written (tests, metrics). */
  onWritten?: (channel: string, png: string, procPath: string) => void;
}

export interface QuickLookUpdater {
  readonly dir: string;
  /** Path of the channel's PNG, or undefined when none was made yet. */
  latest(channel: string): string | undefined;
  /** Resolves when no PNG is being made or pending. */
  idle(): Promise<void>;
  /** Stops listening and waits for the PNG in progress. */
  detach(): Promise<void>;
}

interface ChannelWork {
  running: Promise<void>;
  /** The processed file to show next, once the running one is written. */
  pending: string | undefined;
}

/** Listens for `delivery:done` on the service and writes each channel's quick look. */
export function attachQuickLookUpdater(service: ServiceEventSource & { readonly logger: Logger }, options: QuickLookUpdaterOptions): QuickLookUpdater {
  const { dir } = options;
  const logger = options.logger ?? service.logger.child('quicklook');
  const work = new Map<string, ChannelWork>();
  let made: Promise<void> | undefined;

  const makeOne = async (channel: string, procPath: string): Promise<void> => {
    const png = join(dir, `${channel}.png`);
    try {
      made ??= mkdir(dir, { recursive: true }).then(() => undefined);
      await made;
      await writeQuickLook(procPath, png, options.quickLook);
      logger.debug(`${basename(procPath)}: quick look written to ${png}`);
      options.onWritten?.(channel, png, procPath);
    } catch (err) {
      made = undefined; // the folder may have been removed; try again next time
      if (err instanceof MissingMergedError) {
        logger.debug(`${basename(procPath)}: no MERGED extension, no quick look`);
      } else {
        logger.warn(`${basename(procPath)}: cannot make the quick look for the status page: ${(err as Error).message}`);
      }
    }
  };

  const drain = async (channel: string, entry: ChannelWork): Promise<void> => {
    for (let next = entry.pending; next !== undefined; next = entry.pending) {
      entry.pending = undefined;
      await makeOne(channel, next);
    }
    work.delete(channel);
  };

  const onDelivered = (row: LedgerRow, result: DeliveryResult): void => {
    const channel = row.channel;
    // The quick look shows what `<CHAN>.new` names: not an earlier exposure delivered during a
    // catch-up (behaviour.md §6 step 3), which would flick the page back through old frames.
    if (channel === null || !/^[a-z0-9_-]+$/i.test(channel) || result.pointer === 'kept') return;
    const entry = work.get(channel);
    if (entry) {
      entry.pending = result.procPath;
      return;
    }
    const fresh: ChannelWork = { running: Promise.resolve(), pending: result.procPath };
    work.set(channel, fresh);
    fresh.running = drain(channel, fresh);
  };

  service.on('delivery:done', onDelivered);

  const idle = async (): Promise<void> => {
    while (work.size > 0) await Promise.all([...work.values()].map((w) => w.running));
  };

  return {
    dir,
    latest: (channel) => quickLookPath(dir, channel),
    idle,
    detach: async () => {
      service.off('delivery:done', onDelivered);
      for (const w of work.values()) w.pending = undefined;
      await idle();
    },
  };
}
