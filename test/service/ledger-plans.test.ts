/**
 * docs/behaviour.md §5.3: every statement the service and the status surface run on the ledger
 * reads through an index, so the cost of a request or an event follows tonight's work and not
 * the years of history. The statements are collected as the ledger prepares them (all of its SQL
 * is in `prepare()` of ledger-schema.ts; the layering check below keeps it there), and the plan
 * of each, on a ledger of a few thousand rows, may not scan `jobs`: a SEARCH through an index
 * is fine, and so is an index walked in order under a LIMIT (the recent list), but a SCAN of the
 * table, or of an index without a LIMIT to stop it, fails. A query added later is checked too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../../src/base/clock.js';
import { openLedger } from '../../src/service/ledger/ledger.js';
import { fillHistory } from '../helpers/ledger-history.js';
import { tempDir } from '../helpers/temp.js';

const NOW = Date.UTC(2026, 0, 15, 12);

/** Problems in one statement's plan, or [] when it only searches `jobs` through indexes. */
export function fullScans(sql: string, plan: readonly string[]): string[] {
  const bounded = /\bLIMIT\b/i.test(sql) && !plan.some((p) => /TEMP B-TREE FOR ORDER BY/.test(p));
  return plan.filter((p) => {
    if (!/\bSCAN jobs\b/.test(p)) return false;
    // An index read in its order and stopped by LIMIT touches LIMIT rows.
    return !(bounded && /\bSCAN jobs USING (COVERING )?INDEX\b/.test(p));
  });
}

/** EXPLAIN QUERY PLAN of `sql` with every parameter bound (the plan does not depend on the values). */
function planOf(db: Database.Database, sql: string): string[] {
  const names = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!))];
  const positional = (sql.match(/\?/g) ?? []).length;
  const stmt = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const args: unknown[] = names.length > 0 ? [Object.fromEntries(names.map((n) => [n, 1]))] : Array<number>(positional).fill(1);
  return (stmt.all(...args) as Array<{ detail: string }>).map((r) => r.detail);
}

test('the full-scan rule itself: a plain scan fails, an index walked under LIMIT passes, a search passes', () => {
  assert.deepEqual(fullScans('SELECT * FROM jobs', ['SCAN jobs']), ['SCAN jobs']);
  assert.deepEqual(fullScans('SELECT * FROM jobs ORDER BY updated_at', ['SCAN jobs USING INDEX jobs_updated']), ['SCAN jobs USING INDEX jobs_updated']);
  assert.deepEqual(fullScans('SELECT * FROM jobs ORDER BY updated_at LIMIT ?', ['SCAN jobs USING INDEX jobs_updated']), []);
  assert.deepEqual(fullScans('SELECT * FROM jobs ORDER BY x LIMIT ?', ['SCAN jobs', 'USE TEMP B-TREE FOR ORDER BY']), ['SCAN jobs']);
  assert.deepEqual(fullScans('SELECT * FROM jobs WHERE state = ?', ['SEARCH jobs USING INDEX jobs_state (state=?)']), []);
});

for (const analyzed of [false, true]) {
  test(`every ledger statement reads jobs through an index (${analyzed ? 'after ANALYZE' : 'no statistics, as in service'})`, async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'ledger.sqlite');
    openLedger(dir, { clock: new ManualClock(NOW) }).close();
    // A year of two channels, a few thousand rows: enough for the planner to show its choice.
    fillHistory(file, { rows: 4000, years: 1, endMs: NOW });
    if (analyzed) {
      const db = new Database(file);
      db.exec('ANALYZE');
      db.close();
    }
    const statements: string[] = [];
    const ledger = openLedger(dir, {
      clock: new ManualClock(NOW),
      onOpen: (db) => {
        const prepare = db.prepare.bind(db);
        db.prepare = ((sql: string) => { statements.push(sql); return prepare(sql); });
      },
    });
    t.after(() => ledger.close());
    assert.ok(statements.length >= 15, `collected ${statements.length} statements`);
    const db = new Database(file, { readonly: true });
    t.after(() => { db.close(); });
    const bad: string[] = [];
    for (const sql of statements) {
      const plan = planOf(db, sql);
      const scans = fullScans(sql, plan);
      if (scans.length > 0) bad.push(`${sql.replace(/\s+/g, ' ').slice(0, 160)}\n    plan: ${plan.join(' | ')}`);
    }
    assert.deepEqual(bad, [], `statements that read the whole jobs table:\n  ${bad.join('\n  ')}`);
  });
}

test('only the ledger module talks SQL: no other source file opens or prepares on better-sqlite3', () => {
  const root = join(import.meta.dirname, '../../src');
  const allowed = new Set(['service/ledger/ledger.ts', 'service/ledger/ledger-schema.ts', 'service/ledger/ledger-maintenance.ts']);
  const offenders: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && /from 'better-sqlite3'/.test(readFileSync(p, 'utf8'))) {
        const rel = relative(root, p);
        if (!allowed.has(rel)) offenders.push(rel);
      }
    }
  };
  walk(root);
  assert.deepEqual(offenders, [], 'SQL outside the ledger module escapes the query-plan check above');
});
