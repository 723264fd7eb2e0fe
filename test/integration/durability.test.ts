/**
 * The embedded store on real SQLite files: what survives a restart, the one-server-per-directory
 * lock, refusing stores it must not touch (through the real executable: exit code 3, one line
 * naming the place), a commit that fails, in-memory mode and graceful shutdown.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { EXIT_STATUS } from '../../src/errors.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import type { Reply } from '../../src/protocol/types.js';
import { SqliteBackend } from '../../src/store/sqlite-backend.js';
import { PID_FILE_NAME, SCHEMA_VERSION, STORE_FILE_NAME } from '../../src/store/sqlite-file.js';
import { commandsOf, run } from '../contract/backend-contract.js';
import { RawClient, metricValue, waitFor } from '../helpers/server-harness.js';
import { RUNNING_AS_ROOT, serveUntilExit, startServe, tempDir, type Finished } from '../helpers/serve-child.js';

function backendAt(dataDir: string, options: { fsync?: 'always' | 'normal'; logger?: Logger; metrics?: Metrics } = {}): SqliteBackend {
  return new SqliteBackend({
    dataDir,
    fsync: options.fsync ?? 'normal',
    logger: options.logger ?? silentLogger(),
    metrics: options.metrics ?? createMetrics({ processMetrics: false }),
  });
}

async function openedAt(t: TestContext, dataDir: string, options: Parameters<typeof backendAt>[1] = {}): Promise<SqliteBackend> {
  const backend = backendAt(dataDir, options);
  await backend.open();
  t.after(() => backend.close());
  return backend;
}

/** Every package with its sorted dependencies, as the backend answers. */
async function contents(backend: SqliteBackend): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const name of await backend.reader.list({ prefix: '', after: '', limit: 1_000_000 })) {
    result[name] = (await backend.reader.describe(name, 1_000))?.dependencies.slice() ?? [];
  }
  return result;
}

/** The store file read directly: package names with their sorted dependency names. */
function storedRows(dataDir: string): Record<string, string[]> {
  const db = new Database(path.join(dataDir, STORE_FILE_NAME), { readonly: true });
  try {
    const rows = db.prepare('SELECT id, name, dependencies FROM packages').all() as Array<{ id: number; name: string; dependencies: Buffer }>;
    const names = new Map(rows.map((row) => [row.id, row.name]));
    const result: Record<string, string[]> = {};
    for (const row of rows.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const deps: string[] = [];
      for (let at = 0; at < row.dependencies.length; at += 4) deps.push(names.get(row.dependencies.readInt32LE(at)) ?? '?');
      result[row.name] = deps.sort();
    }
    return result;
  } finally {
    db.close();
  }
}

/** Every file of the directory with its bytes, to show a refusal touched nothing. */
function filesOf(dir: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) result[name] = fs.readFileSync(path.join(dir, name)).toString('base64');
  return result;
}

async function storeWith(dataDir: string, ...lines: string[]): Promise<void> {
  const backend = backendAt(dataDir);
  await backend.open();
  assert.ok((await run(backend, ...lines)).every((reply) => reply === 'OK'));
  await backend.close();
}

