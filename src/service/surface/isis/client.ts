/**
 * An ISIS node on UDP (`docs/isis.md` §2.7, §3.4 item 6): one socket, bound to a fixed
 * local port and used for everything it sends. ISIS registers a client implicitly from the source
 * address of its datagrams and sends replies there, so a second socket for sending would make
 * the node unreachable.
 *
 * It knows the protocol, not the service: the answers to its commands are functions handed in.
 * `PING`/`PONG` are handled here because the protocol fixes them (§2.4).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { DatamanError } from '../../../errors.js';
import type { Timers } from '../../../base/clock.js';
import type { Logger } from '../../../ops/logger.js';
import { formatMessage, parseMessage, previewMessage, type IsisMessage, type OutgoingMessage } from './message.js';

/** The ISIS server's own node ID (§2.7). */
export const SERVER_ID = 'IS';
/** The broadcast node and its alias [IMP p.7 §3.2.3]. */
const BROADCAST = new Set(['AL', 'ALL']);

/**
 * A command the node answers: the text after `DONE: <cmd>`, or an `error` (sent as
 * `ERROR: <cmd> <error>`). Command words are matched case-insensitively.
 */
export type CommandHandler = (message: IsisMessage) => { done: string } | { error: string };

export interface IsisClientOptions {
  /** This node's ID, e.g. `M1.BD`. */
  node: string;
  /** The ISIS server, where announcements and pushes go. */
  server: { host: string; port: number };
  /** The node's own address; port 0 picks a free one (tests). */
  local: { host: string; port: number };
  /** `PING` to the server again this often, ms. */
  pingIntervalMs: number;
  /** Commands beyond `PING`/`PONG`, by lower-case command word. */
  commands: ReadonlyMap<string, CommandHandler>;
  timers: Timers;
  logger: Logger;
}

export class IsisClient {
  private socket: Socket | undefined;
  private pingTimer: unknown;
  /** The last send failure logged, so that an unreachable server is one warning, not one per ping. */
  private lastSendError: string | undefined;

  constructor(private readonly options: IsisClientOptions) {}

  get node(): string {
    return this.options.node.toUpperCase();
  }

  /**
   * Binds the socket, announces the node with `<ID>>IS PING` and schedules the next one.
   * Rejects with a {@link DatamanError} (`isis-bind`) naming the address when the port is taken.
   */
  async start(): Promise<{ host: string; port: number }> {
    if (this.socket !== undefined) throw new DatamanError('isis-started', 'the ISIS client is already started');
    const { host, port } = this.options.local;
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw new DatamanError('isis-bind', `cannot bind the ISIS client to ${host}:${port}: ${(err as Error).message}`, {
        hint: 'isis.localHost must be an address of this machine and isis.localPort a UDP port no other program uses',
        cause: err,
      });
    }
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    // A UDP socket's errors (an ICMP unreachable reported late) must not stop the service.
    socket.on('error', (err) => this.options.logger.warn(`ISIS socket: ${err.message}`));
    const bound = socket.address();
    this.ping();
    return { host: bound.address, port: bound.port };
  }

  /** Stops pinging and closes the socket; resolves when it is closed. */
  close(): Promise<void> {
    this.options.timers.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  /** Sends an unsolicited message through the server (a push to the GUI). */
  send(message: Omit<OutgoingMessage, 'src'>): void {
    this.transmit({ ...message, src: this.node }, this.options.server);
  }

  /** Registers with the server (implicit registration, §2.7) and keeps the entry fresh. */
  private ping(): void {
    this.send({ dest: SERVER_ID, command: 'PING' });
    this.pingTimer = this.options.timers.setTimeout(() => this.ping(), this.options.pingIntervalMs);
  }

  /** Handles one datagram. */
  private receive(datagram: Buffer, rinfo: RemoteInfo): void {
    const log = this.options.logger;
    const from = `${rinfo.address}:${rinfo.port}`;
    const parsed = parseMessage(datagram);
    if (!parsed.ok) {
      // Logged and dropped, never answered: an ERROR to a malformed message is forbidden (§2.5).
      log.warn(`ISIS: ${parsed.oversized ? 'OVERSIZED ' : ''}malformed message from ${from} ignored (${parsed.reason}): ${previewMessage(datagram)}`);
      return;
    }
    const m = parsed.message;
    log.debug(`ISIS: received ${previewMessage(datagram)} from ${from}`);
    if (m.dest !== this.node && !BROADCAST.has(m.dest)) {
      log.warn(`ISIS: message for ${m.dest} from ${from} ignored (this node is ${this.node}): ${previewMessage(datagram)}`);
      return;
    }
    if (m.command === undefined) return; // a heartbeat: accepted without a word (§2.4)
    if (m.type !== 'REQ' && m.type !== 'EXEC') {
      // Replies and notices (a PONG from the server, its "No Route" error) close nothing here;
      // answering one could start an endless exchange.
      log[m.type === 'ERROR' || m.type === 'FATAL' ? 'warn' : 'debug'](`ISIS: ${m.src} says ${m.type}: ${m.command} ${m.body}`.trimEnd());
      return;
    }
    const word = m.command.toLowerCase();
    // Replies go back where the request came from: the ISIS server's port when it routed it,
    // or a peer that talked to this node directly.
    const reply = (rest: Omit<OutgoingMessage, 'src' | 'dest'>) => this.transmit({ ...rest, src: this.node, dest: m.src }, { host: rinfo.address, port: rinfo.port });
    if (word === 'ping') return reply({ command: 'PONG' });
    if (word === 'pong') return; // a PONG is never answered (§2.4)
    const handler = this.options.commands.get(word);
    if (handler === undefined) {
      // A broadcast is for everyone: commands this node does not know are not its business, and
      // an ERROR from every node to a broadcast is the storm the protocol avoids (§2.5).
      if (BROADCAST.has(m.dest)) return;
      log.info(`ISIS: unknown command "${m.command}" from ${m.src}`);
      return reply({ type: 'ERROR', command: m.command, body: 'Unknown command' });
    }
    let answer: ReturnType<CommandHandler>;
    try {
      answer = handler(m);
    } catch (err) {
      log.error(`ISIS: ${m.command} from ${m.src} failed: ${(err as Error).message}`);
      answer = { error: 'internal error, see the dataman log' };
    }
    if ('done' in answer) reply({ type: 'DONE', command: m.command, body: answer.done });
    else reply({ type: 'ERROR', command: m.command, body: answer.error });
  }

  private transmit(message: OutgoingMessage, to: { host: string; port: number }): void {
    const socket = this.socket;
    if (socket === undefined) return;
    let text: string;
    try {
      text = formatMessage(message);
    } catch (err) {
      this.options.logger.error(`ISIS: cannot send to ${message.dest}: ${(err as Error).message}`);
      return;
    }
    this.options.logger.debug(`ISIS: sending ${previewMessage(text)} to ${to.host}:${to.port}`);
    socket.send(Buffer.from(text, 'latin1'), to.port, to.host, (err) => {
      if (err) {
        if (err.message !== this.lastSendError) this.options.logger.warn(`ISIS: cannot send to ${to.host}:${to.port}: ${err.message}`);
        this.lastSendError = err.message;
      } else {
        this.lastSendError = undefined;
      }
    });
  }
}
