/**
 * Reads the whole store into the graph at startup, fast enough for a million packages in
 * seconds. better-sqlite3 costs one to two microseconds for every row it hands to JavaScript, so
 * each query hands over thousands of rows as a few long values (group_concat) that JavaScript
 * splits; dependencies arrive as ids, so building the graph hashes no dependency name. Anything
 * that cannot be from a healthy store is refused as corrupt.
 */
import os from 'node:os';
import type Database from 'better-sqlite3';
import { StoreOpenError } from '../errors.js';
import type { PackageGraph } from '../graph/package-graph.js';
import { isValidPackageName } from '../protocol/parse.js';
import { refusal } from './sqlite-file.js';

const CHUNK_ROWS = 8192;

const CHUNK_ROWS_QUERY = `SELECT id, name, dependencies FROM packages WHERE id > ? ORDER BY id LIMIT ${CHUNK_ROWS}`;
// the aggregates of one query see the same rows in the same order, so their lists line up
const CHUNK_QUERY = `
  SELECT count(*), group_concat(id, ','), group_concat(name, char(10)), group_concat(length(dependencies), ','),
         CAST(group_concat(dependencies, '') AS BLOB)
  FROM (${CHUNK_ROWS_QUERY})`;
const REPEATED_NAME_QUERY = 'SELECT name, min(id), max(id) FROM packages GROUP BY name HAVING count(*) > 1 LIMIT 1';
/** How much of a bad name a refusal quotes. */
const QUOTED_NAME_CHARS = 64;

/** Ids are int32 in the dependency lists. */
const MAX_ID = 2 ** 31 - 1;

/** What the rows loaded so far are checked against. */
interface LoadCheck {
  readonly file: string;
  readonly maxId: number;
  /** By dependency id: the last row that listed it, to find a list that names one twice. */
  readonly listedBy: Int32Array;
}

interface Chunk {
  readonly ids: number[];
  readonly names: string[];
  readonly byteLengths: number[];
  /** The chunk's dependency lists, one after the other. */
  readonly dependencyIds: Int32Array;
}

/** Yields to the event loop between chunks, so that the admin port answers while a big store loads. */
export async function loadStore(db: Database.Database, file: string, graph: PackageGraph): Promise<void> {
  try {
    const maxId = reserveFor(db, file, graph);
    const check: LoadCheck = { file, maxId, listedBy: new Int32Array(maxId + 1) };
    const query = db.prepare(CHUNK_QUERY).raw();
    let after = 0;
    let rows = 0;
    for (;;) {
      const chunk = decodeChunk(query.get(after) as unknown[] | undefined, file);
      if (chunk === 'names-misaligned') throw badNameAfter(db, after, file);
      if (chunk === undefined) break;
      addChunk(graph, chunk, check);
      rows += chunk.ids.length;
      after = chunk.ids[chunk.ids.length - 1] as number;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // a repeated name took over its first row's entry instead of adding one
    if (graph.size !== rows) throw repeatedName(db, file);
  } catch (error) {
    throw refusal(error, file);
  }
  for (const { name, dependencyId } of graph.missingDependencies()) {
    throw corrupt(file, `the row of ${quoted(name)} (id ${graph.idOf(name) ?? '?'}) lists dependency id ${dependencyId}, which is not stored`);
  }
}

/**
 * Sizes the graph once instead of growing it step by step: ids by the largest stored id (a cheap
 * b-tree lookup), dependency ids by the file's size, which bounds the bytes they take.
 */
function reserveFor(db: Database.Database, file: string, graph: PackageGraph): number {
  const [minId, maxId] = db.prepare('SELECT min(id), max(id) FROM packages').raw().get() as unknown[];
  if (typeof minId !== 'number' || typeof maxId !== 'number') return 0;
  // the chunks start after id 0, so they would skip such a row without a word
  if (minId < 1) throw corrupt(file, `a row has id ${minId}`);
  const pageCount = db.pragma('page_count', { simple: true });
  const pageSize = db.pragma('page_size', { simple: true });
  const fileBytes = typeof pageCount === 'number' && typeof pageSize === 'number' ? pageCount * pageSize : 0;
  if (maxId > MAX_ID) throw corrupt(file, `a row has id ${maxId}`);
  graph.reserve(maxId, Math.floor(fileBytes / 4));
  return maxId;
}

/** Encodes dependency ids as a row stores them: 4 bytes each, little-endian. */
export function encodeDependencyIds(ids: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(ids.length * 4);
  for (let i = 0; i < ids.length; i++) bytes.writeInt32LE(ids[i] as number, i * 4);
  return bytes;
}

/** 'names-misaligned': a name holds the separator, so names and ids no longer line up. */
function decodeChunk(row: unknown[] | undefined, file: string): Chunk | 'names-misaligned' | undefined {
  const [count, idText, nameText, lengthText, dependencies] = row ?? [0];
  if (count === 0) return undefined;
  if (
    typeof count !== 'number' ||
    typeof idText !== 'string' ||
    typeof nameText !== 'string' ||
    typeof lengthText !== 'string' ||
    !Buffer.isBuffer(dependencies)
  ) {
    throw corrupt(file, 'a row holds a value of the wrong type');
  }
  const ids = parseIntegers(idText, count);
  const byteLengths = parseIntegers(lengthText, count);
  const names = nameText.split('\n');
  if (ids === undefined || byteLengths === undefined) throw corrupt(file, 'a row holds a malformed id or dependency list');
  if (names.length !== count) return 'names-misaligned';
  return { ids, names, byteLengths, dependencyIds: int32s(dependencies) };
}

/** The bytes as little-endian int32s: a view where the platform allows one, else a copy. */
function int32s(bytes: Buffer): Int32Array {
  const length = bytes.byteLength >> 2;
  if (os.endianness() === 'LE' && bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, length);
  const copy = Buffer.alloc(length * 4);
  bytes.copy(copy, 0, 0, copy.byteLength);
  if (os.endianness() === 'BE') copy.swap32();
  return new Int32Array(copy.buffer, copy.byteOffset, length);
}

/**
 * Holds every row to the rules the protocol enforces on the way in: a valid name [P-NAME-1], and
 * a list of distinct [P-DEPS-1] stored packages other than itself [P-DEPS-3] [P-INDEX-1]. A row
 * that breaks them could be neither reached nor removed by any command.
 */
function addChunk(graph: PackageGraph, { ids, names, byteLengths, dependencyIds }: Chunk, { file, maxId, listedBy }: LoadCheck): void {
  let next = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    const name = names[i] as string;
    const byteLength = byteLengths[i] as number;
    const count = byteLength / 4;
    if (id < 1 || id > MAX_ID || !Number.isInteger(count) || next + count > dependencyIds.length) {
      throw corrupt(file, `the row with id ${id} is malformed`);
    }
    if (!isValidPackageName(name)) throw corrupt(file, `the row with id ${id} has the name ${quoted(name)}, which breaks the name rule`);
    for (let k = next; k < next + count; k++) {
      const dep = dependencyIds[k] as number;
      if (dep < 1 || dep > maxId) throw corrupt(file, `the row of ${quoted(name)} (id ${id}) lists dependency id ${dep}, which is not stored`);
      if (dep === id) throw corrupt(file, `the row of ${quoted(name)} (id ${id}) lists itself as a dependency`);
      if (listedBy[dep] === id) throw corrupt(file, `the row of ${quoted(name)} (id ${id}) lists dependency id ${dep} twice`);
      listedBy[dep] = id;
    }
    graph.put(id, name, dependencyIds, next, count);
    next += count;
  }
  if (next !== dependencyIds.length) throw corrupt(file, 'the dependency lists do not add up');
}

