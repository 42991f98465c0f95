import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Header, type Card } from '../../src/fits/index.js';
import {
  formatFixed, formatNightLogLine, nightLogHeaderLine, NIGHTLOG_COLUMNS, pyFloatRepr, pyFormat, PyFormatError,
} from '../../src/nightlog/index.js';
import { createPrng } from '../../src/simulate/prng.js';
import { generateAndProcess } from '../helpers/processing.js';
import { tempDir } from '../helpers/temp.js';
import { ASTROPY_MISSING, astropyPython, runPython, skipUnless } from '../helpers/tools.js';

const PYTHON3 = spawnSync('python3', ['-c', 'import json'], { encoding: 'utf8' }).status === 0;
const PYTHON3_MISSING = 'python3 not installed';

function python(script: string, input: unknown): unknown {
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * The modsLog loop, transcribed on its own from docs/nightlog.md (keys, data and header formats
 * typed in again, not taken from NIGHTLOG_COLUMNS): each field is `f'{value:{fmt}} '`, the
 * header format when the data format raises, `''` for a missing key.
 */
const PY_MODSLOG = String.raw`
import sys, json
keys = ['PROPID','CHANNEL','IMAGETYP','OBJECT','TELRA','TELDEC','POSANGLE','EXPTIME','DATE-OBS',
        'AIRMASS','MASKNAME','DICHNAME','GRATNAME','FILTNAME','FILENAME']
data = ['20.20s','4.4s','7.7s','40.40s','11.11s','11.11s','6.1f','6.1f','21.21s','5.2f','12.12s','4.4s','5.5s','7.7s','25.25s']
head = ['20.20s','4.4s','7.7s','40.40s','11.11s','11.11s','6.6s','6.6s','21.21s','5.5s','12.12s','4.4s','5.5s','7.7s','25.25s']
titles = ['ProjectID','Chan','ImgTyp','Object','RA','Dec','PA','Exp','UTCDate/Time','SecZ','SlitMask','Mode','Grat','Filter','Filename']
conv = {'str': str, 'int': int, 'float': float, 'bool': lambda v: v == 'T'}
out = {'header': ''.join(f'{t:{f}} ' for t, f in zip(titles, head)), 'lines': []}
for case in json.load(sys.stdin):
    hdr = {k: conv[t](v) for k, t, v in case}
    line = ''
    for k, df, hf in zip(keys, data, head):
        try:
            value = hdr[k]
        except KeyError:
            value = ''
        try:
            line += f'{value:{df}} '
        except ValueError:
            line += f'{value:{hf}} '
    out['lines'].append(line)
print(json.dumps(out))
`;

type Typed = [keyword: string, type: 'str' | 'int' | 'float' | 'bool', value: string];

function headerOf(cards: Typed[]): Header {
  const h = new Header();
  const kind = { str: 'string', int: 'integer', float: 'real', bool: 'logical' } as const;
  for (const [keyword, type, text] of cards) {
    const value = type === 'str' ? text : type === 'int' ? Number(text) : type === 'float' ? Number(text) : text === 'T';
    h.push({ keyword, kind: kind[type], value, comment: undefined } satisfies Card);
  }
  return h;
}

const TYPICAL: Typed[] = [
  ['PROPID', 'str', 'LBT-2025B-C1234-5 and more text'], ['CHANNEL', 'str', 'BLUE'], ['IMAGETYP', 'str', 'OBJECT'],
  ['OBJECT', 'str', 'NGC 1068 nucleus, long slit along the radio jet'], ['TELRA', 'str', '02:42:40.771'],
  ['TELDEC', 'str', '-00:00:47.84'], ['POSANGLE', 'float', '30'], ['EXPTIME', 'float', '1200'],
  ['DATE-OBS', 'str', '2026-01-15T04:12:33.456'], ['AIRMASS', 'float', '1.234'], ['MASKNAME', 'str', 'LS5x60x1.0'],
  ['DICHNAME', 'str', 'Dual'], ['GRATNAME', 'str', 'G400L'], ['FILTNAME', 'str', 'Clear'],
  ['FILENAME', 'str', 'mods1b.20260115.0001.fits'],
];

/** Cases the reference formats without error, each a whole header. */
const CASES: Array<[string, Typed[]]> = [
  ['a typical object frame', TYPICAL],
  ['exact ties round half to even, as Python', [
    ['POSANGLE', 'float', '1.25'], ['EXPTIME', 'float', '0.25'], ['AIRMASS', 'float', '1.125'],
  ]],
  ['near-ties round from the binary value', [
    ['POSANGLE', 'float', '0.05'], ['EXPTIME', 'float', '2.675'], ['AIRMASS', 'float', '1.005'],
  ]],
  ['negative values and negative zero', [
    ['POSANGLE', 'float', '-0.04'], ['EXPTIME', 'float', '-0'], ['AIRMASS', 'float', '-999.999'],
  ]],
  ['numbers wider than the column are not cut', [
    ['POSANGLE', 'float', '-12345.678'], ['EXPTIME', 'float', '1e+22'], ['AIRMASS', 'float', '123456.789'],
  ]],
  ['an integer or a logical in a number column', [['POSANGLE', 'int', '30'], ['EXPTIME', 'bool', 'T'], ['AIRMASS', 'int', '-2']]],
  ['a string in a number column falls back to the header format', [
    ['POSANGLE', 'str', '30.5'], ['EXPTIME', 'str', 'a long text'], ['AIRMASS', 'str', 'unknown'],
  ]],
  ['missing keys are blank', [['OBJECT', 'str', 'only this'], ['FILENAME', 'str', 'x.fits']]],
  ['no keys at all', []],
  ['empty strings', [['PROPID', 'str', ''], ['OBJECT', 'str', ''], ['POSANGLE', 'str', '']]],
  ['leading spaces are kept', [['OBJECT', 'str', '  indented'], ['IMAGETYP', 'str', ' flat']]],
];

test('the header line is the 15 titles in their header formats, each followed by one space', () => {
  const expected =
    'ProjectID            Chan ImgTyp  Object                                   RA          Dec         ' +
    'PA     Exp    UTCDate/Time          SecZ  SlitMask     Mode Grat  Filter  Filename                  ';
  assert.equal(nightLogHeaderLine(), expected);
  assert.equal(NIGHTLOG_COLUMNS.length, 15);
});

test('a typical line, derived by hand', () => {
  const expected =
    'LBT-2025B-C1234-5 an BLUE OBJECT  NGC 1068 nucleus, long slit along the ra 02:42:40.77 -00:00:47.8 ' +
    '  30.0 1200.0 2026-01-15T04:12:33.4  1.23 LS5x60x1.0   Dual G400L Clear   mods1b.20260115.0001.fits ';
  assert.equal(formatNightLogLine(headerOf(TYPICAL)), expected);
  assert.equal(expected.length, nightLogHeaderLine().length);
});

test('lines and the header line equal what Python format() gives for the modsLog loop', (t) => {
  if (skipUnless(t, PYTHON3, PYTHON3_MISSING)) return;
  const theirs = python(PY_MODSLOG, CASES.map(([, cards]) => cards)) as { header: string; lines: string[] };
  assert.equal(nightLogHeaderLine(), theirs.header);
  for (const [i, [name, cards]] of CASES.entries()) {
    assert.equal(formatNightLogLine(headerOf(cards)), theirs.lines[i], name);
  }
});

test('where the reference would raise, the value is printed with str() in the header format', () => {
  const line = (cards: Card[]) => {
    const h = new Header();
    cards.forEach((c) => h.push(c));
    return formatNightLogLine(h);
  };
  const card = (keyword: string, kind: Card['kind'], value: Card['value']): Card => ({ keyword, kind, value, comment: undefined });
  const field = (text: string, index: number) => {
    const start = NIGHTLOG_COLUMNS.slice(0, index).reduce((n, c) => n + Number(/^\d+/.exec(c.headerFormat)![0]) + 1, 0);
    return text.slice(start, start + Number(/^\d+/.exec(NIGHTLOG_COLUMNS[index]!.headerFormat)![0]));
  };
  // OBJECT is column 3 (40.40s), CHANNEL column 1 (4.4s), PA column 6 (6.1f / 6.6s).
  assert.equal(field(line([card('OBJECT', 'integer', 123)]), 3), '123'.padEnd(40));
  assert.equal(field(line([card('OBJECT', 'real', 1.5)]), 3), '1.5'.padEnd(40));
  assert.equal(field(line([card('OBJECT', 'real', 1e16)]), 3), '1e+16'.padEnd(40));
  assert.equal(field(line([card('CHANNEL', 'logical', true)]), 1), 'True');
  assert.equal(field(line([card('OBJECT', 'undefined', null)]), 3), ' '.repeat(40));
  assert.equal(field(line([card('POSANGLE', 'undefined', null)]), 6), ' '.repeat(6));
  assert.equal(field(line([card('OBJECT', 'integer', 12345678901234567890n)]), 3), '12345678901234567890'.padEnd(40));
});

test('pyFormat raises where Python raises', () => {
  assert.throws(() => pyFormat({ type: 'float', value: 1.5 }, '20.20s'), PyFormatError);
  assert.throws(() => pyFormat({ type: 'str', value: '1.5' }, '6.1f'), PyFormatError);
  assert.throws(() => pyFormat({ type: 'undefined' }, '6.1f'), PyFormatError);
  assert.equal(pyFormat({ type: 'str', value: 'abc' }, '7.7s'), 'abc    ');
  assert.equal(pyFormat({ type: 'float', value: 1.25 }, '6.1f'), '   1.2');
  assert.throws(() => pyFormat({ type: 'str', value: 'x' }, '>7s'), RangeError);
});

test('fixed-point formatting agrees with Python on ties, near-ties and random doubles', (t) => {
  if (skipUnless(t, PYTHON3, PYTHON3_MISSING)) return;
  const prng = createPrng(17);
  const values: number[] = [0, -0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, 1.005, 2.675, 1e-7, 5e-324, 1.7976931348623157e308, 123456789.125];
  for (let k = -400; k <= 400; k++) values.push(k / 8, k / 200, k * 0.05);
  for (let i = 0; i < 2000; i++) {
    const scale = 10 ** prng.int(-6, 12);
    values.push((prng.next() - 0.5) * scale);
  }
  const script = String.raw`
import sys, json
vals = json.load(sys.stdin)
print(json.dumps([[format(float(v), '.1f'), format(float(v), '.2f'), format(float(v), '6.1f'), repr(float(v))] for v in vals]))
`;
  const theirs = python(script, values.map((v) => (Object.is(v, -0) ? '-0.0' : String(v)))) as string[][];
  values.forEach((v, i) => {
    const [one, two, wide, repr] = theirs[i]!;
    assert.equal(formatFixed(v, 1), one, `${v} .1f`);
    assert.equal(formatFixed(v, 2), two, `${v} .2f`);
    assert.equal(pyFormat({ type: 'float', value: v }, '6.1f'), wide, `${v} 6.1f`);
    assert.equal(pyFloatRepr(v), repr, `repr(${v})`);
  });
});

test('lines made from processed files equal the modsLog loop run by astropy on the same files', async (t) => {
  if (skipUnless(t, astropyPython() !== null, ASTROPY_MISSING)) return;
  const dir = await tempDir(t);
  const files = [
    await generateAndProcess(dir, { roi: '1k', bin: '2x2', seq: 1, object: 'Feige 34 std star, 5" slit', imageType: 'std', exptimeS: 12.5 }),
    await generateAndProcess(dir, { instrument: 'mods1r', roi: '1k', bin: '2x2', seq: 7, imageType: 'bias', exptimeS: 0 }),
    await generateAndProcess(dir, { roi: '1k', bin: '2x2', seq: 3, object: 'A very long object name that is cut at forty characters' }),
  ];
  const script = String.raw`
import sys, json, warnings
from astropy.io.fits import getheader
warnings.simplefilter('ignore')
keys = ['PROPID','CHANNEL','IMAGETYP','OBJECT','TELRA','TELDEC','POSANGLE','EXPTIME','DATE-OBS',
        'AIRMASS','MASKNAME','DICHNAME','GRATNAME','FILTNAME','FILENAME']
data = ['20.20s','4.4s','7.7s','40.40s','11.11s','11.11s','6.1f','6.1f','21.21s','5.2f','12.12s','4.4s','5.5s','7.7s','25.25s']
head = ['20.20s','4.4s','7.7s','40.40s','11.11s','11.11s','6.6s','6.6s','21.21s','5.5s','12.12s','4.4s','5.5s','7.7s','25.25s']
lines = []
for path in sys.argv[1:]:
    hdr = getheader(path)
    line = ''
    for k, df, hf in zip(keys, data, head):
        try:
            value = hdr[k]
        except KeyError:
            value = ''
        try:
            line += f'{value:{df}} '
        except ValueError:
            line += f'{value:{hf}} '
    lines.append(line)
print(json.dumps(lines))
`;
  const theirs = JSON.parse(runPython(script, files.map((f) => f.outPath))) as string[];
  files.forEach((f, i) => {
    const ours = formatNightLogLine(f.hdus[0]!.header);
    assert.equal(ours, theirs[i], f.outPath);
  });
  assert.match(theirs[0]!, /^ENGINEERING {10}BLUE STD {5}Feige 34 std star, 5" slit/);
});