function assertRefusedOnOneLine(result: Finished, place: string): void {
  assert.equal(result.code, EXIT_STATUS.storeRefused, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${JSON.stringify(result.stderr)}`);
  assert.ok(lines[0]?.includes(place), `the line names ${place}: ${result.stderr}`);
}

describe('restarting the embedded store', () => {
  for (const fsync of ['normal', 'always'] as const) {
    test(`a restart keeps the index, re-indexed dependency lists and removals (fsync ${fsync})`, async (t) => {
      const dataDir = tempDir(t);
      const first = backendAt(dataDir, { fsync });
      await first.open();
      await run(first, 'INDEX|a|', 'INDEX|b|', 'INDEX|c|a,b', 'INDEX|d|c', 'INDEX|gone|');
      await run(first, 'INDEX|c|b', 'REMOVE|gone|', 'REMOVE|d|', 'INDEX|e|c,a');
      const before = await contents(first);
      await first.close();

      const second = await openedAt(t, dataDir, { fsync });
      assert.deepEqual(await contents(second), before);
      assert.deepEqual(before, { a: [], b: [], c: ['b'], e: ['a', 'c'] });
      assert.deepEqual(await second.counts(), { packages: 4, dependencies: 3 });
      assert.deepEqual(await run(second, 'REMOVE|a|', 'REMOVE|e|', 'REMOVE|a|', 'INDEX|f|c'), ['FAIL', 'OK', 'OK', 'OK']);
    });
  }

  test("a package that reuses a removed package's place survives restarts under its own name", async (t) => {
    const dataDir = tempDir(t);
    await storeWith(dataDir, 'INDEX|a|', 'INDEX|b|a', 'INDEX|c|');
    await storeWith(dataDir, 'REMOVE|b|', 'INDEX|x|c', 'INDEX|y|x,a');
    assert.deepEqual(storedRows(dataDir), { a: [], c: [], x: ['c'], y: ['a', 'x'] });
    const backend = await openedAt(t, dataDir);
    assert.deepEqual(await contents(backend), { a: [], c: [], x: ['c'], y: ['a', 'x'] });
    assert.deepEqual(await run(backend, 'REMOVE|c|', 'REMOVE|y|', 'REMOVE|x|', 'REMOVE|c|'), ['FAIL', 'OK', 'OK', 'OK']);
  });

  test('close also commits a batch that a reply hands over while close is committing', async (t) => {
    const dataDir = tempDir(t);
    const backend = backendAt(dataDir);
    await backend.open();
    const answered: Reply[][] = [];
    backend.execute(commandsOf('INDEX|a|'), (replies) => {
      answered.push(replies);
      backend.execute(commandsOf('INDEX|b|a'), (more) => answered.push(more));
    });
    await backend.close();
    assert.deepEqual(answered, [['OK'], ['OK']]);
    assert.deepEqual(storedRows(dataDir), { a: [], b: ['a'] });
  });

  test('serve logs how many packages it loaded and how long that took', async (t) => {
    const dataDir = tempDir(t);
    await storeWith(dataDir, 'INDEX|a|', 'INDEX|b|a', 'INDEX|c|a,b');
    const server = await startServe(t, ['--data-dir', dataDir]);
    const loaded = server.logs.find((line) => typeof line.packages === 'number');
    assert.equal(loaded?.packages, 3);
    assert.equal(typeof loaded?.durationMs, 'number');
  });
});

describe('one server per data directory', () => {
  test("a second server on the same directory exits 2 with one line naming the directory and the holder's pid", async (t) => {
    const dataDir = tempDir(t);
    const holder = await startServe(t, ['--data-dir', dataDir]);
    const result = await serveUntilExit(t, ['--data-dir', dataDir]);
    assertRefusedOnOneLine(result, dataDir);
    assert.ok(result.stderr.includes(String(holder.pid)), result.stderr);
    await assert.rejects(backendAt(dataDir).open(), { code: 'PI_ERR_STORE_OPEN_LOCKED' });
  });

  test('a lock left by a killed server does not block the next start, and nothing acknowledged is lost', async (t) => {
    const dataDir = tempDir(t);
    const first = await startServe(t, ['--data-dir', dataDir]);
    const client = await RawClient.connect(t, first.port);
    assert.deepEqual(await client.exchange('INDEX|a|', 'INDEX|b|a'), ['OK', 'OK']);
    first.kill('SIGKILL');
    await first.finished;
    assert.equal(fs.readFileSync(path.join(dataDir, PID_FILE_NAME), 'utf8').trim(), String(first.pid));

    const second = await startServe(t, ['--data-dir', dataDir]);
    const again = await RawClient.connect(t, second.port);
    assert.deepEqual(await again.exchange('QUERY|a|', 'QUERY|b|', 'REMOVE|a|'), ['OK', 'OK', 'FAIL']);
    assert.equal(fs.readFileSync(path.join(dataDir, PID_FILE_NAME), 'utf8').trim(), String(second.pid));
  });
});

interface RefusalCase {
  readonly store: string;
  readonly code: string;
  prepare(dataDir: string): Promise<void> | void;
}

const REFUSALS: readonly RefusalCase[] = [
  {
    store: 'that is not an SQLite file',
    code: 'PI_ERR_STORE_OPEN_NOT_A_DATABASE',
    prepare: (dataDir) => fs.writeFileSync(path.join(dataDir, STORE_FILE_NAME), 'name,dependencies\n'.repeat(500)),
  },
  {
    store: "that is another program's SQLite database",
    code: 'PI_ERR_STORE_OPEN_FOREIGN',
    prepare(dataDir) {
      const db = new Database(path.join(dataDir, STORE_FILE_NAME));
      db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
      db.close();
    },
  },
  {
    store: 'from a newer schema version',
    code: 'PI_ERR_STORE_OPEN_NEWER_SCHEMA',
    async prepare(dataDir) {
      await storeWith(dataDir, 'INDEX|a|');
      const db = new Database(path.join(dataDir, STORE_FILE_NAME));
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
    },
  },
  {
    store: 'with a damaged page',
    code: 'PI_ERR_STORE_OPEN_CORRUPT',
    async prepare(dataDir) {
      const lines = Array.from({ length: 400 }, (_, i) => `INDEX|package-with-a-long-name-${i}|`);
      await storeWith(dataDir, ...lines);
      const file = path.join(dataDir, STORE_FILE_NAME);
      const bytes = fs.readFileSync(file);
      // page 2 is the packages table's root
      bytes.fill(0x5a, 4096 + 8, 4096 * 2);
      fs.writeFileSync(file, bytes);
    },
  },
  {
    store: 'whose package depends on one that is not stored',
    code: 'PI_ERR_STORE_OPEN_CORRUPT',
    async prepare(dataDir) {
      await storeWith(dataDir, 'INDEX|a|', 'INDEX|b|a');
      const db = new Database(path.join(dataDir, STORE_FILE_NAME));
      db.prepare("DELETE FROM packages WHERE name = 'a'").run();
      db.close();
    },
  },
];

describe('stores the server must not touch', () => {
  for (const refusal of REFUSALS) {
    test(`a store ${refusal.store} is refused (${refusal.code}, exit 3, one line naming the file) and left as it was`, async (t) => {
      const dataDir = tempDir(t);
      await refusal.prepare(dataDir);
      const before = filesOf(dataDir);
      await assert.rejects(backendAt(dataDir).open(), { code: refusal.code });
      assertRefusedOnOneLine(await serveUntilExit(t, ['--data-dir', dataDir]), path.join(dataDir, STORE_FILE_NAME));
      assert.deepEqual(filesOf(dataDir), before);
    });
  }

  test('a data directory the server cannot write is refused (exit 3, one line naming it)', async (t) => {
    const dataDir = tempDir(t);
    await storeWith(dataDir, 'INDEX|a|');
    fs.chmodSync(dataDir, 0o555);
    if (!RUNNING_AS_ROOT) await assert.rejects(backendAt(dataDir).open(), { code: 'PI_ERR_STORE_OPEN_UNWRITABLE' });
    assertRefusedOnOneLine(await serveUntilExit(t, ['--data-dir', dataDir], { unprivileged: true }), dataDir);
  });
});

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** Makes every write of the package `doomed` fail inside SQLite, as a full disk would. */
function addFailingTriggers(dataDir: string): void {
  const db = new Database(path.join(dataDir, STORE_FILE_NAME));
  db.exec(`
    CREATE TRIGGER doomed_insert BEFORE INSERT ON packages WHEN NEW.name = 'doomed' BEGIN SELECT RAISE(ABORT, 'simulated I/O error'); END;
    CREATE TRIGGER doomed_update BEFORE UPDATE ON packages WHEN NEW.name = 'doomed' BEGIN SELECT RAISE(ABORT, 'simulated I/O error'); END;
    CREATE TRIGGER pinned_delete BEFORE DELETE ON packages WHEN OLD.name = 'pinned' BEGIN SELECT RAISE(ABORT, 'simulated I/O error'); END;
  `);
  db.close();
}

describe('a commit that fails', () => {
  test('turns every reply of its turn into ERROR, reads included, and leaves index and store equal', async (t) => {
    const dataDir = tempDir(t);
    await storeWith(dataDir, 'INDEX|a|', 'INDEX|x|', 'INDEX|pinned|');
    addFailingTriggers(dataDir);
    const metrics = createMetrics({ processMetrics: false });
    const { logger, lines } = capturingLogger();
    const backend = await openedAt(t, dataDir, { metrics, logger });

    // one turn: the read sees b before the commit, and x's place is reused by doomed
    const turn = Promise.all([run(backend, 'INDEX|b|a', 'INDEX|nope|missing'), run(backend, 'QUERY|b|'), run(backend, 'REMOVE|x|', 'INDEX|doomed|a')]);
    assert.deepEqual(await turn, [['ERROR', 'ERROR'], ['ERROR'], ['ERROR', 'ERROR']]);
    assert.deepEqual(await contents(backend), { a: [], pinned: [], x: [] });
    assert.equal(await metricValue(metrics, 'package_indexer_store_commit_failures_total'), 1);
    assert.equal(lines.filter((line) => line.level === 50).length, 1);

    assert.deepEqual(await run(backend, 'REMOVE|pinned|'), ['ERROR']);
    assert.deepEqual(await run(backend, 'INDEX|b|a', 'QUERY|pinned|', 'REMOVE|a|'), ['OK', 'OK', 'FAIL']);
    const expected = { a: [], b: ['a'], pinned: [], x: [] };
    assert.deepEqual(await contents(backend), expected);
    await backend.close();
    assert.deepEqual(storedRows(dataDir), expected);
    assert.deepEqual(await contents(await openedAt(t, dataDir)), expected);
  });
});

describe('running without a store', () => {
  test('--in-memory says so with a warning and creates no data directory', async (t) => {
    const dataDir = path.join(tempDir(t), 'never');
    const server = await startServe(t, ['--in-memory', '--data-dir', dataDir]);
    assert.ok(
      server.logs.some((line) => line.level === 40),
      'a warning line',
    );
    const client = await RawClient.connect(t, server.port);
    assert.deepEqual(await client.exchange('INDEX|a|'), ['OK']);
    assert.equal(fs.existsSync(dataDir), false);
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM answers and commits the lines already read, exits 0, and the next start has them', async (t) => {
    const dataDir = tempDir(t);
    const server = await startServe(t, ['--data-dir', dataDir]);
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    t.after(() => socket.destroy());
    let received = '';
    socket.setEncoding('latin1').on('data', (text: string) => (received += text));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => {});
    const lines = Array.from({ length: 20_000 }, (_, i) => `INDEX|p${i}|${i > 0 ? `p${i - 1}` : ''}\n`);
    socket.write(lines.join(''));
    await waitFor(() => received.length > 0, 5_000, 'a first reply');
    server.kill('SIGTERM');
    const finished = await server.finished;
    await closed;
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(fs.existsSync(path.join(dataDir, PID_FILE_NAME)), false);
    const replies = received.split('\n').filter((line) => line !== '');
    assert.ok(replies.every((reply) => reply === 'OK'));
    const backend = await openedAt(t, dataDir);
    assert.equal((await backend.counts()).packages, replies.length);
    assert.equal((await backend.reader.describe(`p${replies.length - 1}`, 1))?.name, `p${replies.length - 1}`);
    t.diagnostic(`${replies.length} of ${lines.length} lines were read before SIGTERM; all of them were answered and stored`);
  });
});
