/**
 * Timing whole processes (interpreter start-up included), for the command-line benchmarks and
 * the comparison with the reference Python dataMan.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Whole { wallMs: number; cpuMs?: number; maxRssMb?: number }

const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Runs a command; whole-process wall (hrtime around the spawn), CPU and peak RSS (/usr/bin/time, when present). */
export async function measured(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeFile: string, options: { allowFailure?: boolean } = {}): Promise<{ stdout: string; status: number | null; whole: Whole }> {
  const full = timeBin ? [timeBin, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args]] as const : [cmd, args] as const;
  const t0 = performance.now();
  const r = spawnSync(full[0], [...full[1]], { encoding: 'utf8', env, maxBuffer: 64 * 2 ** 20 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0 && !options.allowFailure) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const whole: Whole = { wallMs };
  if (timeBin) {
    const [, user, sys, rssKb] = (await readFile(timeFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
    whole.cpuMs = (user! + sys!) * 1000;
    whole.maxRssMb = rssKb! / 1024;
  }
  return { stdout: r.stdout, status: r.status, whole };
}

/**
 * An environment in which astropy runs offline by configuration (a private XDG_CONFIG_HOME):
 * with auto_download on and no network, astropy retries the IERS-A download on every
 * fixDateTime call and a DNS time-out adds seconds at random (see bench/reference-python.ts).
 */
export async function astropyOfflineEnv(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<NodeJS.ProcessEnv> {
  await mkdir(join(dir, 'xdg-config', 'astropy'), { recursive: true });
  await writeFile(join(dir, 'xdg-config', 'astropy', 'astropy.cfg'), '[utils.data]\nallow_internet = False\n\n[utils.iers.iers]\nauto_download = False\n');
  return { ...env, XDG_CONFIG_HOME: join(dir, 'xdg-config') };
}

/** The median of the finite values (NaN when there is none). */
export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
