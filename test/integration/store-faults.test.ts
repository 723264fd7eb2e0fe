/**
 * Faults of the embedded store under a running server, on real files: the data directory deleted
 * or replaced, a disk that fills up (a small tmpfs), a commit that fails. What must hold: no OK for
 * a change the next start cannot see, /readyz says whether the store can commit, one error line
 * says what happened, and readiness comes back by itself when the fault is gone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { startIndexer, type RunningIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { SqliteBackend } from '../../src/store/sqlite-backend.js';
import { STORE_FILE_NAME } from '../../src/store/sqlite-file.js';
import { run } from '../contract/backend-contract.js';
import { RawClient, waitFor } from '../helpers/server-harness.js';
import { tempDir } from '../helpers/serve-child.js';
import { fillDisk, mountSmallTmpfs } from '../helpers/small-tmpfs.js';

const ERROR_LEVEL = 50;
const WARN_LEVEL = 40;
const INFO_LEVEL = 30;
/** The store is watched every second; this leaves room for a slow, shared machine. */
const NOTICE_DEADLINE_MS = 10_000;

type LogLine = Record<string, unknown> & { level: number };

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString('utf8')) as LogLine);
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

interface Indexer extends RunningIndexer {
  readyStatus(): Promise<number>;
}

/** The real composition (SQLite store, protocol and admin ports), stopped when the test ends. */
async function startSqliteIndexer(t: TestContext, dataDir: string, logger: Logger): Promise<Indexer> {
  const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'data-dir': dataDir }, {});
  const indexer = await startIndexer(config, logger);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= indexer.stop());
  t.after(stop);
  const readyStatus = async (): Promise<number> => (await fetch(`http://127.0.0.1:${indexer.adminAddress?.port}/readyz`)).status;
  return { ...indexer, stop, readyStatus };
}

