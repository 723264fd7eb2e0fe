/**
 * A restart holds every stored row to the protocol's rules (docs/protocol.md): a row that no
 * command could have written, or that no command could reach or remove, is refused as corrupt
 * with the row named, through the backend (PI_ERR_STORE_OPEN_CORRUPT) and through `serve` (exit 3,
 * one line naming the file and the row), and the files are left as they were.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type Database from 'better-sqlite3';
import { STORE_FILE_NAME } from '../../src/store/sqlite-file.js';
import { encodeDependencyIds } from '../../src/store/sqlite-load.js';
import { run } from '../contract/backend-contract.js';
import { serveUntilExit, tempDir } from '../helpers/serve-child.js';
import { assertRefusedOnOneLine, backendAt, editStore, patchStoreBytes, storeWith } from '../helpers/store-files.js';

interface DamagedRow {
  readonly row: string;
  /** What the refusal must name besides the file: the row's id. */
  readonly named: string;
  damage(dataDir: string): Promise<void>;
}

/** A store of a, b (depends on a) and c (depends on a and b), then `edit`. */
function abcThen(edit: (db: Database.Database) => void): (dataDir: string) => Promise<void> {
  return async (dataDir) => {
    await storeWith(dataDir, 'INDEX|a|', 'INDEX|b|a', 'INDEX|c|a,b');
    editStore(dataDir, edit);
  };
}

const setDependencies = (id: number, ids: number[]) => (db: Database.Database) => {
  db.prepare('UPDATE packages SET dependencies = ? WHERE id = ?').run(encodeDependencyIds(ids), id);
};

const setName = (id: number, name: string) => (db: Database.Database) => {
  db.prepare('UPDATE packages SET name = ? WHERE id = ?').run(name, id);
};

const DAMAGED_ROWS: readonly DamagedRow[] = [
  {
    row: 'whose name has a byte changed to a space',
    named: 'id 1',
    async damage(dataDir) {
      await storeWith(dataDir, 'INDEX|abcdef|', 'INDEX|other|abcdef');
      patchStoreBytes(dataDir, 'abcdef', Buffer.from('ab def'));
    },
  },
  {
    row: 'whose name has a byte changed to 0xFF (not UTF-8)',
    named: 'id 1',
    async damage(dataDir) {
      await storeWith(dataDir, 'INDEX|abcdef|', 'INDEX|other|abcdef');
      patchStoreBytes(dataDir, 'abcdef', Buffer.from([0x61, 0x62, 0xff, 0x64, 0x65, 0x66]));
    },
  },
  {
    row: 'whose name holds a line feed, in the second chunk of rows',
    named: 'id 9001',
    async damage(dataDir) {
      await storeWith(dataDir, ...Array.from({ length: 9100 }, (_, i) => `INDEX|p${i + 1}|`));
      editStore(dataDir, setName(9001, 'p9001\nx'));
    },
  },
  { row: 'with an empty name', named: 'id 2', damage: abcThen(setName(2, '')) },
  { row: 'with a name of 256 characters', named: 'id 2', damage: abcThen(setName(2, 'n'.repeat(256))) },
  { row: 'that lists itself as a dependency', named: 'id 2', damage: abcThen(setDependencies(2, [1, 2])) },
  { row: 'that lists a dependency twice', named: 'id 3', damage: abcThen(setDependencies(3, [1, 2, 1])) },
  { row: 'that lists a dependency id beyond every stored id', named: 'id 2', damage: abcThen(setDependencies(2, [99])) },
  {
    row: 'that lists a dependency whose row is gone',
    named: 'id 2',
    damage: abcThen((db) => {
      setDependencies(3, [])(db);
      db.prepare('DELETE FROM packages WHERE id = 1').run();
    }),
  },
  { row: 'whose name another row also holds', named: 'ids 1 and 3', damage: abcThen(setName(3, 'a')) },
  {
    row: 'with id 0',
    named: 'id 0',
    damage: abcThen((db) => db.prepare("INSERT INTO packages (id, name, dependencies) VALUES (0, 'zero', x'')").run()),
  },
  {
    row: 'whose dependency list is not a whole number of ids',
    named: 'id 2',
    damage: abcThen((db) => db.prepare("UPDATE packages SET dependencies = x'010000' WHERE id = 2").run()),
  },
];

/** Every file of the directory with its bytes, to show a refusal touched nothing. */
function filesOf(dir: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) result[name] = fs.readFileSync(path.join(dir, name)).toString('base64');
  return result;
}

describe('loading checks every row', () => {
  for (const { row, named, damage } of DAMAGED_ROWS) {
    test(`a store with a row ${row} is refused as corrupt, naming the file and ${named}`, async (t) => {
      const dataDir = tempDir(t);
      await damage(dataDir);
      const before = filesOf(dataDir);
      await assert.rejects(backendAt(dataDir).open(), { code: 'PI_ERR_STORE_OPEN_CORRUPT' });
      assertRefusedOnOneLine(await serveUntilExit(t, ['--data-dir', dataDir]), path.join(dataDir, STORE_FILE_NAME), named);
      assert.deepEqual(filesOf(dataDir), before);
    });
  }

  test('a store file cut short (no write-ahead log) is refused as corrupt, naming the file', async (t) => {
    const dataDir = tempDir(t);
    await storeWith(dataDir, ...Array.from({ length: 3000 }, (_, i) => `INDEX|package-number-${i}|`));
    const file = path.join(dataDir, STORE_FILE_NAME);
    const pageBytes = 4096;
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2 / pageBytes) * pageBytes);
    await assert.rejects(backendAt(dataDir).open(), { code: 'PI_ERR_STORE_OPEN_CORRUPT' });
    assertRefusedOnOneLine(await serveUntilExit(t, ['--data-dir', dataDir]), file);
  });

  test('rows at the edges of the rules load and answer as they were written', async (t) => {
    const dataDir = tempDir(t);
    const longest = `${'x'.repeat(254)}y`;
    const everyCharacter = 'Az09._+@/:~-';
    const many = Array.from({ length: 300 }, (_, i) => `dep${i}`);
    await storeWith(
      dataDir,
      `INDEX|${longest}|`,
      `INDEX|${everyCharacter}|${longest}`,
      ...many.map((name) => `INDEX|${name}|`),
      `INDEX|hub|${many.join(',')},${everyCharacter}`,
    );
    const backend = backendAt(dataDir);
    await backend.open();
    t.after(() => backend.close());
    assert.deepEqual(await run(backend, `QUERY|${longest}|`, `QUERY|${everyCharacter}|`, 'QUERY|hub|', `REMOVE|${everyCharacter}|`), [
      'OK',
      'OK',
      'OK',
      'FAIL',
    ]);
    assert.equal((await backend.reader.describe('hub', 1))?.dependencies.length, 301);
  });
});
