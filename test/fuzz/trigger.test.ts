/**
 * Fuzzing the UDP trigger parser: whatever arrives, `parseTrigger` decides without throwing, and
 * a `proc` decision only ever names a plain raw file name.
 *
 * CI: `npm test -- test/fuzz` (fixed seed, bounded runs, well under a second).
 * Long run (no 180 s cap per file, unlike `npm test`; see fuzz-options.ts):
 *   DATAMAN_FUZZ_RUNS=200000 node --import tsx --test --test-reporter=spec test/fuzz/*.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTrigger, type ParseOptions, type TriggerCommand } from '../../src/service/discovery/trigger-parse.js';
import { DEFAULT_RAW_NAME_PATTERN } from '../../src/ops/config.js';
import { fuzzParameters } from './fuzz-options.js';

/** The production pattern, and a permissive one (a careless configuration) that leaves the parser's own checks alone on guard. */
const PATTERNS = [new RegExp(DEFAULT_RAW_NAME_PATTERN), /.+/su, /[^]*/g];

function whole(pattern: RegExp): RegExp {
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, ''));
}

/** Checks one decision against the datagram and the options; never throws for a sound decision. */
function checkDecision(datagram: Buffer, options: ParseOptions, result: TriggerCommand): void {
  assert.ok(['proc', 'quit', 'ignored'].includes(result.kind));
  if (result.kind === 'ignored') {
    assert.equal(typeof result.reason, 'string');
    // The reason goes into one log line: no raw line breaks, line or paragraph separators or other controls.
    assert.doesNotMatch(result.reason, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u, `reason ${JSON.stringify(result.reason)}`);
    return;
  }
  assert.ok(datagram.length > 0 && datagram.length <= 1024);
  if (result.kind === 'quit') {
    assert.equal(options.allowQuit, true);
    return;
  }
  const { name } = result;
  assert.match(name, whole(options.namePattern), `${JSON.stringify(name)} matches the raw pattern`);
  assert.ok(name.length > 0);
  assert.ok(!name.includes('/') && !name.includes('\\'), `${JSON.stringify(name)} has no path separator`);
  assert.ok(!name.includes('..') && name !== '.', `${JSON.stringify(name)} does not climb`);
  assert.doesNotMatch(name, /[\p{Cc}\p{Cf}]/u, `${JSON.stringify(name)} has no control or format characters`);
  assert.doesNotMatch(name, /\s/u, `${JSON.stringify(name)} has no blanks`);
}

const options = fc.record({ namePattern: fc.constantFrom(...PATTERNS), allowQuit: fc.boolean() });

function parseAndCheck(datagram: Buffer, opts: ParseOptions): TriggerCommand {
  const result = parseTrigger(datagram, opts);
  checkDecision(datagram, opts, result);
  return result;
}

test('parseTrigger decides on any byte array up to 4 KB without throwing', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), options, (bytes, opts) => {
      parseAndCheck(Buffer.from(bytes), opts);
    }),
    fuzzParameters(),
  );
});

test('parseTrigger decides on any text (any Unicode, any length) without throwing', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 1100 }), fc.string({ unit: 'grapheme', maxLength: 300 })), options, (text, opts) => {
      parseAndCheck(Buffer.from(text, 'utf8'), opts);
    }),
    fuzzParameters(),
  );
});

/** Path pieces that have gone wrong somewhere: climbing, separators, controls, bidi overrides, blanks. */
const pathPiece = fc.oneof(
  fc.constantFrom('..', '.', '', '/', '//', '\\', '..\\', '~', 'home', 'data', '\u0000', '\n', '\r\n', '\t', '\u202e', '\u200b', '\u00a0', '\u2028', '\ufeff', '\x7f', '\u0085', ' '),
  fc.constantFrom('mods1b.20260115.0001.fits', 'mods2r.20251231.9999.fits', 'mods1b.20260115.0001.fits.tmp', 'MODS1B.20260115.0001.fits', 'mods1b..fits'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const pathText = fc.array(pathPiece, { maxLength: 8 }).map((pieces) => pieces.join(''));

test('proc followed by any path never yields a name with separators, "..", blanks or control characters', () => {
  fc.assert(
    fc.property(fc.constantFrom('proc ', 'PROC ', 'proc\t', ' proc  ', 'proc'), pathText, fc.constantFrom('', '\n', '\r\n', ' ', ' x'), options, (command, path, tail, opts) => {
      parseAndCheck(Buffer.from(command + path + tail, 'utf8'), opts);
    }),
    fuzzParameters(),
  );
});

const rawName = fc
  .tuple(fc.constantFrom('mods1b', 'mods1r', 'mods2b', 'mods2r'), fc.stringMatching(/^\d{8}$/), fc.stringMatching(/^\d{4}$/))
  .map(([chan, date, seq]) => `${chan}.${date}.${seq}.fits`);
const folder = fc.array(fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/).filter((s) => s !== '.' && !s.includes('..')), { maxLength: 4 })
  .map((parts) => (parts.length === 0 ? '' : `/${parts.join('/')}/`));

test('proc with a raw file name in any folder asks for that base name', () => {
  fc.assert(
    fc.property(folder, rawName, fc.constantFrom('', '\n', '\r\n', '  '), fc.boolean(), (dir, name, tail, allowQuit) => {
      const datagram = Buffer.from(`proc ${dir}${name}${tail}`, 'utf8');
      assert.deepEqual(parseAndCheck(datagram, { namePattern: PATTERNS[0]!, allowQuit }), { kind: 'proc', name });
    }),
    fuzzParameters(),
  );
});

/** Blank datagrams made of every kind of Unicode white space, line and paragraph separators included. */
const blanks = fc.array(fc.constantFrom(' ', '\t', '\n', '\r', '\v', '\f', '\u0085', '\u00a0', '\u1680', '\u2000', '\u2028', '\u2029', '\u202f', '\u3000', '\ufeff'), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(''));

// Regression: the blank datagram "\u2028" was ignored with the raw U+2028 in its reason.
test('the reason for ignoring a datagram fits on one log line: no line or paragraph separators', () => {
  fc.assert(
    fc.property(fc.oneof(blanks, fc.tuple(fc.constantFrom('proc ', 'quit ', 'frob '), blanks, fc.string({ maxLength: 5 })).map((p) => p.join(''))), options, (text, opts) => {
      const result = parseAndCheck(Buffer.from(text, 'utf8'), opts);
      if (result.kind === 'ignored') assert.doesNotMatch(result.reason, /[\p{Zl}\p{Zp}]/u, `reason ${JSON.stringify(result.reason)}`);
    }),
    fuzzParameters(),
  );
});
