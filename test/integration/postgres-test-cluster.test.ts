/**
 * The throwaway PostgreSQL that tests and benchmark scripts run on (src/dev/postgres-cluster.ts)
 * must not depend on the process that started it for anything but starting and stopping it: a
 * script blocked in spawnSync, or paused in a debugger, must not stop the database under it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startOwnTestPostgres } from '../../src/dev/postgres-cluster.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

test('the test PostgreSQL answers while the process that started it is blocked, however much it logs', async (t) => {
  // each failing statement is logged with its text (the default, pinned here so that a quieter
  // setting elsewhere cannot make this test pass without logging anything)
  const postgres = await startOwnTestPostgres(['log_min_error_statement=error']);
  t.after(() => postgres.close());
  const url = await postgres.createDatabase();
  // 200 failing statements of 2 KB each: PostgreSQL logs each one with its text, 400 KB in all,
  // far more than a pipe to a process that is not reading holds
  const script = `
    const pg = require('pg');
    const client = new pg.Client({ connectionString: process.argv[1] });
    (async () => {
      await client.connect();
      for (let i = 0; i < 200; i++) {
        await client.query('SELECT 1/0 -- ' + 'x'.repeat(2000)).catch((error) => {
          if (error.code !== '22012') throw error; // division_by_zero: the failure we asked for
        });
      }
      await client.end();
      console.log('answered');
    })();`;
  // spawnSync: this process's event loop stands still until the script ends
  const result = spawnSync(process.execPath, ['-e', script, url], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.stdout.trim(), 'answered', `the statements did not finish: ${result.error?.message ?? result.stderr}`);
});
