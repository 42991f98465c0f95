/**
 * The optional ISIS client inside the running service (issue #7): real deliveries, a small ISIS
 * server routing on loopback UDP (`test/helpers/isis-peer.ts`), the GUI node `MC1` and a console
 * node `TE` registered with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeRaw } from '../../src/simulate/index.js';
import { tempDir } from '../helpers/temp.js';
import { deliveries, startService } from '../helpers/service.js';
import { IsisPeerNode, IsisPeerServer } from '../helpers/isis-peer.js';

const isisYaml = (serverPort: number, enabled = 'Y') =>
  `isis: {enabled: ${enabled}, node: M1.BD, serverHost: 127.0.0.1, serverPort: ${serverPort}, localPort: 0, pingIntervalMs: 600000, guiNode: MC1, channels: [mods1b]}`;

/**
 * Local ports of the UDP sockets this process holds (its socket file descriptors matched
 * against the kernel's UDP tables), or undefined where /proc does not tell.
 */
async function udpPortsOfThisProcess(): Promise<Set<number> | undefined> {
  try {
    const inodes = new Set<string>();
    for (const fd of await readdir('/proc/self/fd')) {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/self/fd/${fd}`).catch(() => ''));
      if (m) inodes.add(m[1]!);
    }
    const ports = new Set<number>();
    for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
      const lines = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
      for (const cols of lines.map((l) => l.trim().split(/\s+/))) {
        if (cols.length > 9 && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
      }
    }
    return inodes.size > 0 ? ports : undefined;
  } catch {
    return undefined;
  }
}

const opened = (before: Set<number>, after: Set<number>) => [...after].filter((p) => !before.has(p)).sort((a, b) => a - b);

async function isisWorld(t: { after(fn: () => Promise<void> | void): void }) {
  const server = await IsisPeerServer.start();
  t.after(() => server.close());
  const gui = await IsisPeerNode.start(server, 'MC1');
  t.after(() => gui.close());
  const te = await IsisPeerNode.start(server, 'TE');
  t.after(() => te.close());
  return { server, gui, te };
}

async function deliver(s: Awaited<ReturnType<typeof startService>>, root: string, instrument: string, seq: number): Promise<string> {
  const done = deliveries(s.service, 1);
  const raw = await writeRaw(join(root, 'raw', instrument), { instrument, roi: '1k', seq });
  await s.send(`proc /home/data/${raw.name}`);
  const [d] = await done;
  assert.equal(d!.name, raw.name);
  return d!.delivered;
}

test('with isis on: announced from its own port, PING and lastfile answered, LASTFILE pushed to the GUI after each delivery of its channel', async (t) => {
  const root = await tempDir(t);
  const { server, gui, te } = await isisWorld(t);
  const before = await udpPortsOfThisProcess();
  const announced = server.next((r) => r.text === 'M1.BD>IS PING\r');
  const s = await startService(root, isisYaml(server.port));
  t.after(() => s.stop());
  const isis = s.service.isis;
  assert.ok(isis, 'the service reports the ISIS address');
  assert.equal((await announced).from.port, isis.port, 'PING sent from the port the node listens on');
  if (before !== undefined) {
    assert.deepEqual(opened(before, (await udpPortsOfThisProcess())!), [s.service.udp!.port, isis.port].sort((a, b) => a - b),
      'the trigger socket and the ISIS socket, no other');
  }

  assert.equal(await te.ask('TE>M1.BD PING\r', 'M1.BD'), 'M1.BD>TE PONG\r');
  assert.equal(await te.ask('TE>M1.BD lastfile\r', 'M1.BD'), 'M1.BD>TE DONE: lastfile LASTFILE=None\r', 'nothing delivered yet');

  const pushes: string[] = [];
  let push = gui.next((m) => m.includes(' STATUS: '));
  const blue1 = await deliver(s, root, 'mods1b', 1);
  pushes.push(await push);
  assert.equal(pushes[0], `M1.BD>MC1 STATUS: delivered LASTFILE=${blue1}\r`);

  // A red file is not this node's (the GUI shows M1.BD in the blue channel): no push. Had there
  // been one, it would reach MC1 before the next blue file's.
  const red = await deliver(s, root, 'mods1r', 1);
  assert.match(red, /^mods1r\./);
  push = gui.next((m) => m.includes(' STATUS: '));
  const blue2 = await deliver(s, root, 'mods1b', 2);
  pushes.push(await push);
  assert.equal(pushes[1], `M1.BD>MC1 STATUS: delivered LASTFILE=${blue2}\r`);
  assert.deepEqual(gui.received.filter((m) => m.includes(' STATUS: ')), pushes);

  assert.equal(await te.ask('TE>M1.BD lastfile\r', 'M1.BD'), `M1.BD>TE DONE: lastfile LASTFILE=${blue2}\r`);
  await s.service.idle();
  const status = await te.ask('TE>M1.BD status\r', 'M1.BD');
  assert.match(status, new RegExp(`^M1\\.BD>TE DONE: status WAITING=0 QUEUED=0 RUNNING=0 SOURCES=OK LASTFILE=${blue2.replace(/\./g, '\\.')} LASTTIME=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\r$`));
  assert.equal(await te.ask('TE>M1.BD +swap\r', 'M1.BD'), 'M1.BD>TE DONE: +swap nothing to swap: every file is delivered when complete\r');
  assert.equal(await te.ask('TE>M1.BD flush\r', 'M1.BD'), 'M1.BD>TE ERROR: flush Unknown command\r');
});

test('after a restart, lastfile answers the last delivery of its channel recorded in the ledger', async (t) => {
  const root = await tempDir(t);
  const { server, te } = await isisWorld(t);
  const first = await startService(root, isisYaml(server.port));
  const blue = await deliver(first, root, 'mods1b', 3);
  await deliver(first, root, 'mods1r', 4); // newer, but another channel's
  await first.stop();

  const announced = server.next((r) => r.text === 'M1.BD>IS PING\r');
  const again = await startService(root, isisYaml(server.port));
  t.after(() => again.stop());
  assert.equal((await announced).from.port, again.service.isis!.port, 'the server now routes to the new port');
  assert.equal(await te.ask('TE>M1.BD lastfile\r', 'M1.BD'), `M1.BD>TE DONE: lastfile LASTFILE=${blue}\r`);
});

test('LASTFILE follows the pointer: an earlier exposure delivered after a later one is not pushed, and lastfile keeps the later one, also after a restart', async (t) => {
  const root = await tempDir(t);
  const { server, gui, te } = await isisWorld(t);
  const first = await startService(root, isisYaml(server.port));
  const statusPushes = () => gui.received.filter((m) => m.includes(' STATUS: '));
  let push = gui.next((m) => m.includes(' STATUS: '));
  // The generator exposes sequence n at 04:12:33.456 + 60 s per number: 7 is later than 6.
  const later = await deliver(first, root, 'mods1b', 7);
  assert.equal(await push, `M1.BD>MC1 STATUS: delivered LASTFILE=${later}\r`);
  const earlier = await deliver(first, root, 'mods1b', 6);
  assert.equal((await readFile(join(root, 'newdata', 'MODS1B.new'), 'utf8')).trim(), later, 'the pointer stayed');
  assert.ok(first.log.messages().some((m) => m.includes(`MODS1B.new not moved: ${earlier} (DATE-OBS`)), 'the log says why');
  assert.equal(await te.ask('TE>M1.BD lastfile\r', 'M1.BD'), `M1.BD>TE DONE: lastfile LASTFILE=${later}\r`);
  push = gui.next((m) => m.includes(' STATUS: '));
  const newest = await deliver(first, root, 'mods1b', 8);
  await push;
  // Loopback UDP from one socket arrives in order: a push for the earlier file would be before this one.
  assert.deepEqual(statusPushes(), [`M1.BD>MC1 STATUS: delivered LASTFILE=${later}\r`, `M1.BD>MC1 STATUS: delivered LASTFILE=${newest}\r`]);
  await deliver(first, root, 'mods1b', 5); // earlier again, and the last delivery the ledger knows
  await first.stop();

  const again = await startService(root, isisYaml(server.port));
  t.after(() => again.stop());
  assert.equal(await te.ask('TE>M1.BD lastfile\r', 'M1.BD'), `M1.BD>TE DONE: lastfile LASTFILE=${newest}\r`, 'what MODS1B.new names, not the last delivered');
});

test('with isis off (the section filled in, enabled: N): no port opened, nothing sent, even after a delivery', async (t) => {
  const root = await tempDir(t);
  const { server, gui, te } = await isisWorld(t);
  const registration = server.received.length;
  const before = await udpPortsOfThisProcess();
  const s = await startService(root, isisYaml(server.port, 'N'));
  t.after(() => s.stop());
  assert.equal(s.service.isis, undefined);
  if (before === undefined) {
    t.diagnostic('/proc does not list this process\'s sockets here: the port census is skipped');
  } else {
    assert.deepEqual(opened(before, (await udpPortsOfThisProcess())!), [s.service.udp!.port], 'only the trigger socket');
  }
  await deliver(s, root, 'mods1b', 5);
  await s.service.idle();
  await s.stop(); // whatever it would send on the way out is sent by then
  // The ISIS server saw only the two test nodes registering; MC1 got nothing but its PONG.
  assert.deepEqual(server.received.slice(registration), []);
  assert.deepEqual(server.received.map((r) => r.from.port).filter((p) => p !== gui.address.port && p !== te.address.port), []);
  assert.deepEqual(gui.received, ['IS>MC1 PONG\r']);
  assert.deepEqual(s.log.messages().filter((m) => m.includes('ISIS')), []);
});

