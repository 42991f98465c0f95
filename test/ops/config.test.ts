import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../src/ops/config-error.js';
import { loadConfig, parseConfig } from '../../src/ops/config.js';
import { tempDir } from '../helpers/temp.js';

const LEGACY = new URL('./fixtures/legacy-dataman_MODS1.ini', import.meta.url);

test('the reference dataman_MODS1.ini loads unchanged (3-space indentation, Y flags, False)', async (t) => {
  const text = await readFile(LEGACY, 'utf8');
  const dir = await tempDir(t);
  const file = join(dir, 'dataman_MODS1.ini');
  await writeFile(file, text);
  const c = await loadConfig(file);
  assert.equal(c.server.ipAddr, '192.168.139.130');
  assert.equal(c.server.ipPort, 10301);
  assert.deepEqual(c.paths, {
    dataDir: '/data', procDir: '/home/data', repoDir: '/lbt/data/new', logDir: '/home/Logs/dataMan/',
    dropDir: undefined, stateDir: '/home/data/.dataman',
    nightLogDir: '/home/data/nightlogs', quickLookDir: '/home/data/.dataman/quicklook',
  });
  assert.deepEqual(c.processing, { fixDETSEC: true, fixDateTime: true, fixTemps: true, fixMisc: true, makeOTM: true });
  assert.equal(c.debug, false);
  assert.deepEqual(c.channels, ['mods1b', 'mods1r', 'mods2b', 'mods2r']);
  assert.equal(c.watch.usePolling, true);
  assert.equal(c.queue.concurrency, 2);
  assert.equal(c.delivery.fileMode, 0o644);
  assert.deepEqual(c.site, { latitudeDeg: 32.70131, longitudeDeg: -109.88906, heightM: 3221 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.paths));
});

const minimal = (extra = '') => `
server: {ipAddr: 127.0.0.1, ipPort: 10301}
paths: {dataDir: /d, procDir: /p, repoDir: /r, logDir: /l}
${extra}`;

test('N, no, off and false switch a step off; Y, yes, on and true switch it on', () => {
  const c = parseConfig(minimal('processing: {fixDETSEC: N, fixDateTime: no, fixTemps: off, fixMisc: false, makeOTM: Yes}'), '/etc/x.yaml');
  assert.deepEqual(c.processing, { fixDETSEC: false, fixDateTime: false, fixTemps: false, fixMisc: false, makeOTM: true });
  assert.equal(parseConfig(minimal('debug: Y'), '/x.yaml').debug, true);
});

test('relative paths are resolved against the configuration file folder', () => {
  const c = parseConfig(`server: {ipAddr: 127.0.0.1, ipPort: 0}
paths: {dataDir: ../var/raw, procDir: ../var/proc, repoDir: ../var/newdata, logDir: ../var/log, dropDir: ../var/drop}`, '/srv/dataman/config/local.yaml');
  assert.equal(c.paths.dataDir, '/srv/dataman/var/raw');
  assert.equal(c.paths.dropDir, '/srv/dataman/var/drop');
  assert.equal(c.paths.stateDir, '/srv/dataman/var/proc/.dataman');
});

test('file modes are octal whether quoted or not; sensors can be remapped per instrument', () => {
  const c = parseConfig(minimal(`delivery: {fileMode: "0640", dirMode: 0755}
sensors: {MODS2B: {ccd: MOD10/TEMPB, base: MOD10/TEMPA}}`), '/x.yaml');
  assert.equal(c.delivery.fileMode, 0o640);
  assert.equal(c.delivery.dirMode, 0o755);
  assert.deepEqual(c.sensors.MODS2B, { ccd: 'MOD10/TEMPB', base: 'MOD10/TEMPA' });
  assert.deepEqual(c.sensors.MODS1B, { ccd: 'MOD10/TEMPB', base: 'MOD10/TEMPA' });
});

