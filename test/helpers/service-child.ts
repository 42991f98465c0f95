/** `dataman serve` as a child process (test/service/fixtures/serve-child.ts), for tests that kill it or stop it by signal. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../service/fixtures/serve-child.ts', import.meta.url));

export interface ServiceChild {
  child: ChildProcess;
  /** Standard output and error so far. */
  output: () => string;
  /** Resolves once the service has started (`READY <udp port>`). */
  ready: Promise<void>;
  /** Resolves once `n` files have started processing. */
  processing: (n: number) => Promise<void>;
  /** Resolves when the output passes `test`; rejects if the process exits first. */
  until: (test: (output: string) => boolean) => Promise<void>;
}

export function startChild(configPath: string, env: Record<string, string> = {}): ServiceChild {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const waiters: Array<{ test: () => boolean; resolve: () => void }> = [];
  const check = () => {
    for (const w of waiters.splice(0)) {
      if (w.test()) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); check(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const until = (test: (output: string) => boolean) => new Promise<void>((resolve, reject) => {
    if (test(out)) return resolve();
    waiters.push({ test: () => test(out), resolve });
    child.once('exit', () => (test(out) ? resolve() : reject(new Error(`service exited early:\n${out}`))));
  });
  return {
    child,
    output: () => out,
    ready: until((o) => o.includes('READY ')),
    processing: (n) => until((o) => (o.match(/\| Processing /g) ?? []).length >= n),
    until,
  };
}