/** Reads the chunk after `after` row by row to name the row whose name holds a line feed. */
function badNameAfter(db: Database.Database, after: number, file: string): StoreOpenError {
  for (const row of db.prepare(CHUNK_ROWS_QUERY).iterate(after) as Iterable<{ id: number; name: unknown }>) {
    if (typeof row.name !== 'string' || !isValidPackageName(row.name)) {
      return corrupt(file, `the row with id ${row.id} has the name ${quoted(String(row.name))}, which breaks the name rule`);
    }
  }
  return corrupt(file, `a row after id ${after} holds a malformed name`);
}

function repeatedName(db: Database.Database, file: string): StoreOpenError {
  const [name, firstId, lastId] = (db.prepare(REPEATED_NAME_QUERY).raw().get() as unknown[] | undefined) ?? [];
  if (typeof name !== 'string') return corrupt(file, 'a name is stored more than once');
  return corrupt(file, `the rows with ids ${String(firstId)} and ${String(lastId)} both hold the name ${quoted(name)}`);
}

/** A name as a refusal quotes it: on one line, printable, unambiguous, not too long. */
function quoted(name: string): string {
  const escaped = name.slice(0, QUOTED_NAME_CHARS).replace(/[^\x20-\x7e]|["\\]/gu, (char) => {
    if (char === '"' || char === '\\') return `\\${char}`;
    return `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`;
  });
  return `"${escaped}"${name.length > QUOTED_NAME_CHARS ? ` (${name.length} characters)` : ''}`;
}

/** Parses `count` comma-separated whole numbers; undefined when the text is anything else. */
function parseIntegers(text: string, count: number): number[] | undefined {
  const values = new Array<number>(count);
  let at = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x2c; // ,
    if (code >= 0x30 && code <= 0x39 && digits < 15) {
      value = value * 10 + (code - 0x30);
      digits++;
    } else if (code === 0x2c && digits > 0 && at < count) {
      values[at++] = value;
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  return at === count ? values : undefined;
}

function corrupt(file: string, detail: string): StoreOpenError {
  return new StoreOpenError('PI_ERR_STORE_OPEN_CORRUPT', file, `${file} is corrupt (${detail}); restore it from a backup`);
}
