/**
 * The azcam → dataMan trigger (docs/raw-format.md §1.3): one UDP datagram `proc <fullpath>`,
 * single space, no newline, fire-and-forget, sent after the file is complete.
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';

/** azcam's data folder on the Archon servers, the directory part of every trigger. */
export const AZCAM_DATA_FOLDER = '/home/data';

/** The datagram text for a raw base name: `proc /home/data/<name>`. */
export function procMessage(name: string, folder: string = AZCAM_DATA_FOLDER): string {
  return `proc ${folder.replace(/\/+$/, '')}/${name}`;
}

/** Parses `HOST:PORT` (`[v6]:PORT` for IPv6); undefined when malformed. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

/** Sends one datagram; resolves when the socket has handed it to the OS. */
export async function sendDatagram(host: string, port: number, text: string): Promise<void> {
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.send(Buffer.from(text, 'utf8'), port, host, (err) => (err ? reject(err) : resolve()));
    });
  } finally {
    socket.close();
  }
}
