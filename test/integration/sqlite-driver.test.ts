/**
 * better-sqlite3 is a native addon compiled on the installing machine, so how it was built is part
 * of what the server runs. Built against Node.js 24.19 or later headers, its Database and Statement
 * objects abort the whole process when the collector frees one while no JavaScript runs
 * (nodejs/node#65446); .ci/run builds it against 24.18.1's headers for that reason.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

/** Enough garbage that the collector frees some of it outside JavaScript: 20 of 20 runs aborted on a bad build. */
const DATABASES = 30_000;

const OPEN_AND_DROP = `
const Database = require(process.argv[1]);
for (let i = 0; i < Number(process.argv[2]); i++) {
  const db = new Database(':memory:');
  db.prepare('SELECT 1').get();
  db.close();
}`;

test('closed databases and their statements left to the garbage collector never abort the process', async () => {
  const child = spawn(process.execPath, ['-e', OPEN_AND_DROP, DRIVER, String(DATABASES)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, stderr);
});
