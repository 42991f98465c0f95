/**
 * Fuzzing the configuration loader: arbitrary YAML documents, configuration-shaped documents with
 * arbitrary values, and mutated copies of the shipped configuration files. `parseConfig` returns
 * a deeply frozen configuration or throws a `ConfigError` naming the file — nothing else.
 *
 * CI: `npm test -- test/fuzz` (fixed seed, bounded runs, a few seconds).
 * Long run (no 180 s cap per file, unlike `npm test`; see fuzz-options.ts):
 *   DATAMAN_FUZZ_RUNS=200000 node --import tsx --test --test-reporter=spec test/fuzz/*.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/ops/config-error.js';
import { parseConfig, type DatamanConfig } from '../../src/ops/config.js';
import { expectResultOr, fuzzParameters } from './fuzz-options.js';

const FILE = '/etc/dataman/fuzz.yaml';
const SHIPPED = ['dataman_MODS1.yaml', 'dataman_MODS2.yaml', 'dataman.local.yaml'].map((name) => ({
  name,
  text: readFileSync(new URL(`../../config/${name}`, import.meta.url), 'utf8'),
}));

function assertDeepFrozen(value: unknown, path = 'config'): void {
  if (value === null || typeof value !== 'object') return;
  assert.ok(Object.isFrozen(value), `${path} is frozen`);
  for (const [k, v] of Object.entries(value)) assertDeepFrozen(v, `${path}.${k}`);
}

/** parseConfig ends in a deeply frozen configuration or a ConfigError that names the file. */
function checkParse(text: string): { ok: true; value: DatamanConfig } | { ok: false; error: Error } {
  const r = expectResultOr([ConfigError], () => parseConfig(text, FILE));
  if (r.ok) {
    assertDeepFrozen(r.value);
    assert.equal(r.value.file, FILE);
    assert.ok(r.value.paths.dataDir.startsWith('/'), 'paths are absolute');
  } else {
    assert.ok(r.error.message.includes(FILE), `the message names the file: ${r.error.message}`);
  }
  return r;
}

const yamlText = (value: unknown) => stringify(value) ?? '';

test('any YAML document built from arbitrary values ends in a frozen configuration or a ConfigError', () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 4, maxKeys: 6, withBoxedValues: false }), (value) => {
      checkParse(yamlText(value));
    }),
    fuzzParameters(),
  );
});

/*
 * Documents shaped like the configuration: every value valid, or now and then (`junk` in 100)
 * a wrong one — a plausible mistake or an arbitrary value. Documents with little junk reach the
 * end of validation and the frozen result; documents with much reach every error path.
 */
const anyValue = fc.anything({ maxDepth: 2, maxKeys: 3 });

