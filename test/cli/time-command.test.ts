import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import type { CliContext } from '../../src/cli/context.js';
import { registerTime } from '../../src/cli/commands/time.js';
import { main } from '../../src/cli/main.js';

/** Time tolerance: 5 µs, in days. */
const FIVE_MICROSECONDS_D = 5e-6 / 86400;

// The example of raw-format.md §8.2. Its MJD-OBS, 61055.17538722223, is the header card's
// 16-significant-digit text of the double below (astropy's t.mjd), which we must return exactly.
const EXAMPLE = { date: '2026-01-15', utc: '04:12:33.456', ra: '04:03:16.946', dec: '+31:30:00.00' };
const EXAMPLE_MJD = 61055.175387222225;

interface TestContext extends CliContext {
  out(): string;
  err(): string;
}

function makeContext(stdinLines: string[] = []): TestContext {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    stdin: Readable.from(stdinLines.map((l) => `${l}\n`)),
    cwd: process.cwd(),
    exitCode: 0,
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

/** Runs `dataman time …` through a program holding only this command (before registration). */
async function runTime(args: string[], ctx: TestContext): Promise<void> {
  const program = new Command('dataman').exitOverride().configureOutput({
    writeOut: (s) => ctx.stdout.write(s),
    writeErr: (s) => ctx.stderr.write(s),
  });
  registerTime(program, ctx);
  await program.parseAsync(['node', 'dataman', 'time', ...args]);
}

function labelled(text: string, label: string): number {
  const m = new RegExp(`^${label}\\s+(\\S+)`, 'm').exec(text);
  assert.ok(m, `no ${label} line in:\n${text}`);
  return Number(m[1]);
}

describe('dataman time', () => {
  it('prints DATE-OBS, MJD-OBS, HJD-OBS and BJD-OBS, labelled, at full precision', async () => {
    const ctx = makeContext();
    await runTime(['--date', EXAMPLE.date, '--utc', EXAMPLE.utc, '--ra', EXAMPLE.ra, '--dec', EXAMPLE.dec], ctx);
    const out = ctx.out();
    assert.match(out, /^DATE-OBS\s+2026-01-15T04:12:33\.456$/m);
    assert.equal(labelled(out, 'MJD-OBS'), EXAMPLE_MJD);
    assert.equal(EXAMPLE_MJD.toPrecision(16), '61055.17538722223');
    const hjd = labelled(out, 'HJD-OBS');
    const bjd = labelled(out, 'BJD-OBS');
    // Light time towards RA 4h in January is ~ +5 min (HJD) and ~ +6 min (BJD incl. TDB-UTC).
    assert.ok(Math.abs(hjd - EXAMPLE_MJD - 312.3 / 86400) < 1 / 86400, `HJD ${hjd}`);
    assert.ok(bjd > hjd, `BJD ${bjd} after HJD ${hjd}`);
    assert.match(String(hjd), /^\d{5}\.\d{10,}$/, 'full double precision');
    assert.equal(ctx.exitCode, 0);
    assert.equal(ctx.err(), '');
  });

  it('accepts a negative declination near zero written --dec=-00:30:00', async () => {
    const a = makeContext();
    await runTime(['--date', EXAMPLE.date, '--utc', EXAMPLE.utc, '--ra', EXAMPLE.ra, '--dec=-00:30:00'], a);
    const b = makeContext();
    await runTime(['--date', EXAMPLE.date, '--utc', EXAMPLE.utc, '--ra', EXAMPLE.ra, '--dec', '-0.5'], b);
    assert.equal(labelled(a.out(), 'HJD-OBS'), labelled(b.out(), 'HJD-OBS'));
  });

  it('prints only MJD-OBS and a warning when no pointing is given', async () => {
    const ctx = makeContext();
    await runTime(['--date', EXAMPLE.date, '--utc', EXAMPLE.utc], ctx);
    assert.equal(labelled(ctx.out(), 'MJD-OBS'), EXAMPLE_MJD);
    assert.doesNotMatch(ctx.out(), /HJD-OBS/);
    assert.match(ctx.err(), /warning: TELRA and TELDEC missing/);
    assert.equal(ctx.exitCode, 0);
  });

  it('uses --site instead of the LBT default', async () => {
    const lbt = makeContext();
    await runTime(['--date', EXAMPLE.date, '--utc', EXAMPLE.utc, '--ra', EXAMPLE.ra, '--dec', EXAMPLE.dec], lbt);
    const other = makeContext();
    await runTime(
      ['--date', EXAMPLE.date, '--utc', EXAMPLE.utc, '--ra', EXAMPLE.ra, '--dec', EXAMPLE.dec, '--site', '-30,70,0'],
      other,
    );
    const d = Math.abs(labelled(lbt.out(), 'BJD-OBS') - labelled(other.out(), 'BJD-OBS')) * 86400;
    assert.ok(d > 1e-6 && d < 45e-3, `another site moves BJD by µs–ms, got ${d} s`);
  });

  it('rejects a malformed --utc, --ra or --site as a usage error naming the text', async () => {
    for (const args of [
      ['--date', EXAMPLE.date, '--utc', '4:12'],
      ['--date', '2026-02-30', '--utc', EXAMPLE.utc],
      ['--date', EXAMPLE.date, '--utc', EXAMPLE.utc, '--ra', '25:00:00', '--dec', '+10:00:00'],
      ['--date', EXAMPLE.date, '--utc', EXAMPLE.utc, '--site', '32.7,-109.9'],
      ['--utc', EXAMPLE.utc],
    ]) {
      const ctx = makeContext();
      await assert.rejects(runTime(args, ctx), (err: Error & { code?: string }) => {
        assert.equal(err.name, 'UsageError', `${args.join(' ')}: ${err.message}`);
        return true;
      });
    }
  });

  it('reads JSON lines and writes one {"mjd","hjd","bjd"} line per input, in order', async () => {
    const ctx = makeContext([
      JSON.stringify(EXAMPLE),
      JSON.stringify({ date: '2026-01-15', utc: '23:59:59.1000' }),
      '',
      JSON.stringify({ date: '2020-06-07', utc: '10:58:58.552', ra: '10:30:33.488', dec: '-00:28:47.59' }),
    ]);
    await runTime(['--json'], ctx);
    const lines = ctx.out().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 3);
    assert.equal(lines[0]?.['mjd'], EXAMPLE_MJD);
    assert.equal(typeof lines[0]?.['hjd'], 'number');
    assert.equal(typeof lines[0]?.['bjd'], 'number');
    // The .1000 carry at 23:59:59 lands on the next day at 0h.
    assert.equal(lines[1]?.['mjd'], 61056);
    assert.equal(lines[1]?.['hjd'], null);
    // An astropy vector (test/time/fixtures/time-lbt.json) with a -00:xx declination.
    assert.ok(Math.abs((lines[2]?.['mjd'] as number) - 59007.45762212963) < FIVE_MICROSECONDS_D);
    assert.ok(Math.abs((lines[2]?.['hjd'] as number) - 59007.456879104415) < FIVE_MICROSECONDS_D);
    assert.ok(Math.abs((lines[2]?.['bjd'] as number) - 59007.457721017316) < FIVE_MICROSECONDS_D);
    assert.equal(ctx.exitCode, 0);
  });

  it('answers a bad JSON line with {"error"} on that line, goes on, and exits 1 at the end', async () => {
    const ctx = makeContext([
      'not json',
      JSON.stringify({ date: '2026-01-15', utc: '04:12:61.000' }),
      JSON.stringify({ date: '2026-01-15' }),
      JSON.stringify({ date: '2026-01-15', utc: '04:12:33.456', ra: 'nowhere', dec: '+10:00:00' }),
      JSON.stringify(EXAMPLE),
    ]);
    await runTime(['--json'], ctx);
    const lines = ctx.out().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 5);
    assert.match(String(lines[0]?.['error']), /line 1 is not JSON/);
    assert.match(String(lines[1]?.['error']), /UTC-OBS "04:12:61.000"/);
    assert.match(String(lines[2]?.['error']), /"utc" should be a string/);
    assert.match(String(lines[3]?.['error']), /TELRA "nowhere"/);
    assert.equal(lines[4]?.['mjd'], EXAMPLE_MJD);
    assert.equal(ctx.exitCode, 1);
  });

  it('runs in-process through main()', async () => {
    const ctx = makeContext();
    const code = await main(
      ['node', 'dataman', 'time', '--date', EXAMPLE.date, '--utc', EXAMPLE.utc, '--ra', EXAMPLE.ra, '--dec', EXAMPLE.dec],
      ctx,
    );
    assert.equal(code, 0);
    assert.equal(labelled(ctx.out(), 'MJD-OBS'), EXAMPLE_MJD);
    const bad = makeContext();
    assert.equal(await main(['node', 'dataman', 'time', '--date', EXAMPLE.date, '--utc', 'noon'], bad), 2);
    assert.match(bad.err(), /UTC-OBS "noon"/);
  });
});
