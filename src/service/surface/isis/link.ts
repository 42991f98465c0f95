/**
 * The service's side of the optional ISIS client (`docs/isis.md` §3.4 item 6): what the
 * node answers (`lastfile`, `status`, `+swap`) and the `LASTFILE` push to the GUI after each
 * delivery, the way caliban kept the MODS GUI's "LastFile" display current (§3.1).
 *
 * The queue and sources come from the same {@link StatusSource} the status page reads, so the
 * two cannot disagree; the last delivery is followed from `delivery:done` (only those that moved
 * `<CHAN>.new`) and, at start, taken from the pointer (or the ledger) so that a restart does not
 * answer `None` for a night already under way.
 */
import type { EventEmitter } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { IsisConfig } from '../../../ops/config.js';
import type { Timers } from '../../../base/clock.js';
import type { Logger } from '../../../ops/logger.js';
import type { ServiceEvents } from '../../events.js';
import type { LedgerRow } from '../../ledger/ledger.js';
import type { DeliveryResult } from '../../jobs/deliver.js';
import type { StatusSource } from '../status-source.js';
import { IsisClient, type CommandHandler } from './client.js';
import { formatValue } from './message.js';

export interface IsisLinkOptions {
  config: IsisConfig;
  /** The running service's events (`delivery:done`). */
  events: EventEmitter<ServiceEvents>;
  status: StatusSource;
  timers: Timers;
  logger: Logger;
  /** Where `<CHAN>.new` is: at start, LASTFILE is what the pointer names. Without it, the ledger's last delivery. */
  repoDir?: string | undefined;
}

export interface IsisLink {
  /** The bound local address (the real port when `localPort` is 0). */
  address: { host: string; port: number };
  close(): Promise<void>;
}

/** Rows looked at for the last delivery at start: the newest changes, delivered or not. */
const LEDGER_LOOKBACK = 500;

/** Starts the ISIS node of a running service; rejects when its port cannot be bound. */
export async function startIsisLink(options: IsisLinkOptions): Promise<IsisLink> {
  const { config, status, logger } = options;
  // A node stands for one channel in the GUI (BDMHost blue, RDMHost red): files of other
  // channels must not show in its "LastFile" display. A row without a channel is reported
  // only by a node that covers every channel of the service.
  const covers = (channel: string | null) => (channel === null ? status.channels.every((c) => config.channels.includes(c)) : config.channels.includes(channel));
  let last = lastPointed(options.repoDir, status.channels.filter((c) => covers(c)), logger) ?? lastDeliveredInLedger(status, covers, logger);

  const commands = new Map<string, CommandHandler>([
    ['lastfile', () => ({ done: `LASTFILE=${formatValue(last?.name ?? 'None')}` })],
    ['status', () => ({ done: statusText(status, last) })],
    // Acknowledged for the GUI's retired `+swap` (§3.1, §3.4): dataman has no buffers to swap,
    // each file is delivered as soon as it is complete.
    ['+swap', () => ({ done: 'nothing to swap: every file is delivered when complete' })],
  ]);
  const client = new IsisClient({
    node: config.node, server: { host: config.serverHost, port: config.serverPort },
    local: { host: config.localHost, port: config.localPort }, pingIntervalMs: config.pingIntervalMs,
    commands, timers: options.timers, logger,
  });
  const address = await client.start();

  const onDelivered = (row: LedgerRow, result: Pick<DeliveryResult, 'deliveredName' | 'pointer'>) => {
    // LASTFILE follows `<CHAN>.new`: an earlier exposure delivered during a catch-up, which
    // left the pointer on a newer one (behaviour.md §6 step 3), is not pushed to the GUI.
    if (!covers(row.channel) || result.pointer === 'kept') return;
    last = { name: result.deliveredName, at: row.deliveredAt ?? status.now() };
    // STATUS:, not DONE:, and a command word of its own: an unsolicited DONE: could close a
    // command the GUI is waiting for (§3.4, the risk noted there).
    if (config.guiNode !== undefined) {
      client.send({ dest: config.guiNode, type: 'STATUS', command: 'delivered', body: `LASTFILE=${formatValue(result.deliveredName)}` });
    }
  };
  options.events.on('delivery:done', onDelivered);
  logger.info(`ISIS node ${client.node} on ${address.host}:${address.port}, server ${config.serverHost}:${config.serverPort}`
    + (config.guiNode ? `, LASTFILE pushed to ${config.guiNode.toUpperCase()}` : ''));
  return {
    address,
    close: async () => {
      options.events.off('delivery:done', onDelivered);
      await client.close();
    },
  };
}

interface LastDelivery {
  name: string;
  /** ms since the epoch */
  at: number;
}

/**
 * What the channels' pointers name (the newest pointer of them when a node covers several):
 * after a catch-up the last file delivered may be an earlier exposure, which the pointer, and
 * so LASTFILE, does not name.
 */
function lastPointed(repoDir: string | undefined, channels: string[], logger: Logger): LastDelivery | undefined {
  if (repoDir === undefined) return undefined;
  let best: LastDelivery | undefined;
  for (const channel of channels) {
    const pointer = join(repoDir, `${channel.toUpperCase()}.new`);
    try {
      const name = readFileSync(pointer, 'utf8').trim();
      const at = statSync(pointer).mtimeMs;
      if (name !== '' && (best === undefined || at > best.at)) best = { name, at };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn(`ISIS: cannot read ${pointer}: ${(err as Error).message}`);
    }
  }
  return best;
}

function lastDeliveredInLedger(status: StatusSource, covers: (channel: string | null) => boolean, logger: Logger): LastDelivery | undefined {
  let rows: LedgerRow[];
  try {
    rows = status.ledger.recent(LEDGER_LOOKBACK);
  } catch (err) {
    logger.warn(`ISIS: cannot read the last delivery from the ledger: ${(err as Error).message}`);
    return undefined;
  }
  let best: LastDelivery | undefined;
  for (const row of rows) {
    if (row.state !== 'delivered' || row.deliveredName === null || row.deliveredAt === null || !covers(row.channel)) continue;
    if (best === undefined || row.deliveredAt > best.at) best = { name: row.deliveredName, at: row.deliveredAt };
  }
  return best;
}

/** `WAITING=0 QUEUED=1 RUNNING=1 SOURCES=OK LASTFILE=… LASTTIME=…` (UTC, ISO 8601). */
function statusText(status: StatusSource, last: LastDelivery | undefined): string {
  const q = status.queue();
  const s = status.sources();
  const dead = [!s.watcher && 'watcher', s.udp === false && 'udp', s.drop === false && 'drop'].filter((d): d is string => d !== false);
  const parts = [`WAITING=${q.waiting}`, `QUEUED=${q.queued}`, `RUNNING=${q.running}`, `SOURCES=${dead.length === 0 ? 'OK' : formatValue(`dead: ${dead.join(' ')}`)}`];
  parts.push(`LASTFILE=${formatValue(last?.name ?? 'None')}`);
  if (last !== undefined) parts.push(`LASTTIME=${new Date(last.at).toISOString().replace(/\.\d{3}Z$/, 'Z')}`);
  return parts.join(' ');
}
