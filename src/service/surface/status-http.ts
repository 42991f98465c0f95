/**
 * The read-only operator surface over plain `node:http` (spec: loopback by default):
 *
 *   GET /                     the status page (HTML, reloads itself)
 *   GET /status.json          the same snapshot as JSON, plus health
 *   GET /metrics              Prometheus text format (prom-client registry)
 *   GET /healthz              200 `ok`, or 503 `unhealthy: <code> <what> since <time>; …` on one line
 *   GET /quicklook/<chan>.png the channel's latest quick look
 *   GET /file/<name>          one file's page: ledger history, warnings, header cards, quick look
 *   GET /file/<name>/quicklook.png  that file's quick look (made on first view)
 *
 * A file name that is not a plain base name (a folder, `..`, odd characters) is a 404 that says
 * so, as is a name the ledger does not know.
 * Anything else is 404 (405 for a method other than GET/HEAD). A handler that throws answers
 * 500 and is logged; a malformed request is answered 400 by Node and never reaches us. Nothing
 * here writes anything except the health probe's dot-file in repoDir.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../../ops/logger.js';
import { checkHealth, healthLine, readStatus, type ReadStatusOptions, type StatusSource } from './status-source.js';
import { renderStatusPage } from './status-page.js';
import { badFileName, fileQuickLook, readFileDetail } from './file-detail.js';
import { renderFilePage } from './file-page.js';

export interface StatusServerOptions extends ReadStatusOptions {
  /** Address to bind. @default 127.0.0.1 (config `http.host`) */
  host?: string;
  /** Port; 0 picks a free one (tests). @default 8080 (config `http.port`) */
  port?: number;
  /** Seconds between reloads of the page. @default 5 */
  refreshSeconds?: number;
  /** Where handler errors go. @default standard error */
  logger?: Logger;
}

export interface StatusServer {
  /** The bound address: `http://${host}:${port}/` serves the page. */
  address: { host: string; port: number };
  /** Stops listening and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

/** Starts the HTTP server; resolves once it listens. */
export async function startStatusServer(source: StatusSource, registry: Registry, options: StatusServerOptions = {}): Promise<StatusServer> {
  const host = options.host ?? '127.0.0.1';
  const report = (message: string) => (options.logger ? options.logger.error(message) : process.stderr.write(`${message}\n`));

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      report(`status page: ${req.method ?? '?'} ${req.url ?? '?'} failed: ${err.stack ?? err.message}`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error, see the dataman log\n');
      else res.destroy();
    });
  });
  // A client that sends garbage gets a 400 from Node; make sure it cannot leave a socket open.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://status.invalid').pathname;
    } catch {
      return send(res, 400, 'text/plain; charset=utf-8', 'bad request\n');
    }
    if (path === '/' || path === '/index.html') {
      const [snapshot, health] = await Promise.all([readStatus(source, options), checkHealth(source)]);
      return send(res, 200, 'text/html; charset=utf-8', renderStatusPage(snapshot, health, options));
    }
    if (path === '/status.json') {
      const [snapshot, health] = await Promise.all([readStatus(source, options), checkHealth(source)]);
      return send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify({ ...snapshot, health }, null, 1)}\n`);
    }
    if (path === '/metrics') {
      const text = await registry.metrics();
      return send(res, 200, registry.contentType, text);
    }
    if (path === '/healthz') {
      // One line: monitoring systems (and systemd's probes) show the first line of the body.
      const health = await checkHealth(source);
      return send(res, health.ok ? 200 : 503, 'text/plain; charset=utf-8', `${healthLine(health)}\n`);
    }
    const file = /^\/file\/([^/]*)(\/quicklook\.png)?$/.exec(path);
    if (file !== null) return serveFile(res, file[1]!, file[2] !== undefined);
    const look = /^\/quicklook\/([a-z0-9_-]+)\.png$/i.exec(path);
    if (look !== null && source.channels.includes(look[1]!)) {
      const file = source.quickLook(look[1]!);
      // Gone between the check and the read is a 404 too (replaced by rename, never deleted, but be safe).
      const bytes = file === undefined ? undefined : await readFile(file).catch(() => undefined);
      if (bytes !== undefined) return send(res, 200, 'image/png', bytes);
    }
    return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }

  /** `/file/<name>` and its quick look; `encoded` is the path segment as requested. */
  async function serveFile(res: ServerResponse, encoded: string, png: boolean): Promise<void> {
    let name: string;
    try {
      name = decodeURIComponent(encoded);
    } catch {
      return send(res, 404, 'text/plain; charset=utf-8', `not found: ${JSON.stringify(encoded)} is not a file name (bad %-encoding)\n`);
    }
    const bad = badFileName(name);
    if (bad !== null) return send(res, 404, 'text/plain; charset=utf-8', `not found: ${bad}\n`);
    if (png) {
      const dir = source.fileQuickLookDir;
      const file = dir === undefined ? undefined : await fileQuickLook(source, dir, name);
      if (file === undefined) return send(res, 404, 'text/plain; charset=utf-8', `not found: no processed file named ${name}\n`);
      return send(res, 200, 'image/png', await readFile(file));
    }
    const detail = await readFileDetail(source, name);
    if (detail === undefined) return send(res, 404, 'text/plain; charset=utf-8', `not found: the ledger has no file named ${name}\n`);
    return send(res, 200, 'text/html; charset=utf-8', renderFilePage(detail, source.timeZone ?? 'UTC'));
  }

  function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': bytes.length });
    res.end(res.req.method === 'HEAD' ? undefined : bytes);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => report(`status page: ${err.message}`));
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
