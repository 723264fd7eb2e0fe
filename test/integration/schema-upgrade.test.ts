/**
 * A store written by an older package-indexer is upgraded in place at startup, in one transaction
 * per step, and keeps every package; the upgrade is logged.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { APPLICATION_ID, SCHEMA_VERSION, STORE_FILE_NAME } from '../../src/store/sqlite-file.js';
import { encodeDependencyIds } from '../../src/store/sqlite-load.js';
import { run } from '../contract/backend-contract.js';
import { tempDir } from '../helpers/serve-child.js';
import { backendAt } from '../helpers/store-files.js';

/** The layout of schema version 1, as that version wrote it. */
function writeVersion1Store(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, STORE_FILE_NAME));
  db.exec(`
    CREATE TABLE packages (id INTEGER PRIMARY KEY, name TEXT NOT NULL, dependencies BLOB NOT NULL) STRICT;
    PRAGMA application_id = ${APPLICATION_ID};
    PRAGMA user_version = 1;
  `);
  const insert = db.prepare('INSERT INTO packages (id, name, dependencies) VALUES (?, ?, ?)');
  insert.run(1, 'a', encodeDependencyIds([]));
  insert.run(2, 'b', encodeDependencyIds([1]));
  db.close();
}

test('a store of schema version 1 is upgraded, logged, and keeps its packages', async (t) => {
  const dataDir = tempDir(t);
  writeVersion1Store(dataDir);
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  const backend = backendAt(dataDir, pino({ level: 'info' }, sink));
  await backend.open();
  assert.deepEqual(await run(backend, 'QUERY|a|', 'QUERY|b|', 'REMOVE|a|', 'INDEX|c|b'), ['OK', 'OK', 'FAIL', 'OK']);
  await backend.close();
  assert.deepEqual(
    lines.filter((line) => line.msg === 'store schema upgraded').map((line) => [line.from, line.to]),
    [[1, 2]],
  );

  const db = new Database(path.join(dataDir, STORE_FILE_NAME), { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(db.prepare('SELECT commits FROM commit_counter').pluck().get(), 1);
});
