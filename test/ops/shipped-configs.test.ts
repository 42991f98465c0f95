/**
 * The configuration files shipped in config/ and the systemd unit in deploy/: they load, they hold
 * the production values, and dataman_MODS1.yaml documents every option the loader resolves, so
 * the commented reference cannot drift from src/ops/config.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { DEFAULT_RAW_NAME_PATTERN, loadConfig, type DatamanConfig } from '../../src/ops/config.js';
import { REFERENCE_DEFAULT_SENSORS, REFERENCE_SENSORS, STEP_NAMES } from '../../src/steps/types.js';
import { LBT_SITE } from '../../src/time/index.js';

const repoPath = (relative: string) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));
const MODS1 = repoPath('config/dataman_MODS1.yaml');
const MODS2 = repoPath('config/dataman_MODS2.yaml');
const LOCAL = repoPath('config/dataman.local.yaml');
const UNIT = repoPath('deploy/dataMan.service');

/** Resolved-config entries that are not options of the file. */
const NOT_OPTIONS = new Set(['file', 'defaultSensors']);
/** Resolved names that differ from the YAML key (the resolved ones carry their unit). */
const YAML_NAME: Record<string, string> = {
  'site.latitudeDeg': 'site.latitude',
  'site.longitudeDeg': 'site.longitude',
  'site.heightM': 'site.height',
};
/** The reference dataman_MODSn.ini layout: these keys come first, in this order. */
const REFERENCE_LAYOUT: Record<string, string[]> = {
  '': ['server', 'paths', 'processing', 'debug'],
  server: ['ipAddr', 'ipPort'],
  paths: ['dataDir', 'procDir', 'repoDir', 'logDir'],
  processing: [...STEP_NAMES],
};

/** Dotted YAML key of every leaf option in a resolved configuration, in order. */
function optionKeys(config: DatamanConfig): string[] {
  const walk = (value: unknown, prefix: string): string[] =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.entries(value).flatMap(([k, v]) => (prefix === '' && NOT_OPTIONS.has(k) ? [] : walk(v, prefix === '' ? k : `${prefix}.${k}`)))
      : [YAML_NAME[prefix] ?? prefix];
  return walk(config, '');
}

interface KeyLine { line: number; text: string }

/** Every key of a YAML file (dotted path, in file order) with the line that holds it. */
async function yamlKeys(file: string): Promise<Map<string, KeyLine>> {
  const text = await readFile(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  assert.equal(doc.errors.length, 0, `${file}: ${doc.errors.join('; ')}`);
  const lines = text.split('\n');
  const keys = new Map<string, KeyLine>();
  const walk = (node: unknown, prefix: string) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      assert.ok(isScalar(pair.key) && pair.key.range, `${file}: a key under "${prefix}" is not a plain scalar`);
      const path = prefix === '' ? String(pair.key.value) : `${prefix}.${String(pair.key.value)}`;
      const line = lineCounter.linePos(pair.key.range[0]).line;
      keys.set(path, { line, text: lines[line - 1] ?? '' });
      walk(pair.value, path);
    }
  };
  walk(doc.contents, '');
  return keys;
}

/** A `#` comment on the line, outside quoted strings. */
const hasComment = (line: string) => /(^|\s)#/.test(line.replace(/'[^']*'|"[^"]*"/g, '""'));

/** Values both production files share: the reference's, and every newer option at its default. */
function assertProductionCommon(c: DatamanConfig) {
  assert.equal(c.server.ipPort, 10301);
  assert.equal(c.server.allowQuit, true);
  assert.deepEqual(c.server.allowFrom, []);
  assert.deepEqual(c.paths, {
    dataDir: '/data', procDir: '/home/data', repoDir: '/lbt/data/new', logDir: '/home/Logs/dataMan/',
    dropDir: '/home/data/dropbox', stateDir: '/home/data/.dataman',
    nightLogDir: '/home/data/nightlogs', quickLookDir: '/home/data/.dataman/quicklook',
  });
  assert.deepEqual(c.processing, { fixDETSEC: true, fixDateTime: true, fixTemps: true, fixMisc: true, makeOTM: true });
  assert.equal(c.debug, false);
  assert.deepEqual(c.watch, {
    usePolling: true, intervalMs: 1000, settleMs: 500, noConparsGraceMs: 15000, incompleteTimeoutMs: 120000,
    catchUpHours: 36, namePattern: DEFAULT_RAW_NAME_PATTERN,
  });
  assert.deepEqual(c.queue, { concurrency: 2 });
  assert.deepEqual(c.delivery, { checksums: true, fileMode: 0o644, dirMode: 0o775 });
  assert.deepEqual(c.site, LBT_SITE);
  assert.equal(c.timeZone, 'America/Phoenix');
  assert.deepEqual(c.http, { enabled: true, host: '127.0.0.1', port: 8080 });
}

test('dataman_MODS1.yaml: the reference values on mods1, MODS1 channels and wiring, every newer option at its default', async () => {
  const c = await loadConfig(MODS1);
  assertProductionCommon(c);
  assert.equal(c.server.ipAddr, '192.168.139.130');
  assert.deepEqual(c.channels, ['mods1b', 'mods1r']);
  assert.deepEqual(c.sensors, REFERENCE_SENSORS);
});

