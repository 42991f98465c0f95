import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { DatamanError } from '../../src/errors.js';
import { DEFAULT_RAW_NAME_PATTERN } from '../../src/ops/config.js';
import { memoryLogger } from '../../src/ops/logger.js';
import {
  parseTrigger, senderFilter, TriggerError, UdpTrigger, type TriggerCommand, type TriggerSender,
} from '../../src/service/discovery/udp-trigger.js';

const namePattern = new RegExp(DEFAULT_RAW_NAME_PATTERN);
const AZCAM = 'proc /home/data/mods1b.20260115.0001.fits';
const parse = (payload: string | Buffer, allowQuit = true): TriggerCommand =>
  parseTrigger(typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, { namePattern, allowQuit });

function ignoredCode(payload: string | Buffer, allowQuit = true): string {
  const r = parse(payload, allowQuit);
  assert.equal(r.kind, 'ignored', `expected ${JSON.stringify(String(payload))} to be ignored, got ${JSON.stringify(r)}`);
  assert.ok(r.kind === 'ignored' && r.reason.length > 0);
  return r.kind === 'ignored' ? r.code : '';
}

describe('parseTrigger', () => {
  test('the azcam datagram asks to process the base name (the folder is azcam\'s, not ours)', () => {
    assert.deepEqual(parse(AZCAM), { kind: 'proc', name: 'mods1b.20260115.0001.fits' });
    assert.deepEqual(parse('proc mods2r.20251210.0009.fits'), { kind: 'proc', name: 'mods2r.20251210.0009.fits' });
  });

  test('tolerates surrounding blanks, a line end and an upper-case command', () => {
    for (const p of [`${AZCAM}\n`, `${AZCAM}\r\n`, `  ${AZCAM}  `, `PROC /home/data/mods1b.20260115.0001.fits`, `Proc\t/x/mods1b.20260115.0001.fits`]) {
      assert.deepEqual(parse(p), { kind: 'proc', name: 'mods1b.20260115.0001.fits' }, JSON.stringify(p));
    }
  });

  test('quit in any case stops the service unless disabled', () => {
    assert.deepEqual(parse('quit'), { kind: 'quit' });
    assert.deepEqual(parse('QUIT\n'), { kind: 'quit' });
    assert.equal(ignoredCode('QUIT', false), 'quit-disabled');
    assert.equal(ignoredCode('quit now'), 'extra-arguments');
  });

  test('empty, blank, oversized and non-UTF-8 datagrams are ignored with a reason', () => {
    assert.equal(ignoredCode(Buffer.alloc(0)), 'empty');
    assert.equal(ignoredCode(' \r\n'), 'empty');
    assert.equal(ignoredCode(Buffer.alloc(2000, 0x61)), 'too-long');
    assert.equal(ignoredCode(Buffer.from(`proc /${'d'.repeat(1000)}/mods1b.20260115.0001.fits`)), 'too-long');
    assert.equal(ignoredCode(Buffer.from([0xff, 0xfe])), 'not-utf8');
    assert.equal(ignoredCode(Buffer.from([0x70, 0x72, 0x6f, 0x63, 0x20, 0xc3])), 'not-utf8');
  });

  test('a datagram of exactly 1024 bytes is still read', () => {
    const name = 'mods1b.20260115.0001.fits';
    const payload = `proc /${'d'.repeat(1024 - 6 - 1 - name.length)}/${name}`;
    assert.equal(Buffer.byteLength(payload), 1024);
    assert.deepEqual(parse(payload), { kind: 'proc', name });
  });

  test('unknown commands are reported in the reference\'s words', () => {
    const r = parse('hello world');
    assert.deepEqual(r, { kind: 'ignored', code: 'unknown-command', reason: 'Unknown command hello received' });
    assert.equal(ignoredCode('\u0000proc x'), 'unknown-command');
  });

  test('proc needs exactly one file name', () => {
    assert.equal(ignoredCode('proc'), 'missing-argument');
    assert.equal(ignoredCode('proc  \n'), 'missing-argument');
    assert.equal(ignoredCode('proc /home/data/my file.fits'), 'extra-arguments');
    assert.equal(ignoredCode(`${AZCAM} ${AZCAM}`), 'extra-arguments');
  });

  test('a name that is not a plain raw file name is rejected', () => {
    for (const p of [
      'proc ../../etc/passwd',
      'proc ..',
      'proc /home/data/..',
      'proc /home/data/',
      'proc mods1b.20260115.0001.fits.bak',
      'proc mods1b.20260115.0001.fit',
      'proc a\\b',
      'proc C:\\data\\mods1b.20260115.0001.fits',
      'proc mods1b.20260115.0001.fits\u0000',
      'proc mods1b.20260115.\u00070001.fits',
      'proc mods1b.20260115.0001.fits\u202e',
      'proc /home/\u001b[2J/mods1b.20260115.0001.fits',
      'proc mods3b.20260115.0001.fits',
      'proc MODS1B.20260115.0001.fits',
    ]) {
      assert.equal(ignoredCode(p), 'bad-name', JSON.stringify(p));
    }
  });

  test('reasons show control characters escaped, never raw', () => {
    const r = parse('proc mods1b\u001b[2J.fits');
    assert.ok(r.kind === 'ignored' && r.reason.includes('\\x1b[2J') && !r.reason.includes('\u001b'), JSON.stringify(r));
  });

  test('the whole base name must match, whatever the pattern\'s anchors and flags', () => {
    const loose = /mods1b\.\d{8}\.\d{4}\.fits/g;
    const opts = { namePattern: loose, allowQuit: true };
    assert.equal(parseTrigger(Buffer.from('proc x.mods1b.20260115.0001.fits'), opts).kind, 'ignored');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(parseTrigger(Buffer.from(AZCAM), opts), { kind: 'proc', name: 'mods1b.20260115.0001.fits' });
    }
  });
});

