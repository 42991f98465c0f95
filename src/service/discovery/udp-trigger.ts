/**
 * The UDP trigger listener (behaviour.md §2.2, raw-format.md §1.3): binds `server.ipAddr:ipPort`,
 * turns each datagram into one event and never answers (azcam's `dmProc` and `nc -u` never read a
 * reply). Nothing that arrives can stop it: every datagram is parsed by the pure `parseTrigger`,
 * and whatever is not a valid `proc`/`quit` becomes an `ignored` event with a reason.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { BlockList, isIP } from 'node:net';
import { DatamanError } from '../../errors.js';
import type { DatamanConfig } from '../../ops/config.js';
import type { Logger } from '../../ops/logger.js';
import { parseTrigger, previewDatagram, type IgnoredCode } from './trigger-parse.js';

export { MAX_DATAGRAM_BYTES, parseTrigger, type IgnoredCode, type ParseOptions, type TriggerCommand } from './trigger-parse.js';

/** A failure of the trigger listener itself (binding, allow-list); `address`/`port` as configured. */
export class TriggerError extends DatamanError {
  readonly address: string | undefined;
  readonly port: number | undefined;
  constructor(code: string, message: string, options: { address?: string; port?: number; hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.address = options.address;
    this.port = options.port;
  }
}

/** Who sent a datagram (IPv4-mapped IPv6 senders are shown as plain IPv4). */
export interface TriggerSender {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Events of {@link UdpTrigger}. */
export interface UdpTriggerEventMap {
  /** A valid `proc <path>`: `name` is the base name, already checked against the raw pattern. */
  proc: [name: string, sender: TriggerSender];
  /** A `quit` from an allowed sender while `allowQuit` is on. */
  quit: [sender: TriggerSender];
  /** A datagram that asks for nothing we do; `preview` is the payload made safe for a log line. */
  ignored: [reason: string, sender: TriggerSender, preview: string, code: IgnoredCode];
  /** The socket failed after start, or a listener of another event threw. */
  error: [err: Error];
}

export interface UdpTriggerOptions {
  /** Address to bind (config `server.ipAddr`); an IPv6 address binds an IPv6 socket. */
  ipAddr: string;
  /** Port to bind (config `server.ipPort`); 0 picks a free one (tests). */
  ipPort: number;
  /** Raw file base-name pattern (config `watch.namePattern`). */
  namePattern: RegExp | string;
  /** Obey `quit` (config `server.allowQuit`). @default true */
  allowQuit?: boolean;
  /** Sender addresses and CIDR blocks allowed; empty = anyone (config `server.allowFrom`). @default [] */
  allowFrom?: readonly string[];
  /**
   * When given, the listener logs what it receives in the reference's words (`received command:`
   * at DEBUG, `Unknown command <word> received` at ERROR, other rejections at WARNING, `Received
   * QUIT command from remote user` at INFO) — the caller then need not log these events again.
   */
  logger?: Logger;
}

/** The listener's options taken from the resolved configuration. */
export function triggerOptionsFromConfig(config: DatamanConfig, logger?: Logger): UdpTriggerOptions {
  return {
    ipAddr: config.server.ipAddr,
    ipPort: config.server.ipPort,
    namePattern: config.watch.namePattern,
    allowQuit: config.server.allowQuit,
    allowFrom: config.server.allowFrom,
    ...(logger ? { logger } : {}),
  };
}

export class UdpTrigger extends EventEmitter<UdpTriggerEventMap> {
  private readonly options: UdpTriggerOptions;
  private readonly namePattern: RegExp;
  private readonly allowed: SenderFilter;
  private socket: Socket | undefined;

  constructor(options: UdpTriggerOptions) {
    super();
    this.options = options;
    this.namePattern = typeof options.namePattern === 'string' ? new RegExp(options.namePattern) : options.namePattern;
    this.allowed = senderFilter(options.allowFrom ?? []);
  }

  /**
   * Binds the socket. Resolves with the bound address (the real port when `ipPort` is 0); rejects
   * with a {@link TriggerError} (`udp-bind`) naming the address and the cause.
   */
  async start(): Promise<{ address: string; port: number }> {
    if (this.socket !== undefined) throw new TriggerError('udp-started', 'the UDP trigger listener is already started');
    const { ipAddr, ipPort } = this.options;
    const socket = createSocket({ type: isIP(ipAddr) === 6 ? 'udp6' : 'udp4' });
    this.socket = socket;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(ipPort, ipAddr, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.socket = undefined;
      socket.close();
      throw bindError(err, ipAddr, ipPort);
    }
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    socket.on('error', (err) => this.report(err));
    const bound = socket.address();
    return { address: bound.address, port: bound.port };
  }

  /** The bound address, or undefined when not started. */
  address(): { address: string; port: number } | undefined {
    if (this.socket === undefined) return undefined;
    const { address, port } = this.socket.address();
    return { address, port };
  }

