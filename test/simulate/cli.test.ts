import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { registerSimulate } from '../../src/cli/commands/simulate.js';
import type { CliContext } from '../../src/cli/context.js';
import { DatamanError } from '../../src/errors.js';
import { bufferSource, readHdus } from '../../src/fits/index.js';
import { observingDate } from '../../src/ops/obs-date.js';
import { parseHostPort, procMessage } from '../../src/simulate/index.js';

/**
 * Runs `dataman simulate ARGS…` in-process with only this command registered (the lead wires
 * it into src/cli/commands/index.ts), handling errors the way src/cli/main.ts does.
 */
async function simulate(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    stdout: { write: (s: string) => { stdout += s; return true; } },
    stderr: { write: (s: string) => { stderr += s; return true; } },
    stdin: Readable.from([]),
    cwd,
    exitCode: 0,
  };
  const program = new Command('dataman').exitOverride().configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  registerSimulate(program, ctx);
  try {
    await program.parseAsync(['node', 'dataman', 'simulate', ...args]);
  } catch (err) {
    if (err instanceof CommanderError) ctx.exitCode = err.exitCode === 0 ? 0 : 2;
    else if (err instanceof DatamanError) {
      stderr += `dataman: ${err.message}\n`;
      ctx.exitCode = err.exitCode;
    } else throw err;
  }
  return { code: ctx.exitCode, stdout, stderr };
}

