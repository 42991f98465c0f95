/**
 * The shadow configuration: the shipped ones load and are shadows; a shadow pointing at a
 * production folder, the raw folder, the UDP port or ISIS is refused at start naming the key;
 * the shadow service runs with no UDP listener and its output compares clean.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig } from '../../src/ops/config.js';
import { PRODUCTION_FOLDERS } from '../../src/ops/shadow.js';
import { ConfigError } from '../../src/ops/config-error.js';
import { memoryLogger } from '../../src/ops/logger.js';
import { DatamanService } from '../../src/service/service.js';
import { generateRaw } from '../../src/simulate/index.js';
import { tempDir, stopBeforeRemoval } from '../helpers/temp.js';
import { runCli } from '../helpers/cli.js';
import { cliScript } from '../helpers/cli-child.js';
import { spawnSync } from 'node:child_process';
import { deliveries, startService } from '../helpers/service.js';

const repoPath = (relative: string) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));

test('the shipped shadow configurations load: shadow, no UDP trigger, no ISIS, every output folder under /home/shadow', async () => {
  for (const n of [1, 2]) {
    const c = await loadConfig(repoPath(`config/dataman_MODS${n}.shadow.yaml`));
    const production = await loadConfig(repoPath(`config/dataman_MODS${n}.yaml`));
    assert.equal(c.shadow, true);
    assert.equal(c.server.udpTrigger, false);
    assert.equal(c.isis.enabled, false);
    assert.equal(c.paths.dropDir, undefined);
    assert.equal(c.paths.dataDir, production.paths.dataDir, 'the same raw folders');
    assert.deepEqual(c.channels, production.channels);
    assert.deepEqual(c.processing, production.processing);
    assert.equal(c.timeZone, production.timeZone);
    for (const key of ['procDir', 'repoDir', 'logDir', 'stateDir', 'nightLogDir', 'quickLookDir'] as const) {
      assert.match(c.paths[key], /^\/home\/shadow\//, key);
    }
    assert.notEqual(c.http.port, production.http.port);
  }
});

test('PRODUCTION_FOLDERS are the output folders of the shipped production configurations', async () => {
  const folders = new Set<string>();
  for (const n of [1, 2]) {
    const { paths } = await loadConfig(repoPath(`config/dataman_MODS${n}.yaml`));
    for (const f of [paths.procDir, paths.repoDir, paths.logDir, paths.stateDir, paths.dropDir, paths.nightLogDir, paths.quickLookDir]) folders.add(f!.replace(/\/$/, ''));
  }
  assert.deepEqual([...folders].sort(), [...PRODUCTION_FOLDERS].sort());
});

const SHADOW_PATHS = { dataDir: '/data', procDir: '/home/shadow/data', repoDir: '/home/shadow/newdata', logDir: '/home/shadow/Logs' };
const shadowText = (paths: Record<string, string>, extra = '') => `
shadow: Y
server: {ipAddr: 127.0.0.1, ipPort: 10301, udpTrigger: N}
paths: {${Object.entries({ ...SHADOW_PATHS, ...paths }).map(([k, v]) => `${k}: ${v}`).join(', ')}}
${extra}`;

test('a shadow configuration is refused when it would touch what production owns, naming the key', () => {
  const refused: Array<[Record<string, string>, string, RegExp]> = [
    [{ procDir: '/home/data' }, '', /paths\.procDir: \/home\/data is a production folder/],
    [{ procDir: '/home/data/shadow' }, '', /paths\.procDir: \/home\/data\/shadow is inside a production folder \(\/home\/data\)/],
    [{ repoDir: '/lbt/data/new' }, '', /paths\.repoDir: .* is a production folder/],
    [{ logDir: '/home/Logs/dataMan/' }, '', /paths\.logDir: .* is a production folder/],
    [{ logDir: '/home' }, '', /paths\.logDir: \/home contains a production folder/],
    [{ stateDir: '/home/data/.dataman' }, '', /paths\.stateDir: /],
    [{ stateDir: '/data/shadow-state' }, '', /paths\.stateDir: .* is inside the raw folder paths\.dataDir/],
    [{ dropDir: '/home/data/dropbox' }, '', /paths\.dropDir: /],
    // Another name of a production folder: /newdata is /lbt/data/new.
    [{ repoDir: '/newdata' }, '', /paths\.repoDir: \/newdata is a production folder/],
    [{}, 'isis: {enabled: Y, node: M1.BD, serverHost: 127.0.0.1, localPort: 10302}', /isis\.enabled: a shadow/],
  ];
  for (const [paths, extra, message] of refused) {
    assert.throws(() => parseConfig(shadowText(paths, extra), '/etc/shadow.yaml'), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(paths) + extra);
  }
  const listening = shadowText({}).replace('udpTrigger: N', 'udpTrigger: Y');
  assert.throws(() => parseConfig(listening, '/etc/shadow.yaml'), /server\.udpTrigger: a shadow configuration .*port 10301/);
  // The same folders without `shadow: Y` are an ordinary configuration; apart, the shadow loads.
  assert.equal(parseConfig(shadowText({ procDir: '/home/data' }).replace('shadow: Y', ''), '/etc/x.yaml').shadow, false);
  assert.equal(parseConfig(shadowText({}), '/etc/shadow.yaml').shadow, true);
  // server.udpTrigger: on by default, a flag like the others.
  const plain = shadowText({}).replace('shadow: Y', '').replace(', udpTrigger: N', '');
  assert.equal(parseConfig(plain, '/etc/x.yaml').server.udpTrigger, true);
  assert.throws(() => parseConfig(plain.replace('ipPort: 10301', 'ipPort: 10301, udpTrigger: sometimes'), '/etc/x.yaml'), /server\.udpTrigger: expected Y\/N/);
});

test('a shadow folder reached through a link into what production owns is refused', async (t) => {
  const root = await tempDir(t, 'dataman-shadow-link-');
  await mkdir(join(root, 'raw'), { recursive: true });
  await symlink(join(root, 'raw'), join(root, 'looks-apart'));
  const text = shadowText({ dataDir: join(root, 'raw'), procDir: join(root, 'looks-apart', 'proc') });
  assert.throws(() => parseConfig(text, '/etc/shadow.yaml'), /paths\.procDir: .*looks-apart\/proc is inside the raw folder paths\.dataDir/);
  assert.equal(parseConfig(shadowText({ dataDir: join(root, 'raw'), procDir: join(root, 'proc') }), '/etc/shadow.yaml').shadow, true, 'apart, it loads');
});

test('dataman serve refuses a shadow configuration that writes into the raw folder: exit 2, the key named', async (t) => {
  // Every folder in a temporary one (were the check ever lost, nothing outside it is touched),
  // and a child process with a time limit (a service that started would not return).
  const dir = await tempDir(t);
  const file = join(dir, 'shadow.yaml');
  await writeFile(file, `
shadow: Y
server: {ipAddr: 127.0.0.1, ipPort: 0, udpTrigger: N}
paths: {dataDir: ${dir}/raw, procDir: ${dir}/raw/shadow, repoDir: ${dir}/newdata, logDir: ${dir}/log}
http: {enabled: false}
`);
  const run = spawnSync(process.execPath, [...cliScript(dir), 'serve', '--config', file, '--create-dirs'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 2, run.stdout + run.stderr);
  assert.match(run.stderr, /paths\.procDir: .*\/raw\/shadow is inside the raw folder paths\.dataDir/);
});

test('a shadow service runs beside a production one on the same raw folder: no UDP listener, its own pointers, and the outputs compare clean', async (t) => {
  const root = await tempDir(t);
  // Production: UDP trigger bound, its own folders under root (raw/, proc/, newdata/...).
  const production = await startService(root);
  assert.ok(production.service.udp !== undefined);
  for (const d of ['shadow/proc', 'shadow/newdata', 'shadow/log', 'shadow/state']) await mkdir(join(root, d), { recursive: true });
  const config = parseConfig(`
shadow: Y
server: {ipAddr: 127.0.0.1, ipPort: ${production.service.udp.port}, udpTrigger: N}
paths: {dataDir: ${root}/raw, procDir: ${root}/shadow/proc, repoDir: ${root}/shadow/newdata, logDir: ${root}/shadow/log, stateDir: ${root}/shadow/state}
channels: [mods1b]
watch: {usePolling: true, intervalMs: 50, settleMs: 100, noConparsGraceMs: 1500, incompleteTimeoutMs: 20000}
timeZone: America/Phoenix
http: {enabled: false}
`, join(root, 'shadow.yaml'));
  const log = memoryLogger({ timeZone: 'America/Phoenix' });
  const shadow = await DatamanService.start({ config, logger: log.logger, hostName: 'mods1', stopTimeoutMs: 20_000 });
  stopBeforeRemoval(root, () => shadow.stop('test done'));
  assert.equal(shadow.udp, undefined, 'no UDP socket (the production service holds the port)');
  assert.equal(shadow.sourcesAlive().udp, null);
  assert.ok(log.messages().some((m) => /started without a UDP trigger/.test(m)), log.lines.join('\n'));
  const raw = generateRaw({ roi: '1k', obsDate: '20260115', seq: 1 });
  const both = Promise.all([deliveries(production.service, 1), deliveries(shadow, 1)]);
  await writeFile(join(root, 'raw/mods1b', raw.name), raw.bytes);
  await both;
  // Each pointer in its own repoDir, naming the file.
  assert.equal(await readFile(join(root, 'newdata/MODS1B.new'), 'utf8'), `${raw.name}\n`);
  assert.equal(await readFile(join(root, 'shadow/newdata/MODS1B.new'), 'utf8'), `${raw.name}\n`);
  const run = await runCli(['compare', join(root, 'proc/20260115'), join(root, 'shadow/proc/20260115')]);
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /1 files compared: .*0 unexpected; unpaired: 0 only in A, 0 only in B — clean/);
  await shadow.stop('test done');
  await production.stop();
});

test('the shadow unit runs beside dataMan under its own name and needs no /newdata', async () => {
  const unit = await readFile(repoPath('deploy/dataMan-shadow.service'), 'utf8');
  assert.match(unit, /^ExecStart=.* serve --config \/home\/dts\/Config\/dataman-shadow\.yaml$/m);
  assert.match(unit, /^SyslogIdentifier=dataMan-shadow$/m);
  assert.doesNotMatch(unit, /RequiresMountsFor=.*\/lbt\/data\/new/);
});
