/**
 * The ISIS node on its own (issue #7), against a small ISIS server that routes as the real one
 * (`test/helpers/isis-peer.ts`), on loopback UDP, with a manual clock for the periodic PING.
 *
 * "Nothing was sent" is never checked by waiting: the node handles datagrams in order, so a PING
 * sent after the message under test is a barrier — when its PONG arrives, any answer to the
 * earlier message would have arrived first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { ManualClock } from '../../src/base/clock.js';
import { memoryLogger } from '../../src/ops/logger.js';
import { IsisClient, type CommandHandler } from '../../src/service/surface/isis/client.js';
import { IsisPeerNode, IsisPeerServer, type Address } from '../helpers/isis-peer.js';

const INTERVAL = 30_000;

async function setUp(t: { after(fn: () => Promise<void> | void): void }, commands: Array<[string, CommandHandler]> = []) {
  const server = await IsisPeerServer.start();
  t.after(() => server.close());
  const clock = new ManualClock();
  const log = memoryLogger();
  const client = new IsisClient({
    node: 'm1.bd', server: { host: '127.0.0.1', port: server.port }, local: { host: '127.0.0.1', port: 0 },
    pingIntervalMs: INTERVAL, commands: new Map(commands), timers: clock, logger: log.logger,
  });
  const announced = server.next((r) => r.text === 'M1.BD>IS PING\r');
  const bound = await client.start();
  t.after(() => client.close());
  const first = await announced;
  const te = await IsisPeerNode.start(server, 'TE');
  t.after(() => te.close());
  const node: Address = { address: bound.host, port: bound.port };
  /** What the node has sent to the server so far. */
  const sent = () => server.from(node);
  /** A PING through the server and its PONG: everything the node sent before has arrived. */
  const barrier = async () => assert.equal(await te.ask('TE>M1.BD PING\r', 'M1.BD'), 'M1.BD>TE PONG\r');
  return { server, clock, log, client, te, node, first, sent, barrier };
}

test('announces itself with <ID>>IS PING from the port it listens on, so the server routes to it', async (t) => {
  const { server, first, node, te } = await setUp(t);
  assert.deepEqual(first.from, node, 'the PING came from the bound port');
  assert.deepEqual(server.hosts.get('M1.BD'), node, 'the server registered the node at its listening port');
  // Routed by the server to the registered address, answered from it.
  assert.equal(await te.ask('te>m1.bd PING\r', 'M1.BD'), 'M1.BD>TE PONG\r');
});

test('pings the server again every pingIntervalMs on the service clock, and stops on close', async (t) => {
  const { clock, client, sent, server, barrier } = await setUp(t);
  const pings = () => sent().filter((s) => s === 'M1.BD>IS PING\r').length;
  assert.equal(pings(), 1);
  clock.advance(INTERVAL - 1);
  await barrier();
  assert.equal(pings(), 1, 'no second PING before the interval');
  let more = server.next((r) => r.text === 'M1.BD>IS PING\r');
  clock.advance(1);
  await more;
  assert.equal(pings(), 2);
  for (let i = 3; i <= 5; i++) {
    more = server.next((r) => r.text === 'M1.BD>IS PING\r');
    clock.advance(INTERVAL);
    await more;
    assert.equal(pings(), i);
  }
  assert.equal(clock.pendingTimers, 1, 'one PING scheduled at a time');
  await client.close();
  assert.equal(clock.pendingTimers, 0, 'close cancels the next PING');
});

test('answers commands through the server: DONE: for a known one, ERROR: <cmd> Unknown command otherwise; EXEC: too', async (t) => {
  const { te } = await setUp(t, [['lastfile', () => ({ done: 'LASTFILE=mods1b.20260115.0007.fits' })], ['fail', () => ({ error: 'cannot' })]]);
  assert.equal(await te.ask('TE>M1.BD lastfile\r', 'M1.BD'), 'M1.BD>TE DONE: lastfile LASTFILE=mods1b.20260115.0007.fits\r');
  assert.equal(await te.ask('TE>M1.BD LASTFILE\r', 'M1.BD'), 'M1.BD>TE DONE: LASTFILE LASTFILE=mods1b.20260115.0007.fits\r', 'the command word is echoed as sent');
  assert.equal(await te.ask('TE>M1.BD REQ: lastfile\r', 'M1.BD'), 'M1.BD>TE DONE: lastfile LASTFILE=mods1b.20260115.0007.fits\r');
  assert.equal(await te.ask('TE>M1.BD EXEC: lastfile\r', 'M1.BD'), 'M1.BD>TE DONE: lastfile LASTFILE=mods1b.20260115.0007.fits\r');
  assert.equal(await te.ask('TE>M1.BD fail\r', 'M1.BD'), 'M1.BD>TE ERROR: fail cannot\r');
  assert.equal(await te.ask('TE>M1.BD frobnicate 3\r', 'M1.BD'), 'M1.BD>TE ERROR: frobnicate Unknown command\r');
  // A plain QUIT is not a way to stop the service.
  assert.equal(await te.ask('TE>M1.BD EXEC: QUIT\r', 'M1.BD'), 'M1.BD>TE ERROR: QUIT Unknown command\r');
});