const rejects: Array<[string, string, RegExp]> = [
  ['an unknown top-level key', minimal('colour: blue'), /unknown key colour \(expected one of: server, paths/],
  ['an unknown nested key', minimal('processing: {fixDETSEC: Y, fixFoo: Y}'), /unknown key processing\.fixFoo/],
  ['a flag that is not a yes/no word', minimal('processing: {fixDETSEC: maybe}'), /processing\.fixDETSEC: expected Y\/N, yes\/no, true\/false or on\/off, got "maybe" \(string\)/],
  ['a port out of range', 'server: {ipAddr: 1.2.3.4, ipPort: 70000}\npaths: {dataDir: /d, procDir: /p, repoDir: /r, logDir: /l}', /server\.ipPort: expected an integer from 0 to 65535, got 70000/],
  ['a missing required key', 'server: {ipAddr: 1.2.3.4, ipPort: 1}\npaths: {dataDir: /d, procDir: /p, repoDir: /r}', /paths\.logDir is required/],
  ['a path that is not a string', minimal().replace('dataDir: /d', 'dataDir: 42'), /paths\.dataDir: expected a non-empty string, got 42 \(number\)/],
  ['a section that is not a mapping', minimal('watch: [1, 2]'), /watch: expected a mapping, got a list/],
  ['a concurrency of zero', minimal('queue: {concurrency: 0}'), /queue\.concurrency: expected an integer from 1 to 64, got 0/],
  ['a bad file mode', minimal('delivery: {fileMode: "rw-r--r--"}'), /delivery\.fileMode: expected an octal file mode/],
  ['a bad allow-list entry', minimal('server: {ipAddr: 1.2.3.4, ipPort: 1, allowFrom: [10.0.0.300]}').replace(/^server: \{ipAddr: 127.*$/m, ''), /server\.allowFrom\[0\]/],
  ['a bad name pattern', minimal('watch: {namePattern: "(unclosed"}'), /watch\.namePattern: expected a regular expression/],
  ['a bad time zone', minimal('timeZone: Mars/Olympus'), /timeZone: expected an IANA time zone/],
  ['an empty file', '', /the configuration file is empty/],
  ['broken YAML', 'server: {ipAddr: [', /not valid YAML/],
];
for (const [what, text, message] of rejects) {
  test(`rejects ${what}, naming the file and the key`, () => {
    assert.throws(() => parseConfig(text, '/etc/dataman/bad.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /^\/etc\/dataman\/bad\.yaml: /);
      assert.match(err.message, message);
      assert.equal(err.exitCode, 2);
      return true;
    });
  });
}

test('a missing configuration file is a ConfigError naming it', async () => {
  await assert.rejects(loadConfig('/nonexistent/dataman.yaml'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /cannot read configuration file \/nonexistent\/dataman\.yaml: ENOENT/);
    return true;
  });
});

// The optional ISIS client (issue #7).

test('isis is off by default, and off it resolves to nothing else', () => {
  assert.deepEqual(parseConfig(minimal(), '/x.yaml').isis, { enabled: false });
  assert.deepEqual(parseConfig(minimal('isis: {enabled: N, node: M1.BD, serverHost: 192.168.139.130, localPort: 10302}'), '/x.yaml').isis, { enabled: false });
});

test('isis on: node and GUI IDs upper-cased, server port 6600, local address = server.ipAddr, every channel, a ping a minute', () => {
  const c = parseConfig(minimal('isis: {enabled: Y, node: m1.bd, serverHost: 192.168.139.130, localPort: 10302, guiNode: mc1}'), '/x.yaml');
  assert.deepEqual(c.isis, {
    enabled: true, node: 'M1.BD', serverHost: '192.168.139.130', serverPort: 6600, localHost: '127.0.0.1', localPort: 10302,
    pingIntervalMs: 60_000, guiNode: 'MC1', channels: ['mods1b', 'mods1r', 'mods2b', 'mods2r'],
  });
  const d = parseConfig(minimal(`channels: [mods2b, mods2r]
isis: {enabled: on, node: M2.BD, serverHost: mods2, serverPort: 6601, localHost: 0.0.0.0, localPort: 0, pingIntervalMs: 5000, channels: [mods2b]}`), '/x.yaml');
  assert.deepEqual(d.isis, {
    enabled: true, node: 'M2.BD', serverHost: 'mods2', serverPort: 6601, localHost: '0.0.0.0', localPort: 0,
    pingIntervalMs: 5000, guiNode: undefined, channels: ['mods2b'],
  });
  assert.ok(Object.isFrozen(d.isis));
});

const isisRejects: Array<[string, string, RegExp]> = [
  ['isis on without a node', 'isis: {enabled: Y, serverHost: h, localPort: 1}', /isis\.node is required when isis\.enabled is on/],
  ['isis on without a server', 'isis: {enabled: Y, node: M1.BD, localPort: 1}', /isis\.serverHost is required when isis\.enabled is on/],
  ['isis on without a local port', 'isis: {enabled: Y, node: M1.BD, serverHost: h}', /isis\.localPort is required when isis\.enabled is on/],
  ['an unknown isis key', 'isis: {enabled: N, port: 6600}', /unknown key isis\.port \(expected one of: enabled, node, serverHost/],
  ['a bad node name, even with isis off', 'isis: {enabled: N, node: M1-BD}', /isis\.node: expected an ISIS node name: 2 to 8 characters from A-Z 0-9 \. _ \(such as M1\.BD\), got "M1-BD"/],
  ['a GUI node name too long', 'isis: {guiNode: MODSGUI01}', /isis\.guiNode: expected an ISIS node name/],
  ['an isis channel not watched', 'channels: [mods1b]\nisis: {channels: [mods1r]}', /isis\.channels\[0\]: expected one of the watched channels \(mods1b\), got "mods1r"/],
  ['a ping interval under a second', 'isis: {pingIntervalMs: 10}', /isis\.pingIntervalMs: expected an integer from 1000 to 86400000, got 10/],
  ['a server port of 0', 'isis: {serverPort: 0}', /isis\.serverPort: expected an integer from 1 to 65535, got 0/],
  ['isis enabled that is not a yes/no word', 'isis: {enabled: maybe}', /isis\.enabled: expected Y\/N/],
];
for (const [what, extra, message] of isisRejects) {
  test(`rejects ${what}, naming the key`, () => {
    assert.throws(() => parseConfig(minimal(extra), '/etc/dataman/bad.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /^\/etc\/dataman\/bad\.yaml: /);
      assert.match(err.message, message);
      return true;
    });
  });
}

test('the shipped files keep isis off, and their example values load when it is switched on', async () => {
  const expected: Record<string, { node: string; gui: string; channels: string[] }> = {
    'dataman_MODS1.yaml': { node: 'M1.BD', gui: 'MC1', channels: ['mods1b'] },
    'dataman_MODS2.yaml': { node: 'M2.BD', gui: 'MC2', channels: ['mods2b'] },
    'dataman.local.yaml': { node: 'M1.BD', gui: 'MC1', channels: ['mods1b'] },
  };
  for (const [name, want] of Object.entries(expected)) {
    const file = new URL(`../../config/${name}`, import.meta.url);
    const text = await readFile(file, 'utf8');
    assert.deepEqual(parseConfig(text, `/config/${name}`).isis, { enabled: false }, name);
    const on = text.replace(/^(isis:[^\n]*\n(?:[ #][^\n]*\n)*?  enabled: )N\b/m, '$1Y');
    assert.notEqual(on, text, `${name}: isis.enabled: N not found`);
    const isis = parseConfig(on, `/config/${name}`).isis;
    assert.ok(isis.enabled, name);
    assert.deepEqual([isis.node, isis.guiNode, isis.channels], [want.node, want.gui, want.channels], name);
    assert.equal(isis.serverPort, 6600, name);
    assert.ok(isis.localPort > 0, name);
  }
});
