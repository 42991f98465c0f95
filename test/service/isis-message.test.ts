/**
 * IMPv2.5 message parsing and formatting (issue #7; `docs/isis.md` §2.1–§2.5, §2.8):
 * golden strings, as the real clients write them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatMessage, formatValue, MAX_MESSAGE_CHARS, parseArgs, parseMessage, previewMessage, type IsisMessage,
} from '../../src/service/surface/isis/message.js';

function ok(text: string | Buffer): IsisMessage {
  const r = parseMessage(text);
  assert.ok(r.ok, `${JSON.stringify(String(text))} should parse: ${r.ok ? '' : r.reason}`);
  return r.message;
}

function malformed(text: string | Buffer): { reason: string; oversized: boolean } {
  const r = parseMessage(text);
  assert.ok(!r.ok, `${JSON.stringify(String(text).slice(0, 80))} should be malformed`);
  return r;
}

test('a request with the protocol\'s \\r, modsCCD\'s \\n, \\r\\n or no terminator reads the same', () => {
  for (const end of ['\r', '\n', '\r\n', '', '\r\r', ' \r']) {
    const m = ok(`MC1>M1.BD lastfile${end}`);
    assert.deepEqual({ src: m.src, dest: m.dest, type: m.type, explicitType: m.explicitType, command: m.command, body: m.body },
      { src: 'MC1', dest: 'M1.BD', type: 'REQ', explicitType: false, command: 'lastfile', body: '' }, JSON.stringify(end));
  }
});

test('IDs are case-insensitive and come back upper-cased; the command word keeps its case; runs of spaces are one', () => {
  const m = ok('mc1>m1.bd   LastFile    now\r');
  assert.equal(m.src, 'MC1');
  assert.equal(m.dest, 'M1.BD');
  assert.equal(m.command, 'LastFile');
  assert.equal(m.body, 'now');
});

test('every message type is recognised, in any case, and REQ: may be written out', () => {
  for (const type of ['REQ', 'EXEC', 'DONE', 'STATUS', 'WARNING', 'ERROR', 'FATAL'] as const) {
    const m = ok(`M1.BC>MC1 ${type.toLowerCase()}: go Exposure finished. EXPSTATUS=DONE\n`);
    assert.equal(m.type, type);
    assert.equal(m.explicitType, true);
    assert.equal(m.command, 'go');
    assert.equal(m.body, 'Exposure finished. EXPSTATUS=DONE');
    assert.equal(m.args.keys.get('EXPSTATUS'), 'DONE');
  }
  // A word that merely ends in a colon is a command, not a type.
  const m = ok('MC1>M1.BD note: hello\r');
  assert.equal(m.type, 'REQ');
  assert.equal(m.command, 'note:');
});

test('PING and PONG carry no type token; a bare header is a heartbeat with no command', () => {
  assert.deepEqual([ok('IS>AL PING\r').command, ok('IS>AL PING\r').type], ['PING', 'REQ']);
  assert.equal(ok('IE>IS PONG\r').command, 'PONG');
  const heartbeat = ok('tcs>isis\r');
  assert.equal(heartbeat.command, undefined);
  assert.equal(heartbeat.body, '');
});

test('quoted and parenthesised values, flags and lists in the body (IMP §3.5)', () => {
  const m = ok("TE>M1.BD DONE: config Object='NGC1068 long-slit' Observer=(Pogge, DePoy, and Mason) Filter=3 Current=3.30 "
    + 'RA=01:14:15.5 ROI=(1,2,3,4) +SWAP -LAMPS Busy=t "two words" -5\r');
  assert.equal(m.command, 'config');
  assert.deepEqual([...m.args.keys], [
    ['OBJECT', 'NGC1068 long-slit'], ['OBSERVER', 'Pogge, DePoy, and Mason'], ['FILTER', '3'], ['CURRENT', '3.30'],
    ['RA', '01:14:15.5'], ['ROI', '1,2,3,4'], ['BUSY', 't'],
  ]);
  assert.deepEqual([...m.args.flags], [['SWAP', true], ['LAMPS', false]]);
  assert.deepEqual(m.args.words, ['two words', '-5']);
  // The raw body is kept as sent.
  assert.ok(m.body.startsWith("Object='NGC1068 long-slit' Observer=(Pogge"));
});

test('nested parentheses, an = inside a value and an unclosed quote stay in one token', () => {
  assert.deepEqual([...parseArgs("A=(f(x) g) B='x=y z' C='unclosed to the end").keys], [['A', 'f(x) g'], ['B', 'x=y z'], ['C', "'unclosed to the end"]]);
  assert.deepEqual(parseArgs("'a=b c'").words, ['a=b c']);
});

test('the longest message is 2048 characters with its terminator; one more is malformed and flagged as oversized', () => {
  const head = 'MC1>M1.BD x ';
  const longest = `${head}${'y'.repeat(MAX_MESSAGE_CHARS - head.length - 1)}\r`;
  assert.equal(longest.length, MAX_MESSAGE_CHARS);
  assert.equal(ok(longest).command, 'x');
  const over = malformed(`${head}${'y'.repeat(MAX_MESSAGE_CHARS - head.length)}\r`);
  assert.equal(over.oversized, true);
  assert.match(over.reason, /oversized message: 2049 characters/);
});

test('malformed messages give a reason instead of throwing', () => {
  const cases: Array<[string | Buffer, RegExp]> = [
    ['', /empty message/],
    ['\r\n', /empty message/],
    ['lastfile\r', /no address header/],
    ['proc /data/mods1b/mods1b.20260115.0001.fits', /no address header/],
    ['>FW filter 2\r', /bad sender node name ""/],
    ['TE> M1.BD lastfile\r', /bad destination node name ""/],
    ['TE >M1.BD lastfile\r', /no address header/],
    ['A>M1.BD lastfile\r', /bad sender node name "A"/],
    ['TOOLONGID>M1.BD lastfile\r', /bad sender node name "TOOLONGID"/],
    ['TE>M1-BD lastfile\r', /bad destination node name "M1-BD"/],
    ['TE>M1.BD lastfile\0', /non-printable character 0x00/],
    ['TE>M1.BD last\nfile\r', /non-printable character 0x0a/],
    ['TE>M1.BD last\tfile\r', /non-printable character 0x09/],
    [Buffer.from([0x54, 0x45, 0x3e, 0x4d, 0x31, 0x20, 0xe9, 0x0d]), /non-printable character 0xe9/],
  ];
  for (const [text, reason] of cases) {
    const r = malformed(text);
    assert.equal(r.oversized, false);
    assert.match(r.reason, reason, JSON.stringify(String(text)));
  }
});

test('formatting: SRC>DEST TYPE: cmd body\\r, IDs upper-cased, no type token for PING/PONG', () => {
  assert.equal(formatMessage({ src: 'm1.bd', dest: 'is', command: 'PING' }), 'M1.BD>IS PING\r');
  assert.equal(formatMessage({ src: 'M1.BD', dest: 'TE', command: 'PONG' }), 'M1.BD>TE PONG\r');
  assert.equal(formatMessage({ src: 'M1.BD', dest: 'MC1', type: 'DONE', command: 'lastfile', body: 'LASTFILE=mods1b.20260115.0001.fits' }),
    'M1.BD>MC1 DONE: lastfile LASTFILE=mods1b.20260115.0001.fits\r');
  assert.equal(formatMessage({ src: 'M1.BD', dest: 'TE', type: 'ERROR', command: 'frob', body: '' }), 'M1.BD>TE ERROR: frob\r');
  assert.throws(() => formatMessage({ src: 'M1-BD', dest: 'IS', command: 'PING' }), RangeError);
  assert.throws(() => formatMessage({ src: 'M1.BD', dest: 'IS', command: 'x', body: 'y'.repeat(MAX_MESSAGE_CHARS) }), /more than 2048/);
});

test('values are bare when one word, else quoted so that the parser reads them back whole', () => {
  assert.equal(formatValue('mods1b.20260115.0001.fits'), 'mods1b.20260115.0001.fits');
  assert.equal(formatValue('dead: udp'), "'dead: udp'");
  assert.equal(formatValue("it's here"), "(it's here)");
  assert.equal(formatValue("it's (here)"), `'it"s (here)'`);
  assert.equal(formatValue(''), "''");
  assert.equal(formatValue('a\u0000b'), 'a?b');
  for (const value of ['mods1b.20260115.0001.fits', 'dead: udp', "it's here", 'two  spaces', '(x)', 'k=v w']) {
    const m = ok(formatMessage({ src: 'M1.BD', dest: 'TE', type: 'DONE', command: 'x', body: `V=${formatValue(value)}` }));
    assert.equal(m.args.keys.get('V'), value, value);
  }
});

test('a log preview shows control characters and cuts long datagrams', () => {
  assert.equal(previewMessage('TE>M1.BD x\0\r\n'), 'TE>M1.BD x\\x00\\r\\n');
  assert.match(previewMessage('y'.repeat(3000)), /^y{120}… \(3000 characters\)$/);
});