test('never answers a PONG, a reply (DONE:, STATUS:, WARNING:, ERROR:, FATAL:) or a heartbeat', async (t) => {
  const { te, node, sent, barrier, log } = await setUp(t, [['lastfile', () => ({ done: 'LASTFILE=x' })]]);
  const before = sent().length;
  const receivedBefore = te.received.length;
  for (const text of ['TE>M1.BD PONG\r', 'TE>M1.BD pong\r', 'TE>M1.BD DONE: lastfile LASTFILE=y\r', 'TE>M1.BD STATUS: lastfile\r',
    'TE>M1.BD WARNING: lastfile\r', 'TE>M1.BD ERROR: lastfile\r', 'TE>M1.BD FATAL: lastfile\r']) {
    await te.send(text);
  }
  // The server keeps heartbeats to itself, so this one goes straight to the node.
  await te.sendDirect('TE>M1.BD\r', node);
  await barrier();
  assert.deepEqual(sent().slice(before), ['M1.BD>TE PONG\r'], 'only the barrier was answered');
  assert.deepEqual(te.received.slice(receivedBefore), ['M1.BD>TE PONG\r']);
  assert.ok(log.messages('warn').some((m) => m === 'ISIS: TE says ERROR: lastfile'), log.messages('warn').join('\n'));
});

test('a broadcast IS>AL PING (the server\'s handshake) is answered with a PONG to IS; unknown broadcast commands are not answered', async (t) => {
  const { server, node, te, sent, barrier } = await setUp(t);
  const pong = server.next((r) => r.from.port === node.port && r.text === 'M1.BD>IS PONG\r');
  await server.handshake();
  await pong;
  const before = sent().length;
  await te.send('TE>AL frobnicate\r');
  await barrier();
  assert.deepEqual(sent().slice(before), ['M1.BD>TE PONG\r']);
});

test('tolerant on the wire: \\n or no terminator, lower case, extra spaces; replies go back to a peer that talks directly', async (t) => {
  const { te, node } = await setUp(t, [['lastfile', () => ({ done: 'LASTFILE=a.fits' })]]);
  for (const text of ['te>m1.bd lastfile\n', 'TE>M1.BD   lastfile', '  TE>M1.BD lastfile \r\n']) {
    const answer = te.next();
    await te.sendDirect(text, node);
    assert.equal(await answer, 'M1.BD>TE DONE: lastfile LASTFILE=a.fits\r', JSON.stringify(text));
  }
});

test('malformed messages are logged and ignored, oversized ones flagged; messages for another node are ignored', async (t) => {
  const { te, node, log, barrier } = await setUp(t, [['lastfile', () => ({ done: 'LASTFILE=a.fits' })]]);
  const receivedBefore = te.received.length;
  const bad = ['no header here\r', 'TE>M1.BD lastfile\0', '>M1.BD lastfile\r', 'TE >M1.BD lastfile\r', `TE>M1.BD lastfile ${'x'.repeat(2100)}\r`, 'TE>XX.BD lastfile\r'];
  for (const text of bad) await te.sendDirect(text, node);
  await barrier();
  assert.deepEqual(te.received.slice(receivedBefore), ['M1.BD>TE PONG\r'], 'nothing but the barrier answered');
  const warnings = log.messages('warn');
  assert.equal(warnings.filter((w) => /malformed message from 127\.0\.0\.1:\d+ ignored/.test(w)).length, 5, warnings.join('\n'));
  assert.equal(warnings.filter((w) => w.includes('OVERSIZED malformed message')).length, 1, warnings.join('\n'));
  assert.ok(warnings.some((w) => w.startsWith('ISIS: message for XX.BD from ') && w.includes('(this node is M1.BD)')), warnings.join('\n'));
});

test('a command that throws is answered with ERROR: and the node keeps serving', async (t) => {
  const { te, log, barrier } = await setUp(t, [['status', () => { throw new Error('ledger gone'); }]]);
  assert.equal(await te.ask('TE>M1.BD status\r', 'M1.BD'), 'M1.BD>TE ERROR: status internal error, see the dataman log\r');
  assert.ok(log.messages('error').includes('ISIS: status from TE failed: ledger gone'));
  await barrier();
});

test('start fails with isis-bind, naming the address, when the port is taken', async (t) => {
  const taken = createSocket('udp4');
  await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => taken.close(() => r())));
  const port = taken.address().port;
  const client = new IsisClient({
    node: 'M1.BD', server: { host: '127.0.0.1', port: 6600 }, local: { host: '127.0.0.1', port },
    pingIntervalMs: INTERVAL, commands: new Map(), timers: new ManualClock(), logger: memoryLogger().logger,
  });
  await assert.rejects(client.start(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'isis-bind');
    assert.match(err.message, new RegExp(`cannot bind the ISIS client to 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    return true;
  });
});
