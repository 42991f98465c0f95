import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';

/** Things to stop before a temporary folder is removed (services writing into it). */
const stoppers = new Map<string, Array<() => Promise<unknown>>>();

/** Registers `stop` to run before the temporary folder holding `path` is removed. */
export function stopBeforeRemoval(path: string, stop: () => Promise<unknown>): void {
  const list = stoppers.get(path) ?? [];
  list.push(stop);
  stoppers.set(path, list);
}

/**
 * A fresh temporary folder, removed when the test ends — after whatever was registered with
 * `stopBeforeRemoval` under it has stopped (test hooks run in registration order, so a service
 * started later would otherwise still be writing while the folder goes).
 */
export async function tempDir(t: { after(fn: () => Promise<void> | void): void }, prefix = 'dataman-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(async () => {
    for (const [path, stops] of [...stoppers]) {
      if (path !== dir && !path.startsWith(dir + sep)) continue;
      stoppers.delete(path);
      for (const stop of stops.reverse()) await stop();
    }
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  return dir;
}
