/**
 * External tools used by conformance tests: fitsverify (HEASARC) and a Python with astropy.
 * Each is optional on a developer machine (tests that need one are skipped, saying why) and
 * installed by .ci/run so that CI always runs them.
 */
import { spawnSync } from 'node:child_process';

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * In CI (.ci/run sets DATAMAN_REQUIRE_TOOLS=1) a missing tool is a failure, not a skip, so that a
 * broken install step cannot turn conformance tests into silent skips.
 */
export function skipUnless(t: { skip(message: string): void }, present: boolean, missing: string): boolean {
  if (present) return false;
  if (process.env.DATAMAN_REQUIRE_TOOLS === '1') throw new Error(`${missing}; DATAMAN_REQUIRE_TOOLS=1 requires it`);
  t.skip(missing);
  return true;
}

let fitsverifyCache: string | null | undefined;
/** Path of fitsverify, or null when it is not installed. */
export function fitsverify(): string | null {
  if (fitsverifyCache === undefined) {
    const r = spawnSync('sh', ['-c', 'command -v fitsverify'], { encoding: 'utf8' });
    fitsverifyCache = r.status === 0 ? r.stdout.trim() : null;
  }
  return fitsverifyCache;
}
export const FITSVERIFY_MISSING = 'fitsverify not installed (apt-get install fitsverify)';

let pythonCache: string | null | undefined;
/**
 * A Python interpreter that imports astropy: $DATAMAN_PYTHON, else Debian's /usr/bin/python3
 * (python3-astropy), else python3 on the PATH. null when none has astropy.
 */
export function astropyPython(): string | null {
  if (pythonCache === undefined) {
    const candidates = [process.env.DATAMAN_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
    pythonCache = candidates.find((c) => works(c, ['-c', 'import astropy'])) ?? null;
  }
  return pythonCache;
}
export const ASTROPY_MISSING = 'astropy not installed (apt-get install python3-astropy, or set DATAMAN_PYTHON)';

/** Runs a Python script with astropy; returns stdout, throws with stderr on failure. */
export function runPython(script: string, args: string[] = []): string {
  const python = astropyPython();
  if (python === null) throw new Error(ASTROPY_MISSING);
  const r = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export interface FitsverifyResult {
  errors: number;
  warnings: number;
  output: string;
}

/** Runs fitsverify on one file and reads its error and warning counts. */
export function runFitsverify(path: string): FitsverifyResult {
  const tool = fitsverify();
  if (tool === null) throw new Error(FITSVERIFY_MISSING);
  const r = spawnSync(tool, [path], { encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  const m = /\*\*\*\*\s*Verification found (\d+) warning\(s\) and (\d+) error\(s\)/.exec(output);
  if (!m) throw new Error(`cannot read fitsverify's summary:\n${output}`);
  return { warnings: Number(m[1]), errors: Number(m[2]), output };
}
