/**
 * `--fsync always` on a real SQLite file, with the real fsync held behind a gate: while a commit's
 * fsync is in flight the event loop goes on (QUERYs about untouched packages are answered, later
 * turns are applied and written), and no reply that observed the commit leaves before its fsync
 * has completed, nor does the last-commit file record it. Turns are still answered in order.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { Reply } from '../../src/protocol/types.js';
import { SqliteBackend } from '../../src/store/sqlite-backend.js';
import { COMMIT_FILE_NAME } from '../../src/store/commit-counter.js';
import type { Fsync } from '../../src/store/wal-sync.js';
import { run } from '../contract/backend-contract.js';
import { waitFor } from '../helpers/server-harness.js';
import { tempDir } from '../helpers/serve-child.js';

/** The real fsync, started only when the test opens the gate; counts the syncs asked for and done. */
class FsyncGate {
  asked = 0;
  done = 0;
  #open = true;
  #held: Array<{ readonly sync: () => void; readonly fail: () => void }> = [];

  readonly fsync: Fsync = (fd, callback) => {
    this.asked++;
    const sync = (): void =>
      fs.fsync(fd, (error) => {
        this.done++;
        callback(error);
      });
    const fail = (): void => {
      this.done++;
      callback(Object.assign(new Error('input/output error'), { code: 'EIO', errno: -5, syscall: 'fsync' }));
    };
    if (this.#open) sync();
    else this.#held.push({ sync, fail });
  };

  close(): void {
    this.#open = false;
  }

  /** Answers the held fsyncs with an I/O error instead of running them: a disk that failed. */
  fail(): void {
    this.#open = true;
    for (const { fail } of this.#held.splice(0)) fail();
  }

  /** Lets the held fsyncs run, the last asked for first when `newestFirst`. */
  open(newestFirst = false): void {
    this.#open = true;
    const held = this.#held.splice(0);
    for (const { sync } of newestFirst ? held.reverse() : held) sync();
  }
}

async function openBackend(t: TestContext, gate: FsyncGate): Promise<{ backend: SqliteBackend; dataDir: string }> {
  const dataDir = tempDir(t, 'pi-fsync-always-');
  const backend = new SqliteBackend({
    dataDir,
    fsync: 'always',
    fsyncLog: gate.fsync,
    logger: silentLogger(),
    metrics: createMetrics({ processMetrics: false }),
  });
  await backend.open();
  t.after(() => {
    gate.open();
    return backend.close();
  });
  return { backend, dataDir };
}

/** The store as the next start finds it. */
async function reopen(t: TestContext, dataDir: string): Promise<SqliteBackend> {
  const backend = new SqliteBackend({ dataDir, fsync: 'normal', logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
  await backend.open();
  t.after(() => backend.close());
  return backend;
}

/** Records when each request settles, in order. */
function tracked(answered: string[], label: string, replies: Promise<Reply[]>): Promise<Reply[]> {
  return replies.then((value) => {
    answered.push(label);
    return value;
  });
}

/** Lets the event loop run a few rounds (timers, I/O, immediates). */
async function loopTurns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

const committedCount = (dataDir: string): number => Number(fs.readFileSync(path.join(dataDir, COMMIT_FILE_NAME), 'latin1'));

test('with fsync always, reads about other packages are answered while a commit waits for its fsync', async (t) => {
  const gate = new FsyncGate();
  const { backend, dataDir } = await openBackend(t, gate);
  assert.deepEqual(await run(backend, 'INDEX|base|'), ['OK']);
  const countBefore = committedCount(dataDir);

  gate.close();
  const answered: string[] = [];
  const write = tracked(answered, 'INDEX a', run(backend, 'INDEX|a|base'));
  const readOfWritten = tracked(answered, 'QUERY a', run(backend, 'QUERY|a|'));
  await waitFor(() => gate.asked === 2, 5_000, 'the commit to ask for its fsync');
  // a later turn: applied and written while the first fsync is held, answered after it
  const laterWrite = tracked(answered, 'INDEX b', run(backend, 'INDEX|b|a'));
  await waitFor(() => gate.asked === 3, 5_000, 'the later turn to ask for its own fsync while the first is held');
  const untouched = await Promise.race([
    run(backend, 'QUERY|base|', 'QUERY|nothing|'),
    loopTurns(20).then(() => assert.fail('QUERYs about untouched packages waited for the held fsync')),
  ]);
  assert.deepEqual(untouched, ['OK', 'FAIL'], 'QUERYs about packages no pending commit touched are answered at once');
  await loopTurns(10);
  assert.deepEqual(answered, [], 'nothing that observed the pending commits is answered before their fsync');
  assert.equal(committedCount(dataDir), countBefore, 'the last-commit file does not record a commit before its fsync');

  // the later fsync is let go first and may return first: it covers the earlier commit too, and the replies keep their order
  gate.open(true);
  assert.deepEqual(await Promise.all([write, readOfWritten, laterWrite]), [['OK'], ['OK'], ['OK']]);
  assert.deepEqual(answered, ['INDEX a', 'QUERY a', 'INDEX b'], 'turns are answered in order');
  assert.equal(committedCount(dataDir), countBefore + 2);
});

test('with fsync always, a write that changes nothing still waits for the pending commit it observed', async (t) => {
  const gate = new FsyncGate();
  const { backend } = await openBackend(t, gate);
  assert.deepEqual(await run(backend, 'INDEX|base|'), ['OK']);
  gate.close();
  const answered: string[] = [];
  const removeBase = tracked(answered, 'REMOVE base', run(backend, 'REMOVE|base|'));
  await waitFor(() => gate.asked === 2, 5_000, 'the commit to ask for its fsync');
  // FAIL because base is gone: that answer depends on the pending removal
  const refused = tracked(answered, 'INDEX x', run(backend, 'INDEX|x|base'));
  await loopTurns(10);
  assert.deepEqual(answered, []);
  gate.open();
  assert.deepEqual(await Promise.all([removeBase, refused]), [['OK'], ['FAIL']]);
  assert.deepEqual(answered, ['REMOVE base', 'INDEX x']);
});

test('with fsync always, close waits for the fsync in flight and its replies go out', async (t) => {
  const gate = new FsyncGate();
  const { backend, dataDir } = await openBackend(t, gate);
  gate.close();
  const write = run(backend, 'INDEX|kept|');
  await waitFor(() => gate.asked === 1, 5_000, 'the commit to ask for its fsync');
  const closed = backend.close();
  await loopTurns(5);
  gate.open();
  await closed;
  assert.deepEqual(await write, ['OK']);
  const reopened = await reopen(t, dataDir);
  assert.deepEqual(await run(reopened, 'QUERY|kept|'), ['OK']);
});

test('with fsync always, turns that come while the fsyncs are busy are committed together when one returns', async (t) => {
  const gate = new FsyncGate();
  const { backend, dataDir } = await openBackend(t, gate);
  gate.close();
  const countBefore = committedCount(dataDir);
  const first = run(backend, 'INDEX|one|');
  await waitFor(() => gate.asked === 1, 5_000, 'the first commit to ask for its fsync');
  const second = run(backend, 'INDEX|two|');
  await waitFor(() => gate.asked === 2, 5_000, 'the second commit to ask for its fsync');
  // both fsyncs are busy: these two turns are held back, and neither is written yet
  const third = run(backend, 'INDEX|three|');
  await loopTurns(2);
  const fourth = run(backend, 'INDEX|four|three');
  await loopTurns(5);
  assert.equal(gate.asked, 2, 'no commit is written while both fsyncs are busy');
  gate.open();
  assert.deepEqual(await Promise.all([first, second, third, fourth]), [['OK'], ['OK'], ['OK'], ['OK']]);
  assert.equal(gate.asked, 3, 'the held turns had one fsync');
  assert.equal(committedCount(dataDir), countBefore + 3, 'the held turns were one transaction');
});

test('with fsync always, a failed fsync answers ERROR to what it covered and to all that follows, and a turn held back is never written', async (t) => {
  const gate = new FsyncGate();
  const { backend, dataDir } = await openBackend(t, gate);
  assert.deepEqual(await run(backend, 'INDEX|base|'), ['OK']);
  gate.close();
  const first = run(backend, 'INDEX|one|base');
  await waitFor(() => gate.asked === 2, 5_000, 'the first commit to ask for its fsync');
  const second = run(backend, 'INDEX|two|base');
  await waitFor(() => gate.asked === 3, 5_000, 'the second commit to ask for its fsync');
  const heldBack = run(backend, 'INDEX|held|base');
  await loopTurns(2);
  gate.fail();
  assert.deepEqual(await Promise.all([first, second, heldBack]), [['ERROR'], ['ERROR'], ['ERROR']]);
  assert.equal(backend.isAvailable(), false, 'the store stops for good');
  assert.deepEqual(await run(backend, 'QUERY|base|', 'INDEX|later|'), ['ERROR', 'ERROR']);
  await backend.close();
  const reopened = await reopen(t, dataDir);
  assert.deepEqual(await run(reopened, 'QUERY|held|', 'QUERY|later|'), ['FAIL', 'FAIL'], 'nothing was committed after the failure');
});
