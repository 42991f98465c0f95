/**
 * The table of behaviour.md §9 and the rows the classifier uses are one list: a deliberate
 * difference is added to both or the test says which row differs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DELIBERATE_DIFFERENCES } from '../../src/compare/index.js';

test('behaviour.md §9 lists exactly the rows of src/compare/deliberate-differences.ts, row for row', async () => {
  const text = await readFile(fileURLToPath(new URL('../../docs/behaviour.md', import.meta.url)), 'utf8');
  const section = text.split(/^## 9\. /m)[1]?.split(/^## /m)[0];
  assert.ok(section !== undefined, 'behaviour.md has a § 9');
  const rows = section.split('\n').flatMap((line) => {
    const m = /^\| (\d+) \| (.*) \| (.*) \|$/.exec(line);
    return m ? [{ row: Number(m[1]), reference: m[2], dataman: m[3] }] : [];
  });
  assert.ok(rows.length >= 13);
  assert.deepEqual(rows, DELIBERATE_DIFFERENCES.map((r) => ({ row: r.row, reference: r.reference, dataman: r.dataman })));
});
