/**
 * Builds and damages embedded-store files for the tests of what a restart makes of them: a store
 * written through the backend's own path, edited behind its back with SQL or raw bytes, and the
 * one-line refusal `serve` must print for it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EXIT_STATUS } from '../../src/errors.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { SqliteBackend } from '../../src/store/sqlite-backend.js';
import { STORE_FILE_NAME } from '../../src/store/sqlite-file.js';
import { run } from '../contract/backend-contract.js';
import type { Finished } from './serve-child.js';

export function backendAt(dataDir: string, logger: Logger = silentLogger()): SqliteBackend {
  return new SqliteBackend({ dataDir, fsync: 'normal', logger, metrics: createMetrics({ processMetrics: false }) });
}

/** Writes the lines through a backend, which must answer OK to each, and closes it. */
export async function storeWith(dataDir: string, ...lines: string[]): Promise<void> {
  const backend = backendAt(dataDir);
  await backend.open();
  const replies = await run(backend, ...lines);
  await backend.close();
  assert.deepEqual(
    replies.filter((reply) => reply !== 'OK'),
    [],
    'every line of the store is accepted',
  );
}

/** Runs statements on the store file directly, as a careless tool or a bad disk would change it. */
export function editStore(dataDir: string, edit: (db: Database.Database) => void): void {
  const db = new Database(path.join(dataDir, STORE_FILE_NAME));
  try {
    edit(db);
  } finally {
    db.close();
  }
}

/** Replaces the first occurrence of `text` in the store file's bytes with `replacement` (same length). */
export function patchStoreBytes(dataDir: string, text: string, replacement: Buffer): void {
  assert.equal(replacement.length, Buffer.byteLength(text));
  const file = path.join(dataDir, STORE_FILE_NAME);
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf(text);
  assert.ok(at >= 0, `${text} is in ${file}`);
  replacement.copy(bytes, at);
  fs.writeFileSync(file, bytes);
}

/** Exit 3 and exactly one line on stderr, which names every given place. */
export function assertRefusedOnOneLine(result: Finished, ...places: string[]): void {
  assert.equal(result.code, EXIT_STATUS.storeRefused, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${JSON.stringify(result.stderr)}`);
  for (const place of places) assert.ok(lines[0]?.includes(place), `the line names ${place}: ${result.stderr}`);
}