async function waitForReadiness(indexer: Indexer, status: number, what: string): Promise<void> {
  const deadline = Date.now() + NOTICE_DEADLINE_MS;
  while ((await indexer.readyStatus()) !== status) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function errorLines(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((line) => line.level >= ERROR_LEVEL);
}

describe('the data directory deleted under a running server', () => {
  test('the next writes answer ERROR, /readyz turns 503, and one error line names the store file', async (t) => {
    const dataDir = path.join(tempDir(t), 'data');
    const { logger, lines } = capturingLogger();
    const indexer = await startSqliteIndexer(t, dataDir, logger);
    const client = await RawClient.connect(t, indexer.address.port);
    assert.deepEqual(await client.exchange('INDEX|a|', 'INDEX|b|a'), ['OK', 'OK']);
    assert.equal(await indexer.readyStatus(), 200);

    fs.rmSync(dataDir, { recursive: true, force: true });
    assert.deepEqual(await client.exchange('INDEX|c|', 'REMOVE|b|', 'QUERY|a|'), ['ERROR', 'ERROR', 'ERROR']);
    assert.equal(await indexer.readyStatus(), 503);
    assert.deepEqual(await client.exchange('INDEX|d|', 'QUERY|b|'), ['ERROR', 'ERROR']);
    const errors = errorLines(lines);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0]?.file, path.join(dataDir, STORE_FILE_NAME));
    assert.equal(errors[0]?.change, 'missing');
    assert.equal((await indexer.backend.reader.describe('b', 1))?.name, 'b', 'the index stays readable on the admin port');
  });

  test('a server that is sent nothing notices within seconds', async (t) => {
    const dataDir = path.join(tempDir(t), 'data');
    const { logger, lines } = capturingLogger();
    const indexer = await startSqliteIndexer(t, dataDir, logger);
    const client = await RawClient.connect(t, indexer.address.port);
    assert.deepEqual(await client.exchange('INDEX|a|'), ['OK']);

    fs.rmSync(dataDir, { recursive: true, force: true });
    await waitForReadiness(indexer, 503, '/readyz to turn 503 with no traffic');
    assert.equal(errorLines(lines).length, 1);
    assert.deepEqual(await client.exchange('INDEX|b|'), ['ERROR']);
  });

  test('a restart there warns that it created a new, empty store; a restart on a store does not', async (t) => {
    const dataDir = path.join(tempDir(t), 'data');
    const file = path.join(dataDir, STORE_FILE_NAME);
    const createdWarnings = (lines: readonly LogLine[]): number => lines.filter((line) => line.level === WARN_LEVEL && line.file === file).length;
    const first = capturingLogger();
    const indexer = await startSqliteIndexer(t, dataDir, first.logger);
    assert.equal(createdWarnings(first.lines), 1, 'the first start creates the store');
    const client = await RawClient.connect(t, indexer.address.port);
    assert.deepEqual(await client.exchange('INDEX|a|'), ['OK']);
    await indexer.stop();

    const second = capturingLogger();
    await (await startSqliteIndexer(t, dataDir, second.logger)).stop();
    assert.equal(createdWarnings(second.lines), 0, JSON.stringify(second.lines));

    fs.rmSync(dataDir, { recursive: true, force: true });
    const third = capturingLogger();
    const again = await startSqliteIndexer(t, dataDir, third.logger);
    assert.equal(createdWarnings(third.lines), 1, JSON.stringify(third.lines));
    assert.equal((await again.backend.counts()).packages, 0);
  });

  test('a store replaced by another at the same path stops the server that holds the old one', async (t) => {
    const root = tempDir(t);
    const dataDir = path.join(root, 'data');
    const { logger, lines } = capturingLogger();
    const holder = new SqliteBackend({ dataDir, fsync: 'normal', logger, metrics: createMetrics({ processMetrics: false }) });
    await holder.open();
    t.after(() => holder.close());
    assert.deepEqual(await run(holder, 'INDEX|a|'), ['OK']);

    fs.renameSync(dataDir, path.join(root, 'moved'));
    const newcomer = new SqliteBackend({ dataDir, fsync: 'normal', logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
    await newcomer.open();
    t.after(() => newcomer.close());

    assert.deepEqual(await run(holder, 'INDEX|b|'), ['ERROR']);
    assert.equal(holder.isAvailable(), false);
    assert.equal(errorLines(lines)[0]?.change, 'replaced');
    assert.deepEqual(await run(newcomer, 'INDEX|b|'), ['OK']);
  });

  test('the write-ahead log deleted alone is noticed within seconds too', async (t) => {
    const dataDir = tempDir(t);
    const { logger, lines } = capturingLogger();
    const backend = new SqliteBackend({ dataDir, fsync: 'normal', logger, metrics: createMetrics({ processMetrics: false }) });
    await backend.open();
    t.after(() => backend.close());
    assert.deepEqual(await run(backend, 'INDEX|a|'), ['OK']);

    fs.rmSync(path.join(dataDir, `${STORE_FILE_NAME}-wal`));
    await waitFor(() => !backend.isAvailable(), NOTICE_DEADLINE_MS, 'the store to be unavailable');
    assert.equal(errorLines(lines)[0]?.file, path.join(dataDir, `${STORE_FILE_NAME}-wal`));
    assert.deepEqual(await run(backend, 'INDEX|b|'), ['ERROR']);
  });
});

/** Makes every insert of the package `doomed` fail inside SQLite, as an I/O error would. */
function addFailingTrigger(dataDir: string): void {
  const db = new Database(path.join(dataDir, STORE_FILE_NAME));
  db.exec("CREATE TRIGGER doomed BEFORE INSERT ON packages WHEN NEW.name = 'doomed' BEGIN SELECT RAISE(ABORT, 'simulated I/O error'); END;");
  db.close();
}

describe('commits that fail', () => {
  test('a failed commit makes the store unavailable until a commit succeeds', async (t) => {
    const dataDir = tempDir(t);
    const seed = new SqliteBackend({ dataDir, fsync: 'normal', logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
    await seed.open();
    await seed.close();
    addFailingTrigger(dataDir);
    const backend = new SqliteBackend({ dataDir, fsync: 'normal', logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
    await backend.open();
    t.after(() => backend.close());

    assert.equal(backend.isAvailable(), true);
    assert.deepEqual(await run(backend, 'INDEX|doomed|'), ['ERROR']);
    assert.equal(backend.isAvailable(), false);
    assert.deepEqual(await run(backend, 'INDEX|fine|'), ['OK']);
    assert.equal(backend.isAvailable(), true);
  });

  test('a full disk (a small tmpfs) turns /readyz 503 with one error line; freed space turns it back with no traffic', async (t) => {
    const mountPoint = mountSmallTmpfs(t, 2048);
    if (mountPoint === undefined) return;
    const dataDir = path.join(mountPoint, 'data');
    const { logger, lines } = capturingLogger();
    const indexer = await startSqliteIndexer(t, dataDir, logger);
    const client = await RawClient.connect(t, indexer.address.port);
    assert.deepEqual(await client.exchange('INDEX|a|'), ['OK']);

    const filler = path.join(mountPoint, 'filler');
    fillDisk(filler);
    assert.deepEqual(await client.exchange('INDEX|b|a', 'QUERY|a|'), ['ERROR', 'ERROR']);
    assert.equal(await indexer.readyStatus(), 503);
    assert.deepEqual(await client.exchange('INDEX|c|'), ['ERROR']);
    assert.equal(errorLines(lines).length, 1, 'one error line for the whole outage');

    fs.rmSync(filler);
    await waitForReadiness(indexer, 200, '/readyz to turn 200 once there is space');
    assert.ok(
      lines.some((line) => line.level === INFO_LEVEL && typeof line.failedCommits === 'number'),
      'one line says commits succeed again',
    );
    assert.deepEqual(await client.exchange('INDEX|b|a', 'QUERY|b|'), ['OK', 'OK']);
    await indexer.stop();

    const restarted = await startSqliteIndexer(t, dataDir, silentLogger());
    assert.deepEqual(await restarted.backend.reader.list({ prefix: '', after: '', limit: 10 }), ['a', 'b']);
  });
});