function configShaped(junk: number) {
  const pick = (valid: fc.Arbitrary<unknown>, wrong: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 100 - junk, arbitrary: valid }, { weight: junk, arbitrary: fc.oneof(wrong, anyValue) });
  const flag = pick(fc.constantFrom<unknown>(true, false, 'Y', 'N', 'yes', 'No', 'ON', 'off', 'TRUE', null), fc.constantFrom<unknown>('maybe', 1, 0, '', 'Yes!'));
  const int = (min: number, max: number) => pick(
    fc.oneof(fc.integer({ min, max }), fc.integer({ min, max }).map((n) => ` ${n} `)),
    fc.oneof(fc.integer({ min: min - 10, max: min - 1 }), fc.integer({ min: max + 1, max: max + 10 }), fc.double(), fc.constantFrom<unknown>('1e3', '0x10', '', '5 ms')),
  );
  const real = (min: number, max: number) => pick(fc.double({ min, max, noNaN: true }), fc.oneof(fc.double(), fc.constantFrom<unknown>('32.7', '')));
  const path = pick(
    fc.stringMatching(/^\/?[A-Za-z0-9._ -]{1,8}(\/[A-Za-z0-9._-]{1,8}){0,3}\/?$/).filter((p) => p.trim() !== ''),
    fc.oneof(fc.constantFrom('', ' ', '\t'), fc.string({ maxLength: 20 })),
  );
  const address = fc.oneof(fc.ipV4(), fc.constantFrom('::1', 'fe80::1', '2001:db8::/32'), fc.tuple(fc.ipV4(), fc.nat(32)).map(([a, n]) => `${a}/${n}`));
  const wrongAddress = fc.oneof(fc.ipV6(), fc.constantFrom('10.0.0.300', '::1/129', '1.2.3.4/', '/24', '1.2.3.4/8/8', 'localhost', ''), fc.string({ maxLength: 12 }));
  const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
  const pattern = pick(
    fc.constantFrom('^(mods[12][br])\\.(\\d{8})\\.(\\d{4})\\.fits$', '.*', 'mods.*\\.fits', '[a-z]+'),
    fc.oneof(fc.constantFrom('(', '[', '\\', '(?<', 'a{2,1}', '(?<n>x)\\k<m>', '*', ''), fc.string({ maxLength: 12 })),
  );
  /** A mapping of some (or, when `all`, every) of the fields, now and then with an unknown key. */
  const section = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T, all = false) => pick(
    fc.tuple(
      all ? fc.record(fields) : fc.record(fields, { requiredKeys: [] }),
      fc.oneof({ weight: 100 - junk, arbitrary: fc.constant(undefined) }, { weight: junk, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), anyValue) }),
    ).map(([s, extra]) => (extra === undefined ? s : { ...s, [extra[0]]: extra[1] })),
    fc.constantFrom<unknown>([], 'server', 5, true),
  );
  return fc.record({
    server: section({ ipAddr: pick(fc.ipV4(), wrongAddress), ipPort: int(0, 65535), allowQuit: flag, allowFrom: pick(fc.array(pick(address, wrongAddress), { maxLength: 4 }), fc.constantFrom<unknown>('1.2.3.4', [''], [1])) }, true),
    paths: section({ dataDir: path, procDir: path, repoDir: path, logDir: path, dropDir: path, stateDir: path }, true),
    processing: section({ fixDETSEC: flag, fixDateTime: flag, fixTemps: flag, fixMisc: flag, makeOTM: flag }),
    debug: flag,
    channels: pick(fc.array(pick(name, fc.constantFrom('a b', '../x', '', 'x/y', 'mods1b\n')), { maxLength: 5 }), fc.constantFrom<unknown>('mods1b', [''], [1])),
    watch: section({
      usePolling: flag, intervalMs: int(10, 3_600_000), settleMs: int(0, 600_000), noConparsGraceMs: int(0, 3_600_000),
      incompleteTimeoutMs: int(1000, 86_400_000), catchUpHours: real(0, 175_200), namePattern: pattern,
    }),
    queue: section({ concurrency: int(1, 64) }),
    delivery: section({
      checksums: flag,
      fileMode: pick(fc.constantFrom<unknown>('0644', 644, '0600', 600, ' 0640 ', 777), fc.constantFrom<unknown>(420, '0o644', '0999', 'rw-r--r--', 1e21, -644, '06444')),
      dirMode: pick(fc.constantFrom<unknown>('0775', 775, 755), fc.constantFrom<unknown>('77', 0o775, 'rwx')),
    }),
    site: section({ latitude: real(-90, 90), longitude: real(-180, 360), height: real(-1000, 10000) }),
    sensors: pick(fc.dictionary(name, section({ ccd: path, base: path }, true), { maxKeys: 3 }), fc.constantFrom<unknown>([], 'MOD10')),
    timeZone: pick(fc.constantFrom('America/Phoenix', 'UTC', 'Etc/GMT+7', 'Europe/Rome', 'america/phoenix'), fc.oneof(fc.constantFrom('Mars/Olympus', '', '+07:00'), fc.string({ maxLength: 10 }))),
    http: section({ enabled: flag, host: pick(fc.constantFrom('127.0.0.1', 'localhost', '::1'), fc.constantFrom('', ' ')), port: int(0, 65535) }),
  }, { requiredKeys: ['server', 'paths'] });
}

test('configuration-shaped documents with arbitrary values end in a frozen configuration or a ConfigError', () => {
  fc.assert(
    fc.property(fc.constantFrom(1, 1, 3, 20).chain(configShaped), (doc) => {
      checkParse(yamlText(doc));
    }),
    fuzzParameters(),
  );
});

