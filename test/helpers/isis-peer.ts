/**
 * A small ISIS server and plain ISIS nodes on loopback UDP, for the ISIS client's tests. The
 * server routes as `docs/isis.md` §2.7 describes the real one (isisServer
 * interfaces.c, messages.c): any datagram with `src>dest` registers or refreshes `src` at the
 * datagram's source address; `\r`/`\n` are stripped and `\r` re-added; `IS` is the server
 * itself (`PING` answered with `IS>src PONG`), `AL` goes to every client but the sender, anything
 * else is forwarded to the registered host or answered with the "No Route" error.
 *
 * Written independently of src/service/surface/isis/message.ts (no import from it), so that the two
 * cannot agree on a mistake.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface Address {
  address: string;
  port: number;
}

/** One datagram the server received, as received. */
export interface ServerReceived {
  text: string;
  from: Address;
}

function bind(socket: Socket): Promise<Address> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      const { address, port } = socket.address();
      resolve({ address, port });
    });
  });
}

function sendTo(socket: Socket, text: string, to: Address): Promise<void> {
  return new Promise((resolve, reject) => socket.send(Buffer.from(text, 'latin1'), to.port, to.address, (err) => (err ? reject(err) : resolve())));
}

export class IsisPeerServer {
  readonly id = 'IS';
  /** The host table: ID (upper case) to the source address of its latest datagram. */
  readonly hosts = new Map<string, Address>();
  /** Every datagram received, in order. */
  readonly received: ServerReceived[] = [];
  private readonly waiters: Array<{ match: (r: ServerReceived) => boolean; resolve: (r: ServerReceived) => void }> = [];

  private constructor(private readonly socket: Socket, readonly address: Address) {
    socket.on('message', (msg, rinfo) => void this.handle(msg.toString('latin1'), { address: rinfo.address, port: rinfo.port }));
  }

  static async start(): Promise<IsisPeerServer> {
    const socket = createSocket('udp4');
    const address = await bind(socket);
    return new IsisPeerServer(socket, address);
  }

  get port(): number {
    return this.address.port;
  }

  /** Datagrams received from one address. */
  from(address: Address): string[] {
    return this.received.filter((r) => r.from.address === address.address && r.from.port === address.port).map((r) => r.text);
  }

  /** The next datagram received that matches (counting only those after this call). */
  next(match: (r: ServerReceived) => boolean): Promise<ServerReceived> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** What the server sends at start and on HANDSHAKE: `IS>AL PING` to every known host. */
  async handshake(): Promise<void> {
    for (const [, to] of this.hosts) await sendTo(this.socket, 'IS>AL PING\r', to);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private async handle(text: string, from: Address): Promise<void> {
    const got = { text, from };
    this.received.push(got);
    for (const w of [...this.waiters]) {
      if (w.match(got)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(got);
      }
    }
    const line = text.replace(/[\r\n]+/g, '');
    const space = line.indexOf(' ');
    const header = space < 0 ? line : line.slice(0, space);
    const body = space < 0 ? '' : line.slice(space + 1).trim();
    const gt = header.indexOf('>');
    if (gt < 0) return; // not a routable message: the real server logs it
    const src = header.slice(0, gt).toUpperCase();
    const dest = header.slice(gt + 1).toUpperCase();
    this.hosts.set(src, from); // implicit registration, before anything else
    if (body === '') return; // heartbeat
    if (dest === this.id) return this.command(src, body, from);
    if (dest === 'AL' || dest === 'ALL') {
      for (const [id, to] of this.hosts) if (id !== src) await sendTo(this.socket, `${src}>${dest} ${body}\r`, to);
      return;
    }
    const to = this.hosts.get(dest);
    if (to === undefined) {
      await sendTo(this.socket, `IS>${src} ERROR: No Route to Destination Host ${dest} - host is unknown/unlisted\r`, from);
      return;
    }
    await sendTo(this.socket, `${src}>${dest} ${body}\r`, to);
  }

  private async command(src: string, body: string, from: Address): Promise<void> {
    const word = body.split(/ +/)[0]!.toUpperCase();
    if (word === 'PING') return sendTo(this.socket, `IS>${src} PONG\r`, from);
    if (word === 'PONG' || /^(DONE|STATUS|ERROR|WARNING|FATAL):$/.test(word)) return; // echoed or logged only
    if (word === 'HANDSHAKE') return this.handshake();
    return sendTo(this.socket, `IS>${src} ERROR: Unrecognized ISIS command - ${word}\r`, from);
  }
}

/** A plain ISIS node (the GUI `MC1`, a console): sends through the server and collects what it gets. */
export class IsisPeerNode {
  /** Every message received, terminators kept. */
  readonly received: string[] = [];
  private readonly waiters: Array<{ match: (text: string) => boolean; resolve: (text: string) => void }> = [];

  private constructor(readonly id: string, private readonly socket: Socket, readonly address: Address, private readonly server: Address) {
    socket.on('message', (msg) => {
      const text = msg.toString('latin1');
      this.received.push(text);
      const w = this.waiters.find((x) => x.match(text));
      if (w) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(text);
      }
    });
  }

  /** Binds a node and registers it with the server (PING, then waits for the server's PONG). */
  static async start(server: IsisPeerServer, id: string): Promise<IsisPeerNode> {
    const socket = createSocket('udp4');
    const address = await bind(socket);
    const node = new IsisPeerNode(id, socket, address, server.address);
    const pong = node.next((t) => t === `IS>${id} PONG\r`);
    await node.send(`${id}>IS PING\r`);
    await pong;
    return node;
  }

  /** Sends raw text to the server. */
  send(text: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, this.server.port, this.server.address, (err) => (err ? reject(err) : resolve())));
  }

  /** Sends raw text straight to an address (bypassing the server). */
  sendDirect(text: string, to: Address): Promise<void> {
    return sendTo(this.socket, text, to);
  }

  /** The next message that matches (among those received after this call). */
  next(match: (text: string) => boolean = () => true): Promise<string> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Sends `text` and resolves with the next message from `from` (an ID) to this node. */
  async ask(text: string, from: string): Promise<string> {
    const answer = this.next((t) => t.toUpperCase().startsWith(`${from.toUpperCase()}>${this.id} `));
    await this.send(text);
    return answer;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