  /** Closes the socket; resolves when it is closed (at once if it was not open). */
  stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  /** Handles one datagram; public so that a test or the CLI can inject one without a socket. */
  receive(datagram: Buffer, rinfo: Pick<RemoteInfo, 'address' | 'port' | 'family'>): void {
    const sender = normalizeSender(rinfo);
    const log = this.options.logger;
    try {
      if (!this.allowed(sender.address)) {
        this.ignore('sender-not-allowed', `datagram from ${sender.address} ignored: sender not in server.allowFrom`, sender, datagram);
        return;
      }
      const command = parseTrigger(datagram, { namePattern: this.namePattern, allowQuit: this.options.allowQuit ?? true });
      log?.debug(`received command: ${previewDatagram(datagram)} from ${sender.address}:${sender.port}`);
      switch (command.kind) {
        case 'proc':
          this.emit('proc', command.name, sender);
          break;
        case 'quit':
          log?.info(`Received QUIT command from remote user at ${sender.address}`);
          this.emit('quit', sender);
          break;
        case 'ignored':
          this.ignore(command.code, command.reason, sender, datagram);
          break;
      }
    } catch (err) {
      // Only a listener can throw here; it must not take the socket (and the service) down.
      this.report(err);
    }
  }

  private ignore(code: IgnoredCode, reason: string, sender: TriggerSender, datagram: Buffer): void {
    const log = this.options.logger;
    if (log) {
      const from = `(from ${sender.address}:${sender.port})`;
      if (code === 'unknown-command') log.error(`${reason} ${from}`);
      else log.warn(`Ignored trigger datagram ${from}: ${reason}`);
    }
    this.emit('ignored', reason, sender, previewDatagram(datagram), code);
  }

  /** An error nobody listens to is logged (or printed), never thrown: it would end the process. */
  private report(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) {
      this.emit('error', error);
    } else if (this.options.logger) {
      this.options.logger.error(`UDP trigger listener error - ${error.message}`);
    } else {
      process.stderr.write(`dataman: UDP trigger listener error - ${error.stack ?? error.message}\n`);
    }
  }
}

function bindError(err: unknown, address: string, port: number): TriggerError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  const hints: Record<string, string> = {
    EADDRINUSE: 'another process (an older dataMan?) is bound to this port: stop it, or change server.ipPort',
    EADDRNOTAVAIL: 'server.ipAddr is not an address of this host',
    EACCES: 'ports below 1024 need privileges: choose another server.ipPort',
    ENOTFOUND: 'server.ipAddr is not a known host name: give an IP address',
  };
  const hint = hints[code];
  return new TriggerError('udp-bind', `UDP socket binding failed - ${code} ${hostPort(address, port)}`, {
    address, port, cause: err, ...(hint ? { hint } : {}),
  });
}

const hostPort = (address: string, port: number) => (isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`);

function normalizeSender(rinfo: Pick<RemoteInfo, 'address' | 'port' | 'family'>): TriggerSender {
  const address = unmapIPv4(rinfo.address.replace(/%.*$/, ''));
  return { address, port: rinfo.port, family: isIP(address) === 6 ? 'IPv6' : 'IPv4' };
}

/** `::ffff:192.168.139.132` → `192.168.139.132` (an IPv6 socket receiving from an IPv4 sender). */
function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m && isIP(m[1]!) === 4 ? m[1]! : address;
}

/** Decides whether a sender address may trigger; built once from `server.allowFrom`. */
export type SenderFilter = (address: string) => boolean;

/**
 * A filter from addresses and CIDR blocks (`192.168.139.130`, `192.168.139.0/24`, `::1`,
 * `fd00::/8`, `::ffff:192.168.139.0/120`). An empty list lets everyone through. Throws a
 * {@link TriggerError} (`udp-allow-from`) on an entry that is neither.
 */
export function senderFilter(allowFrom: readonly string[]): SenderFilter {
  if (allowFrom.length === 0) return () => true;
  const list = new BlockList();
  for (const entry of allowFrom) {
    const [rawAddress = '', bits, extra] = entry.trim().split('/');
    let address = unmapIPv4(rawAddress);
    const family = isIP(address);
    let prefix = bits === undefined ? (family === 4 ? 32 : 128) : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (family !== 0 && family !== isIP(rawAddress) && bits !== undefined) prefix -= 96; // ::ffff:a.b.c.d/120 → a.b.c.d/24
    if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) {
      throw new TriggerError('udp-allow-from', `server.allowFrom: "${entry}" is not an IPv4/IPv6 address or CIDR block`, {
        hint: 'write an address such as 192.168.139.132 or a block such as 192.168.139.0/24',
      });
    }
    address = address.toLowerCase();
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return (sender) => {
    const address = unmapIPv4(sender.replace(/%.*$/, ''));
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
