/** Work spread over a few lanes, for commands that process many files. */

/** Runs `work` over `items`, `lanes` at a time, starting nothing new once `stopped()` says so. */
export async function inLanes<T>(items: readonly T[], lanes: number, stopped: () => boolean, work: (item: T, index: number) => Promise<void>): Promise<number> {
  let next = 0;
  let started = 0;
  const lane = async () => {
    for (;;) {
      if (stopped() || next >= items.length) return;
      const index = next++;
      started++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, items.length)) }, lane));
  return started;
}
