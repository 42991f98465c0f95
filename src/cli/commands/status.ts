/**
 * `dataman status [--config FILE] [--json] [--failed] [--limit N]`: what the ledger says, read
 * directly so that it works while the service is down (and while it runs: SQLite WAL lets this
 * read beside the service's writes). Counts by state and per channel, the last N files, and the
 * failures still standing with their code and reason.
 *
 * Exit status: 0; 1 when `--failed` finds failures (so that a cron job can alert); 2 for a wrong
 * command line or configuration (including a state folder holding no ledger).
 */
import type { Command } from 'commander';
import { descriptionOf } from './descriptions.js';
import type { RegisterCommand } from './register.js';
import { type CliContext, ExitCode, failWith } from '../context.js';
import type { DatamanConfig } from '../../ops/config.js';
import { LEDGER_STATES, type LedgerCounts, type LedgerRow, type LedgerState } from '../../service/ledger/ledger.js';
import {
  localTime, openOperatorLedger, operatorConfig, outstandingFailures, positiveInteger, SERVICE_RUNNING_HELP, serviceRunning, udpAddress,
} from '../operator.js';

interface StatusOpts {
  config?: string;
  json?: boolean;
  failed?: boolean;
  limit?: string;
}

/** Version of the `--json` document; raised only when a field changes meaning or goes away. */
export const STATUS_JSON_VERSION = 1;

/** One job in the `--json` document. Times are ISO 8601 UTC; absent values are null. */
export interface StatusJob {
  id: number;
  name: string;
  path: string;
  channel: string | null;
  origin: string;
  state: LedgerState;
  attempts: number;
  obsDate: string | null;
  updatedAt: string;
  deliveredAt: string | null;
  deliveredName: string | null;
  repoPath: string | null;
  warnings: string[];
  errorCode: string | null;
  errorMessage: string | null;
}

/** The `--json` document. `recent` is absent with `--failed`. */
export interface StatusDocument {
  version: number;
  ledger: string;
  service: { running: boolean; udp: string };
  counts: LedgerCounts;
  recent?: StatusJob[];
  /** Failures still standing (the newest job of their file failed), newest first. */
  failures: StatusJob[];
  /** Failed jobs whose file has been processed again since (not listed). */
  supersededFailures: number;
}

export const registerStatus: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('status')
    .description(descriptionOf('status'))
    .option('-c, --config <file>', 'YAML configuration (default: $DATAMAN_CONFIG or the reference path); its paths.stateDir holds the ledger')
    .option('--json', 'print one JSON document (stable fields, see "version")')
    .option('--failed', 'only the failures; exit status 1 if there are any')
    .option('-n, --limit <n>', 'how many recent files (and, without --failed, failures) to list', '10')
    .addHelpText('after', `
Failures are those still standing: a file processed again since its failure is not listed.
${SERVICE_RUNNING_HELP}
Exit status: 0; 1 with --failed when there are failures; 2 for a wrong command line or
configuration (or no ledger in paths.stateDir).
`)
    .action(async (opts: StatusOpts) => {
      const limit = positiveInteger('--limit', opts.limit, 10);
      const config = await operatorConfig(ctx, opts.config);
      const running = await serviceRunning(config);
      const ledger = openOperatorLedger(config, { mustExist: true });
      let doc: StatusDocument;
      try {
        const { outstanding, superseded } = outstandingFailures(ledger);
        doc = {
          version: STATUS_JSON_VERSION,
          ledger: ledger.file,
          service: { running, udp: udpAddress(config) },
          counts: ledger.countsByState(),
          ...(opts.failed ? {} : { recent: ledger.recent(limit).map(jobOf) }),
          failures: (opts.failed ? outstanding : outstanding.slice(0, limit)).map(jobOf),
          supersededFailures: superseded,
        };
        if (opts.json) ctx.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
        else ctx.stdout.write(formatStatus(doc, config, { failedOnly: opts.failed === true, moreFailures: outstanding.length - doc.failures.length }));
      } finally {
        ledger.close();
      }
      if (opts.failed && doc.failures.length > 0) failWith(ctx, ExitCode.failed);
    });
};

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function jobOf(r: LedgerRow): StatusJob {
  return {
    id: r.id, name: r.name, path: r.path, channel: r.channel, origin: r.origin, state: r.state, attempts: r.attempts,
    obsDate: r.obsDate, updatedAt: iso(r.updatedAt)!, deliveredAt: iso(r.deliveredAt), deliveredName: r.deliveredName,
    repoPath: r.repoPath, warnings: r.warnings, errorCode: r.errorCode, errorMessage: r.errorMessage,
  };
}

/** A left-aligned text table, columns two spaces apart. */
function table(rows: string[][], rightAligned: (column: number) => boolean = () => false): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((cell, c) => (rightAligned(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()}\n`).join('');
}

function formatStatus(doc: StatusDocument, config: DatamanConfig, o: { failedOnly: boolean; moreFailures: number }): string {
  const time = (s: string) => localTime(Date.parse(s), config.timeZone);
  let out = `ledger ${doc.ledger}: ${doc.counts.total} job${doc.counts.total === 1 ? '' : 's'}\n`;
  out += `service: ${doc.service.running ? 'running' : 'not running'} (UDP ${doc.service.udp} ${doc.service.running ? 'in use' : 'free'})\n`;
  if (!o.failedOnly) {
    const channels = Object.keys(doc.counts.byChannel).sort();
    const states = LEDGER_STATES.filter((s) => doc.counts.byState[s] > 0);
    if (states.length > 0) {
      out += '\nby state:\n';
      out += table([
        ['state', 'total', ...channels],
        ...states.map((s) => [s, String(doc.counts.byState[s]), ...channels.map((c) => String(doc.counts.byChannel[c]![s]))]),
      ], (c) => c > 0);
    }
    const recent = doc.recent ?? [];
    if (recent.length > 0) {
      out += `\nlast ${recent.length} file${recent.length === 1 ? '' : 's'}:\n`;
      out += table([
        ['time', 'name', 'channel', 'state', 'delivered as', 'warnings'],
        ...recent.map((j) => [time(j.updatedAt), j.name, j.channel ?? '-', j.state, j.deliveredName ?? '-', String(j.warnings.length)]),
      ]);
    }
  }
  if (doc.failures.length === 0) {
    out += '\nno failures';
  } else {
    out += `\nfailures (${doc.failures.length}${o.moreFailures > 0 ? ` of ${doc.failures.length + o.moreFailures}; all with --failed` : ''}):\n`;
    for (const j of doc.failures) {
      out += `  ${time(j.updatedAt)}  ${j.name}  ${j.channel ?? '-'}  ${j.origin}  [${j.errorCode ?? 'unknown'}] ${j.errorMessage ?? '(no reason recorded)'}\n`;
    }
  }
  if (doc.supersededFailures > 0) {
    out += `${doc.failures.length === 0 ? ' ' : '  '}(${doc.supersededFailures} earlier failure${doc.supersededFailures === 1 ? '' : 's'} since processed again, not listed)`;
  }
  return out.endsWith('\n') ? out : `${out}\n`;
}
