import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { closeSync, openSync, utimesSync } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeRaw } from '../../src/simulate/index.js';
import { tempDir } from '../helpers/temp.js';
import { makeFolders, serviceConfigText } from '../helpers/service.js';
import { startChild } from '../helpers/service-child.js';

const DAY = 86_400_000;
const yyyymmdd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

test('a raw folder of 3,000 old files: a file only the watcher sees is delivered, and the UDP trigger answers', async (t) => {
  const root = await tempDir(t);
  await makeFolders(root);
  const folder = join(root, 'raw', 'mods1b');
  // Past nights' files (300 a night, the newest 10 days ago), modified 10 days ago: a raw
  // folder nobody cleaned. Small files: only their number matters here.
  const tenDaysAgo = Date.now() - 10 * DAY;
  for (let i = 0; i < 3000; i++) {
    const path = join(folder, `mods1b.${yyyymmdd(tenDaysAgo - Math.floor(i / 300) * DAY)}.${String((i % 300) + 1).padStart(4, '0')}.fits`);
    closeSync(openSync(path, 'w'));
    utimesSync(path, tenDaysAgo / 1000, tenDaysAgo / 1000);
  }
  const configPath = join(root, 'dataman.yaml');
  await writeFile(configPath, serviceConfigText(root));
  const run = startChild(configPath);
  t.after(() => { if (run.child.exitCode === null) run.child.kill('SIGKILL'); });
  await run.ready;
  const port = Number(/READY (\d+)/.exec(run.output())![1]);
  const tonight = yyyymmdd(Date.now());

  // Written the way azcam writes (in place, CONPARS appended later), with no trigger.
  const seen = await writeRaw(folder, { instrument: 'mods1b', roi: '1k', obsDate: tonight, seq: 1, write: 'azcam', conparsDelayMs: 200 });
  await run.until((o) => o.includes(`Done: ${seen.name} processed`));

  const named = await writeRaw(folder, { instrument: 'mods1b', roi: '1k', obsDate: tonight, seq: 2, seed: 2 });
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.send(`proc /home/data/${named.name}`, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  socket.close();
  await run.until((o) => o.includes(`Done: ${named.name} processed`));
  for (const name of [seen.name, named.name]) await access(join(root, 'newdata', name));
  assert.doesNotMatch(run.output(), new RegExp(`mods1b\\.(?!${tonight})\\d{8}\\.\\d{4}\\.fits`), 'no old file was taken in');
  run.child.kill('SIGTERM');
  await new Promise((r) => run.child.once('exit', r));
});
