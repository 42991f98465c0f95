import assert from 'node:assert/strict';

/** ERFA's `vvd`: |actual − expected| ≤ tolerance, with a message that shows both. */
export function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  const delta = Math.abs(actual - expected);
  assert.ok(
    delta <= tolerance,
    `${what}: got ${actual}, expected ${expected} ± ${tolerance} (off by ${delta.toPrecision(3)})`,
  );
}

/** Asserts that `fn` throws a DatamanError with `code` whose message matches `pattern`. */
export function assertThrowsCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error, 'an Error');
    assert.equal((err as Error & { code?: string }).code, code, (err).message);
    if (pattern) assert.match((err).message, pattern);
    return true;
  });
}
