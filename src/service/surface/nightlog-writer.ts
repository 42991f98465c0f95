/**
 * After each delivery, one line in that night's observing log (OSU modsLog format), written from
 * the processed file's primary header. A failure is logged and never holds up deliveries.
 */
import { basename } from 'node:path';
import { appendNightLog, readPrimaryHeader } from '../../nightlog/index.js';
import type { Logger } from '../../ops/logger.js';
import type { ServiceEventSource } from '../events.js';
import type { LedgerRow } from '../ledger/ledger.js';
import type { DeliveryResult } from '../jobs/deliver.js';

export function attachNightLog(service: ServiceEventSource, folder: string, logger: Logger): { detach(): void; idle(): Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  const onDelivered = (row: LedgerRow, result: DeliveryResult) => {
    // One append at a time keeps lines in delivery order.
    chain = chain.then(async () => {
      try {
        const header = await readPrimaryHeader(result.procPath);
        const instrument = header.string('INSTRUME')?.trim() || row.channel || 'mods';
        const obsDate = row.obsDate ?? basename(result.procPath).split('.')[1] ?? 'unknown';
        await appendNightLog(folder, instrument, obsDate, header);
      } catch (err) {
        logger.warn(`${row.name}: night log not updated: ${(err as Error).message}`);
      }
    });
  };
  service.on('delivery:done', onDelivered);
  return { detach: () => service.off('delivery:done', onDelivered), idle: () => chain };
}
