/**
 * A snapshot of the index as a store file that `serve --data-dir` opens as it is: the rows are
 * written from a copy of the index taken at one moment (the graph's `exportState`, synchronous,
 * between two turns of commands; or PostgreSQL's export, one statement), into a fresh SQLite file
 * in the temporary directory, a few thousand rows per transaction with a turn of the event loop
 * between, so that the server keeps answering while a big index is written. The file is in
 * rollback-journal mode and complete on its own (no -wal beside it); the server that opens it
 * switches it to WAL.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { GraphState } from '../graph/package-graph.js';
import type { IndexExport } from './index-export.js';
import { SCHEMA, STORE_FILE_NAME } from './sqlite-file.js';
import { encodeDependencyIds } from './sqlite-load.js';

/** Rows per transaction: long enough to write fast, short enough not to hold the event loop. */
const ROWS_PER_TURN = 4096;

export interface StoreSnapshot {
  /** The file's size. */
  readonly bytes: number;
  /** The file's bytes, read as the consumer takes them. */
  read(): AsyncIterable<Buffer>;
  /** Deletes the file. */
  release(): Promise<void>;
}

/** One store row: the package's id, its name and its dependencies' ids. */
type Row = [number, string, Buffer];

function* rowsOfGraphState(state: GraphState): Generator<Row> {
  const names = state.names.split('\n');
  for (let id = 1; id < names.length; id++) {
    const name = names[id] as string;
    if (name === '') continue;
    const start = state.starts[id] as number;
    yield [id, name, encodeDependencyIds(Array.from(state.pool.subarray(start, start + (state.lengths[id] as number))))];
  }
}

function* rowsOfExport(index: IndexExport): Generator<Row> {
  const ids = new Map<string, number>();
  index.packages.forEach((pkg, at) => ids.set(pkg.name, at + 1));
  for (const [at, pkg] of index.packages.entries()) yield [at + 1, pkg.name, encodeDependencyIds(pkg.deps.map((dep) => ids.get(dep) ?? 0))];
}

async function writeSnapshot(rows: Iterator<Row>): Promise<StoreSnapshot> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'package-indexer-snapshot-'));
  const file = path.join(dir, STORE_FILE_NAME);
  const release = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const db = new Database(file);
    try {
      // nothing reads this file before it is complete, and a crash leaves only a temporary file
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      db.exec(`BEGIN; ${SCHEMA} COMMIT;`);
      const insert = db.prepare<Row>('INSERT INTO packages (id, name, dependencies) VALUES (?, ?, ?)');
      const writeTurn = db.transaction((): boolean => {
        for (let n = 0; n < ROWS_PER_TURN; n++) {
          const next = rows.next();
          if (next.done === true) return false;
          insert.run(...next.value);
        }
        return true;
      });
      while (writeTurn()) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      db.close();
    }
    const { size } = await stat(file);
    return { bytes: size, read: () => createReadStream(file), release };
  } catch (error) {
    await release();
    throw error;
  }
}

/** A snapshot of a graph store: `state` must be the graph's copy of one moment. */
export function snapshotOfGraphState(state: GraphState): Promise<StoreSnapshot> {
  return writeSnapshot(rowsOfGraphState(state));
}

/** A snapshot of an exported index (PostgreSQL's): ids are given in export order. */
export function snapshotOfExport(index: IndexExport): Promise<StoreSnapshot> {
  return writeSnapshot(rowsOfExport(index));
}