/* Mutations of the shipped files: the typos and half-edits an operator makes. */
type LineEdit =
  | { kind: 'delete'; line: number }
  | { kind: 'value'; line: number; text: string }
  | { kind: 'indent'; line: number; by: number }
  | { kind: 'duplicate'; line: number }
  | { kind: 'insert'; line: number; text: string }
  | { kind: 'cut'; at: number };

/** Replacement values: YAML syntax edge cases, wrong types, tags, anchors (but no recursive alias). */
const valuePool = fc.oneof(
  fc.constantFrom('', '~', 'null', '[]', '{}', '[', '{', '"', "'", '|', '>', '@x', '`x`', '%x', '!!binary aGk=', '!!str 5', '!!int x',
    '!!map {}', '!custom x', '&a 5', '*a', '*nope', '&a [1]', '"\\u0000"', '"\\x7f"', '0x1F', '0o17', '1e999', '.nan', '-.inf', '-0',
    'Y', 'N', 'maybe', '- a', '- [a, b]', 'a: b', '? x', '"unterminated', '2026-01-15', '12:30:00', '0644', '644', '"0644"'),
  fc.string({ maxLength: 30 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
);

function lineEdit(lines: number, textLength: number, values: fc.Arbitrary<string>): fc.Arbitrary<LineEdit> {
  const line = fc.nat(lines - 1);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), line }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('value' as const), line, text: values }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('indent' as const), line, by: fc.integer({ min: -4, max: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), line }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), line, text: fc.oneof(values, fc.string({ maxLength: 30 })) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat(textLength) }) },
  );
}

function applyEdits(text: string, edits: readonly LineEdit[]): string {
  let lines = text.split('\n');
  for (const e of edits) {
    if (e.kind === 'cut') {
      lines = lines.join('\n').slice(0, e.at).split('\n');
      continue;
    }
    if (lines.length === 0) break;
    const i = e.line % lines.length;
    const line = lines[i]!;
    switch (e.kind) {
      case 'delete': lines.splice(i, 1); break;
      case 'duplicate': lines.splice(i, 0, line); break;
      case 'insert': lines.splice(i, 0, e.text); break;
      case 'indent': lines[i] = e.by >= 0 ? ' '.repeat(e.by) + line : line.replace(new RegExp(`^ {0,${-e.by}}`), ''); break;
      case 'value': {
        // `key: value  # comment` → `key: <text>  # comment`; a line without a key gets the text appended.
        const m = /^(\s*[^\s#:][^:#]*:)(\s*)([^#]*?)(\s*#.*)?$/.exec(line);
        lines[i] = m ? `${m[1]} ${e.text}${m[4] ?? ''}` : `${line} ${e.text}`;
        break;
      }
    }
  }
  return lines.join('\n');
}

function mutatedShipped(values: fc.Arbitrary<string>) {
  return fc.nat(SHIPPED.length - 1).chain((which) => {
    const { text } = SHIPPED[which]!;
    return fc.tuple(fc.constant(which), fc.array(lineEdit(text.split('\n').length, text.length, values), { minLength: 1, maxLength: 5 }));
  });
}

test('the shipped configuration files load as they are', () => {
  for (const { name, text } of SHIPPED) assert.ok(checkParse(text).ok, name);
});

test('mutated shipped configuration files (lines deleted, values replaced, indentation broken) end in a config or a ConfigError', () => {
  fc.assert(
    fc.property(mutatedShipped(valuePool), ([which, edits]) => {
      checkParse(applyEdits(SHIPPED[which]!.text, edits));
    }),
    fuzzParameters(),
  );
});

// Regression: `server: &a [*a]` made describe() throw TypeError (circular structure) instead of a ConfigError.
test('a configuration with a self-referencing YAML alias ends in a ConfigError', () => {
  const recursive = fc.constantFrom('&a [*a]', '&a [1, *a]', '&a {k: *a}', '&a [[*a]]');
  fc.assert(
    fc.property(mutatedShipped(fc.oneof(valuePool, recursive)), ([which, edits]) => {
      checkParse(applyEdits(SHIPPED[which]!.text, edits));
    }),
    fuzzParameters(),
  );
});