test('dataman_MODS2.yaml: the reference values on mods2, MODS2 channels and wiring', async () => {
  const c = await loadConfig(MODS2);
  assertProductionCommon(c);
  assert.equal(c.server.ipAddr, '192.168.139.230');
  assert.deepEqual(c.channels, ['mods2b', 'mods2r']);
  assert.deepEqual(c.sensors.MODS2B, REFERENCE_DEFAULT_SENSORS);
  assert.deepEqual(c.sensors.MODS2R, REFERENCE_DEFAULT_SENSORS);
});

test('dataman.local.yaml keeps everything under the repository var/ folder and on the loopback interface', async () => {
  const c = await loadConfig(LOCAL);
  assert.deepEqual(c.paths, {
    dataDir: repoPath('var/raw'), procDir: repoPath('var/proc'), repoDir: repoPath('var/newdata'),
    logDir: repoPath('var/log'), dropDir: repoPath('var/drop'), stateDir: repoPath('var/state'),
    nightLogDir: repoPath('var/nightlogs'), quickLookDir: repoPath('var/state/quicklook'),
  });
  assert.equal(c.server.ipAddr, '127.0.0.1');
  assert.equal(c.server.ipPort, 10301);
  assert.deepEqual(c.channels, ['mods1b', 'mods1r']);
  assert.equal(c.watch.usePolling, true);
  assert.equal(c.watch.intervalMs, 500);
  assert.deepEqual(c.http, { enabled: true, host: '127.0.0.1', port: 8080 });
  assert.equal(c.debug, true);
  assert.deepEqual(c.processing, { fixDETSEC: true, fixDateTime: true, fixTemps: true, fixMisc: true, makeOTM: true });
});

test('dataman_MODS1.yaml writes out every option of the resolved configuration, each with a comment on its line', async () => {
  const options = optionKeys(await loadConfig(MODS1));
  const keys = await yamlKeys(MODS1);
  // Guard the walk itself: a broken walk finding nothing would pass the loop below.
  assert.ok(options.includes('watch.namePattern') && options.includes('site.latitude') && options.includes('paths.dropDir'));
  const missing = options.filter((k) => !keys.has(k));
  assert.deepEqual(missing, [], `options missing from ${MODS1}`);
  const uncommented = options.filter((k) => !hasComment(keys.get(k)!.text)).map((k) => `${k} (line ${keys.get(k)!.line})`);
  assert.deepEqual(uncommented, [], 'options without a comment on their line');
});

test('dataman_MODS2.yaml has the same keys in the same order as dataman_MODS1.yaml', async () => {
  const normalise = (keys: Map<string, KeyLine>) => [...keys.keys()].map((k) => k.replace(/^sensors\.MODS[12]/, 'sensors.MODSn'));
  assert.deepEqual(normalise(await yamlKeys(MODS2)), normalise(await yamlKeys(MODS1)));
});

test('the production files start with the reference keys, in the reference order', async () => {
  for (const file of [MODS1, MODS2]) {
    const keys = [...(await yamlKeys(file)).keys()];
    for (const [section, expected] of Object.entries(REFERENCE_LAYOUT)) {
      const children = keys
        .filter((k) => (section === '' ? !k.includes('.') : k.startsWith(`${section}.`) && !k.slice(section.length + 1).includes('.')))
        .map((k) => (section === '' ? k : k.slice(section.length + 1)));
      assert.deepEqual(children.slice(0, expected.length), expected, `${file}: keys of "${section || 'top level'}"`);
    }
  }
});

test('the systemd unit dataMan runs `dataman serve` on the reference config path and restarts like the reference', async () => {
  const unit = await readFile(UNIT, 'utf8');
  const settings = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!.trim()]);
  }
  const one = (key: string) => {
    const values = settings.get(key) ?? [];
    assert.equal(values.length, 1, `${key}= should be set once in ${UNIT}`);
    return values[0]!;
  };
  assert.equal(one('ExecStart'), '/usr/bin/node --max-semi-space-size=2 /opt/dataman/bin/dataman.js serve --config /home/dts/Config/dataman.ini');
  assert.equal(one('Restart'), 'always');
  assert.equal(one('RestartSec'), '10s');
  assert.equal(one('KillSignal'), 'SIGTERM');
  // The service finishes or re-queues in-flight files within about 60 s of SIGTERM.
  const stop = /^(\d+)s$/.exec(one('TimeoutStopSec'));
  assert.ok(stop && Number(stop[1]) > 60, 'TimeoutStopSec must leave more than 60 s for in-flight files');
  assert.match(one('RequiresMountsFor'), /(^|\s)\/data(\s|$)/);
  assert.match(one('RequiresMountsFor'), /(^|\s)\/lbt\/data\/new(\s|$)/);
  assert.equal(settings.get('ProtectHome'), undefined, 'ProtectHome would hide /home/data and /home/Logs');
});