async function freshDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dataman-simulate-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('dataman simulate', () => {
  test('writes into --out (created if needed) relative to the working folder and prints path and size', async (t) => {
    const cwd = await freshDir(t);
    const r = await simulate(['--out', 'raw', '--instrument', 'MODS2R', '--roi', '1k', '--date', '20260120', '--seq', '3'], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${join('raw', 'mods2r.20260120.0003.fits')} 2298240 bytes\n`);
    assert.equal((await stat(join(cwd, 'raw', 'mods2r.20260120.0003.fits'))).size, 2_298_240);
  });

  test('writes --count files with consecutive sequence numbers and seeds', async (t) => {
    const cwd = await freshDir(t);
    const r = await simulate(['--instrument', 'MODS2R', '--roi', '1k', '--date', '20260120', '--count', '2', '--seq', '41'], cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'mods2r.20260120.0041.fits 2298240 bytes\nmods2r.20260120.0042.fits 2298240 bytes\n');
    const a = await readFile(join(cwd, 'mods2r.20260120.0041.fits'));
    const b = await readFile(join(cwd, 'mods2r.20260120.0042.fits'));
    const hdusA = await readHdus(bufferSource(a));
    assert.equal(hdusA[0]!.header.value('INSTRUME'), 'MODS2R');
    assert.equal(hdusA[0]!.header.value('FILENAME'), 'mods2r.20260120.0041.fits');
    assert.notDeepEqual(a.subarray(hdusA[1]!.dataOffset, hdusA[1]!.dataOffset + 1000), b.subarray(hdusA[1]!.dataOffset, hdusA[1]!.dataOffset + 1000));
  });

  test('defaults: MODS1B, full frame, the current observing date, the next free number', async (t) => {
    const cwd = await freshDir(t);
    const date = observingDate(Date.now(), 'America/Phoenix');
    await writeFile(join(cwd, `mods1b.${date}.0005.fits`), '');
    const r = await simulate(['--out', cwd, '--no-telescope', '--no-instrument'], '/');
    assert.equal(r.code, 0, r.stderr);
    const path = join(cwd, `mods1b.${date}.0006.fits`);
    assert.equal(r.stdout, `${path} 51664320 bytes\n`);
    assert.equal((await stat(path)).size, 51_664_320);
    const hdus = await readHdus(bufferSource(await readFile(path)));
    assert.equal(hdus[0]!.header.cards.length, 78);
  });

  test('--instrument and --no-instrument work together', async (t) => {
    const cwd = await freshDir(t);
    const r = await simulate(['--instrument', 'MODS1R', '--no-instrument', '--roi', '1k', '--date', '20260120', '--seq', '1'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const h = (await readHdus(bufferSource(await readFile(join(cwd, 'mods1r.20260120.0001.fits')))))[0]!.header;
    assert.equal(h.value('INSTRUME'), 'MODS1R');
    assert.equal(h.has('GRATNAME'), false, 'no Instrument block');
    assert.equal(h.has('TELRA'), true, 'Telescope block kept');
    assert.equal(h.cards.length, 78 + 79);
  });

  test('--bin, --image-type, --object, --exptime and --broken reach the file', async (t) => {
    const cwd = await freshDir(t);
    const r = await simulate([
      '--roi', '1kx1k', '--bin', '2x2', '--image-type', 'flat', '--object', 'Dome flat', '--exptime', '12.5', '--date', '20260120', '--seq', '1',
      '--broken', 'imagetyp-upper,no-conpars', '--missing-keywords', 'TELRA,REF-PIX1', '--seed', '99',
    ], cwd);
    assert.equal(r.code, 0, r.stderr);
    const hdus = await readHdus(bufferSource(await readFile(join(cwd, 'mods1b.20260120.0001.fits'))));
    const h = hdus[0]!.header;
    assert.equal(hdus.length, 5);
    assert.deepEqual(hdus[1]!.axes, [288, 256]);
    assert.deepEqual([h.value('IMAGETYP'), h.value('OBJECT'), h.value('EXPTIME'), h.value('INTMS')], ['FLAT', 'Dome flat', 12.5, 12500]);
    assert.equal(h.has('TELRA'), false);
    assert.equal(h.has('REF-PIX1'), false);
  });

  test('--kind picks what the frames record; mix follows a night: bias, flat, arc, object, object, std', async (t) => {
    const cwd = await freshDir(t);
    const r = await simulate(['--roi', '1k', '--bin', '8x8', '--kind', 'mix', '--count', '7', '--date', '20260120', '--seq', '1'], cwd);
    assert.equal(r.code, 0, r.stderr);
    const types: unknown[] = [];
    for (let seq = 1; seq <= 7; seq++) {
      const h = (await readHdus(bufferSource(await readFile(join(cwd, `mods1b.20260120.000${seq}.fits`)))))[0]!.header;
      types.push([h.value('IMAGETYP'), h.value('EXPTIME')]);
    }
    assert.deepEqual(types, [['bias', 0], ['flat', 10], ['comp', 10], ['object', 300], ['object', 300], ['std', 30], ['bias', 0]]);
    const arc = await simulate(['--roi', '1k', '--kind', 'arc', '--exptime', '4', '--date', '20260120', '--seq', '20'], cwd);
    assert.equal(arc.code, 0, arc.stderr);
    const h = (await readHdus(bufferSource(await readFile(join(cwd, 'mods1b.20260120.0020.fits')))))[0]!.header;
    assert.deepEqual([h.value('IMAGETYP'), h.value('EXPTIME'), h.value('OBJECT')], ['comp', 4, 'Comparison lamps']);
    const bad = await simulate(['--kind', 'sunset'], cwd);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--kind must be one of object, std, arc, flat, bias, dark, mix/);
  });

  test('--truncate-at writes a short file; --write slow and azcam write complete ones', async (t) => {
    const cwd = await freshDir(t);
    const common = ['--roi', '1k', '--date', '20260120'];
    assert.equal((await simulate([...common, '--seq', '1', '--truncate-at', '12345'], cwd)).stdout, 'mods1b.20260120.0001.fits 12345 bytes\n');
    const slow = await simulate([...common, '--seq', '2', '--write', 'slow', '--chunk-bytes', '1000000', '--chunk-delay-ms', '1'], cwd);
    assert.equal(slow.code, 0, slow.stderr);
    const azcam = await simulate([...common, '--seq', '3', '--write', 'azcam', '--conpars-delay-ms', '1'], cwd);
    assert.equal(azcam.code, 0, azcam.stderr);
    for (const seq of ['0002', '0003']) assert.equal((await stat(join(cwd, `mods1b.20260120.${seq}.fits`))).size, 2_298_240);
  });

  test('--udp sends azcam\'s "proc /home/data/<name>" datagram after each file', async (t) => {
    const cwd = await freshDir(t);
    const socket = createSocket('udp4');
    t.after(() => socket.close());
    const received: string[] = [];
    const two = new Promise<void>((resolve) => {
      socket.on('message', (msg) => {
        received.push(msg.toString('utf8'));
        if (received.length === 2) resolve();
      });
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const { port } = socket.address();
    const r = await simulate(['--roi', '1k', '--date', '20260120', '--seq', '9', '--count', '2', '--udp', `127.0.0.1:${port}`], cwd);
    assert.equal(r.code, 0, r.stderr);
    await two;
    assert.deepEqual(received, ['proc /home/data/mods1b.20260120.0009.fits', 'proc /home/data/mods1b.20260120.0010.fits']);
  });

  test('bad options are usage errors (exit status 2) that say what is wrong', async (t) => {
    const cwd = await freshDir(t);
    const cases: Array<[string[], RegExp]> = [
      [['--instrument', 'MODS3B'], /--instrument must be/],
      [['--roi', '2k'], /unknown ROI "2k"/],
      [['--bin', '2by2'], /binning must be CxR/],
      [['--write', 'fast'], /--write must be one of/],
      [['--broken', 'melted'], /unknown broken variant/],
      [['--count', 'two'], /--count must be an integer/],
      [['--seq', '9999', '--count', '2'], /would pass 9999/],
      [['--udp', 'localhost'], /--udp must be HOST:PORT/],
      [['--date', '20261301'], /calendar date/],
      [['--exptime', '-1'], /--exptime must be a non-negative number/],
      [['--out', 'sub', '--roi', 'huge'], /unknown ROI "huge"/],
      [['--utc-start', '2026-01-15T04:00:00'], /UTC start must be an ISO 8601 instant with a zone/],
    ];
    for (const [args, message] of cases) {
      const r = await simulate(['--roi', '1k', ...args], cwd);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.deepEqual(await readdir(cwd), [], 'nothing written, no folder created');
  });
});

describe('trigger helpers', () => {
  test('procMessage is "proc <folder>/<name>", single space, no newline', () => {
    assert.equal(procMessage('mods1b.20260115.0001.fits'), 'proc /home/data/mods1b.20260115.0001.fits');
    assert.equal(procMessage('x.fits', '/data/mods1b/'), 'proc /data/mods1b/x.fits');
  });

  test('parseHostPort accepts HOST:PORT and [v6]:PORT', () => {
    assert.deepEqual(parseHostPort('192.168.139.130:10301'), { host: '192.168.139.130', port: 10301 });
    assert.deepEqual(parseHostPort('[::1]:10301'), { host: '::1', port: 10301 });
    assert.equal(parseHostPort('host:0'), undefined);
    assert.equal(parseHostPort('host'), undefined);
  });
});