describe('senderFilter', () => {
  test('an empty allow-list lets everyone through', () => {
    assert.equal(senderFilter([])('203.0.113.9'), true);
  });

  test('addresses and CIDR blocks, IPv4 and IPv6, with IPv4-mapped senders', () => {
    const allowed = senderFilter(['192.168.139.0/24', '127.0.0.1', 'fd00::/8', '::1', '::ffff:10.1.0.0/112']);
    assert.equal(allowed('192.168.139.132'), true);
    assert.equal(allowed('::ffff:192.168.139.231'), true);
    assert.equal(allowed('192.168.140.1'), false);
    assert.equal(allowed('127.0.0.1'), true);
    assert.equal(allowed('127.0.0.2'), false);
    assert.equal(allowed('fd12:3456::1'), true);
    assert.equal(allowed('fe80::1%lo'), false);
    assert.equal(allowed('::1'), true);
    assert.equal(allowed('10.1.200.3'), true);
    assert.equal(allowed('10.2.0.1'), false);
    assert.equal(allowed('not an address'), false);
  });

  test('a malformed entry is a TriggerError naming it', () => {
    for (const bad of ['192.168.139.0/33', 'mods1', '1.2.3.4/8/9', '::1/129', '10.0.0.0/x']) {
      assert.throws(() => senderFilter([bad]), (err: unknown) => err instanceof TriggerError && err.message.includes(bad), bad);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Real sockets on the loopback interface.

async function listening(t: { after(fn: () => Promise<void> | void): void }, options: Partial<ConstructorParameters<typeof UdpTrigger>[0]> = {}) {
  const trigger = new UdpTrigger({ ipAddr: '127.0.0.1', ipPort: 0, namePattern: DEFAULT_RAW_NAME_PATTERN, ...options });
  const bound = await trigger.start();
  t.after(() => trigger.stop());
  return { trigger, port: bound.port, bound };
}

async function sender(t: { after(fn: () => Promise<void> | void): void }, address = '127.0.0.1'): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

const send = (socket: Socket, port: number, payload: string | Buffer) =>
  new Promise<void>((resolve, reject) => socket.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));

describe('UdpTrigger', () => {
  test('the azcam datagram emits proc with the base name and the sender', async (t) => {
    const { trigger, port, bound } = await listening(t);
    assert.equal(bound.address, '127.0.0.1');
    assert.ok(port > 0);
    const client = await sender(t);
    const got = once(trigger, 'proc');
    await send(client, port, AZCAM);
    const [name, from] = (await got) as [string, TriggerSender];
    assert.equal(name, 'mods1b.20260115.0001.fits');
    assert.equal(from.address, '127.0.0.1');
    assert.equal(from.port, client.address().port);
    assert.equal(from.family, 'IPv4');
  });

  test('bad datagrams are ignored with a reason and the listener keeps working', async (t) => {
    const { trigger, port } = await listening(t, { allowQuit: false });
    const client = await sender(t);
    const bad: Array<[string | Buffer, string]> = [
      ['garbage', 'unknown-command'],
      [Buffer.alloc(0), 'empty'],
      [Buffer.alloc(2000, 0x70), 'too-long'],
      [Buffer.from([0xff, 0xfe]), 'not-utf8'],
      ['proc ../../etc/passwd', 'bad-name'],
      ['proc mods1b.20260115.0001.fits.bak', 'bad-name'],
      ['proc a\\b', 'bad-name'],
      ['proc mods1b.20260115.0001\u0000.fits', 'bad-name'],
      ['proc mods1b.20260115.0001.fits\u001b[2J', 'bad-name'],
      ['QUIT', 'quit-disabled'],
    ];
    let procs = 0;
    trigger.on('proc', () => procs++);
    for (const [payload, code] of bad) {
      const got = once(trigger, 'ignored');
      await send(client, port, payload);
      const [reason, from, preview, gotCode] = (await got) as [string, TriggerSender, string, string];
      assert.equal(gotCode, code, `${JSON.stringify(String(payload))}: ${reason}`);
      assert.ok(reason.length > 0);
      assert.equal(from.address, '127.0.0.1');
      assert.ok(!/[\u0000-\u001f]/.test(reason + preview), `no raw control characters in ${JSON.stringify(reason + preview)}`);
    }
    assert.equal(procs, 0);
    const got = once(trigger, 'proc');
    await send(client, port, 'proc /home/data/mods1r.20260115.0002.fits');
    assert.equal((await got)[0], 'mods1r.20260115.0002.fits');
  });

  test('quit emits quit when allowed', async (t) => {
    const { trigger, port } = await listening(t);
    const client = await sender(t);
    const got = once(trigger, 'quit');
    await send(client, port, 'QUIT');
    const [from] = (await got) as [TriggerSender];
    assert.equal(from.address, '127.0.0.1');
  });

  test('the allow-list ignores another sender address', async (t) => {
    const { trigger, port } = await listening(t, { allowFrom: ['127.0.0.1/32'] });
    const stranger = await sender(t, '127.0.0.2');
    const friend = await sender(t, '127.0.0.1');
    let procs = 0;
    trigger.on('proc', () => procs++);
    const rejected = once(trigger, 'ignored');
    await send(stranger, port, AZCAM);
    const [reason, from, , code] = (await rejected) as [string, TriggerSender, string, string];
    assert.equal(code, 'sender-not-allowed');
    assert.equal(from.address, '127.0.0.2');
    assert.match(reason, /127\.0\.0\.2/);
    assert.equal(procs, 0);
    const accepted = once(trigger, 'proc');
    await send(friend, port, AZCAM);
    assert.equal((await accepted)[0], 'mods1b.20260115.0001.fits');
  });

  test('binding a taken port fails with a TriggerError naming the address and the cause', async (t) => {
    const { port } = await listening(t);
    const second = new UdpTrigger({ ipAddr: '127.0.0.1', ipPort: port, namePattern });
    await assert.rejects(second.start(), (err: unknown) => {
      assert.ok(err instanceof TriggerError && err instanceof DatamanError);
      assert.equal(err.code, 'udp-bind');
      assert.equal(err.message, `UDP socket binding failed - EADDRINUSE 127.0.0.1:${port}`);
      assert.equal(err.address, '127.0.0.1');
      assert.equal(err.port, port);
      assert.ok(err.hint);
      return true;
    });
    await second.stop(); // never started: resolves at once
  });

  test('a listener that throws does not take the socket down', async (t) => {
    const { trigger, port } = await listening(t);
    const client = await sender(t);
    let calls = 0;
    trigger.on('proc', () => {
      calls++;
      if (calls === 1) throw new Error('listener bug');
    });
    const failed = once(trigger, 'error');
    await send(client, port, AZCAM);
    assert.equal(((await failed)[0] as Error).message, 'listener bug');
    const again = once(trigger, 'proc');
    await send(client, port, 'proc /home/data/mods1b.20260115.0003.fits');
    assert.equal((await again)[0], 'mods1b.20260115.0003.fits');
  });

  test('with a logger it logs what it receives in the reference\'s words', async (t) => {
    const { logger, messages } = memoryLogger();
    const { trigger, port } = await listening(t, { logger });
    const client = await sender(t);
    const ignored = once(trigger, 'ignored');
    await send(client, port, 'hello');
    await ignored;
    const quit = once(trigger, 'quit');
    await send(client, port, 'quit');
    await quit;
    assert.deepEqual(messages('ERROR'), ['Unknown command hello received (from 127.0.0.1:' + client.address().port + ')']);
    assert.deepEqual(messages('INFO'), ['Received QUIT command from remote user at 127.0.0.1']);
    assert.ok(messages('DEBUG').some((m) => m.startsWith('received command: "hello"')));
  });

  test('an IPv6 address binds an IPv6 socket', async (t) => {
    const { trigger, port, bound } = await listening(t, { ipAddr: '::1', allowFrom: ['::1'] });
    assert.equal(bound.address, '::1');
    const client = createSocket('udp6');
    t.after(() => new Promise<void>((resolve) => client.close(() => resolve())));
    const got = once(trigger, 'proc');
    await new Promise<void>((resolve, reject) => client.send(AZCAM, port, '::1', (err) => (err ? reject(err) : resolve())));
    const [name, from] = (await got) as [string, TriggerSender];
    assert.equal(name, 'mods1b.20260115.0001.fits');
    assert.deepEqual([from.address, from.family], ['::1', 'IPv6']);
  });

  test('stop closes the socket and frees the port', async (t) => {
    const first = new UdpTrigger({ ipAddr: '127.0.0.1', ipPort: 0, namePattern });
    const { port } = await first.start();
    assert.deepEqual(first.address(), { address: '127.0.0.1', port });
    await first.stop();
    assert.equal(first.address(), undefined);
    const second = new UdpTrigger({ ipAddr: '127.0.0.1', ipPort: port, namePattern });
    assert.equal((await second.start()).port, port);
    t.after(() => second.stop());
  });
});
