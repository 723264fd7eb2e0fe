/**
 * A write-ahead log cut short after kill -9 loses acknowledged commits, and SQLite opens what is
 * left without a word: the server must say so at startup (one warning naming the files and how
 * many commits are missing) and serve the surviving prefix; and it must not cry wolf after an
 * ordinary kill -9, a kill in the middle of commits, or a clean restart.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { COMMIT_FILE_NAME } from '../../src/store/commit-counter.js';
import { STORE_FILE_NAME } from '../../src/store/sqlite-file.js';
import { RawClient } from '../helpers/server-harness.js';
import { startServe, tempDir, type ServeChild } from '../helpers/serve-child.js';

const PACKAGES = 60;
const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;
const PINO_WARN = 40;

/** Indexes p1..pN one at a time, each its own commit, and kills the server with SIGKILL. */
async function commitOneByOneThenKill(t: TestContext, dataDir: string): Promise<void> {
  const server = await startServe(t, ['--data-dir', dataDir]);
  const client = await RawClient.connect(t, server.port);
  for (let i = 1; i <= PACKAGES; i++) assert.deepEqual(await client.exchange(`INDEX|p${i}|`), ['OK']);
  server.kill('SIGKILL');
  await server.finished;
}

/** How many of p1..pN the server has, checking that they are a prefix. */
async function survivingPrefix(t: TestContext, server: ServeChild): Promise<number> {
  const client = await RawClient.connect(t, server.port);
  const replies = await client.exchange(...Array.from({ length: PACKAGES }, (_, i) => `QUERY|p${i + 1}|`));
  const kept = replies.indexOf('FAIL') < 0 ? PACKAGES : replies.indexOf('FAIL');
  assert.deepEqual(
    replies.slice(kept),
    replies.slice(kept).map(() => 'FAIL'),
    'what survived is a prefix of the commits',
  );
  return kept;
}

function lostCommitWarnings(server: ServeChild): ReadonlyArray<Record<string, unknown>> {
  return server.logs.filter((line) => line.level === PINO_WARN && 'lostCommits' in line);
}

describe('a write-ahead log cut short', () => {
  test('after kill -9, a WAL cut in the middle of a frame is reported at startup and its surviving prefix is served', async (t) => {
    const dataDir = tempDir(t);
    await commitOneByOneThenKill(t, dataDir);
    const wal = path.join(dataDir, `${STORE_FILE_NAME}-wal`);
    const walBytes = fs.statSync(wal).size;
    const pageBytes = fs.readFileSync(wal).readUInt32BE(8);
    const frames = (walBytes - WAL_HEADER_BYTES) / (pageBytes + FRAME_HEADER_BYTES);
    assert.ok(Number.isInteger(frames) && frames > 4, `the WAL holds whole frames: ${walBytes} bytes`);
    const cut = WAL_HEADER_BYTES + Math.floor(frames / 2) * (pageBytes + FRAME_HEADER_BYTES) + 100;
    fs.truncateSync(wal, cut);

    const server = await startServe(t, ['--data-dir', dataDir]);
    const kept = await survivingPrefix(t, server);
    assert.ok(kept > 0 && kept < PACKAGES, `the cut lost some commits and kept some: ${kept} of ${PACKAGES}`);
    const [warning, ...others] = lostCommitWarnings(server);
    assert.equal(others.length, 0, 'one warning');
    assert.ok(warning !== undefined, `a warning says commits are missing: ${JSON.stringify(server.logs)}`);
    assert.equal(warning.file, path.join(dataDir, STORE_FILE_NAME));
    assert.equal(warning.wal, wal);
    assert.equal(warning.walBytes, cut);
    assert.equal(warning.lostCommits, PACKAGES - kept);
    assert.ok(String(warning.msg).includes(wal), `the message names the WAL: ${String(warning.msg)}`);
  });

  test('a WAL deleted after kill -9 is reported as missing', async (t) => {
    const dataDir = tempDir(t);
    await commitOneByOneThenKill(t, dataDir);
    fs.rmSync(path.join(dataDir, `${STORE_FILE_NAME}-wal`));

    const server = await startServe(t, ['--data-dir', dataDir]);
    const kept = await survivingPrefix(t, server);
    const [warning] = lostCommitWarnings(server);
    assert.equal(warning?.walBytes, null);
    assert.equal(warning?.lostCommits, PACKAGES - kept);
  });

  test('index.db deleted after a clean stop: the new, empty store is reported as missing every commit', async (t) => {
    const dataDir = tempDir(t);
    await commitOneByOneThenKill(t, dataDir);
    const stopped = await startServe(t, ['--data-dir', dataDir]);
    stopped.kill('SIGTERM');
    await stopped.finished;
    fs.rmSync(path.join(dataDir, STORE_FILE_NAME));

    const server = await startServe(t, ['--data-dir', dataDir]);
    assert.equal(await survivingPrefix(t, server), 0);
    assert.deepEqual(
      lostCommitWarnings(server).map((line) => line.lostCommits),
      [PACKAGES],
    );
  });

  test('the warning is repeated at every start until a commit moves the store on', async (t) => {
    const dataDir = tempDir(t);
    await commitOneByOneThenKill(t, dataDir);
    fs.rmSync(path.join(dataDir, `${STORE_FILE_NAME}-wal`));
    const evidence = fs.readFileSync(path.join(dataDir, COMMIT_FILE_NAME), 'utf8');

    const first = await startServe(t, ['--data-dir', dataDir]);
    assert.equal(lostCommitWarnings(first).length, 1);
    first.kill('SIGTERM');
    await first.finished;
    assert.equal(fs.readFileSync(path.join(dataDir, COMMIT_FILE_NAME), 'utf8'), evidence);

    const second = await startServe(t, ['--data-dir', dataDir]);
    assert.equal(lostCommitWarnings(second).length, 1, 'still missing, still said');
    const client = await RawClient.connect(t, second.port);
    assert.deepEqual(await client.exchange('INDEX|after-the-loss|'), ['OK']);
    second.kill('SIGTERM');
    await second.finished;

    const third = await startServe(t, ['--data-dir', dataDir]);
    assert.deepEqual(lostCommitWarnings(third), []);
  });
});

describe('no false alarm', () => {
  test('kill -9 between commits, then a clean restart: everything is there and nothing is reported', async (t) => {
    const dataDir = tempDir(t);
    await commitOneByOneThenKill(t, dataDir);
    const afterKill = await startServe(t, ['--data-dir', dataDir]);
    assert.equal(await survivingPrefix(t, afterKill), PACKAGES);
    assert.deepEqual(lostCommitWarnings(afterKill), []);
    afterKill.kill('SIGTERM');
    await afterKill.finished;

    const afterStop = await startServe(t, ['--data-dir', dataDir]);
    assert.deepEqual(lostCommitWarnings(afterStop), []);
  });

  test('kill -9 while pipelined commits are in flight: nothing is reported', async (t) => {
    const dataDir = tempDir(t);
    const server = await startServe(t, ['--data-dir', dataDir]);
    const client = await RawClient.connect(t, server.port);
    const lines = Array.from({ length: 5000 }, (_, i) => `INDEX|q${i}|\n`).join('');
    client.send(lines);
    // kill once some commits are acknowledged, while more are still arriving and committing
    await client.readLines(200);
    server.kill('SIGKILL');
    await server.finished;

    const restarted = await startServe(t, ['--data-dir', dataDir]);
    assert.deepEqual(lostCommitWarnings(restarted), []);
  });
});
