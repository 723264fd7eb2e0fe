/**
 * Writes that change nothing (a re-index with the same list, a refused INDEX, removing what is not
 * indexed) give the store nothing to commit: their replies leave at once, with no transaction,
 * while a turn that changes something still holds every reply until its commit. A turn whose
 * changes undo each other (a package removed and indexed again as it was) commits nothing either.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { FsyncMode } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import type { Command, Reply } from '../../src/protocol/types.js';
import { SqliteBackend } from '../../src/store/sqlite-backend.js';
import { backendAt } from '../helpers/store-files.js';

async function commitCount(metrics: Metrics): Promise<number> {
  const metric = await metrics.registry.getSingleMetric('package_indexer_store_commit_batch_size')?.get();
  // every commit lands in the +Inf bucket
  return metric?.values.find((value) => value.labels.le === '+Inf')?.value ?? 0;
}

/** A store in a fresh directory, closed and removed when the test ends (close() is idempotent). */
async function openedStore(t: TestContext, fsync: FsyncMode): Promise<{ backend: SqliteBackend; metrics: Metrics; dataDir: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pi-noop-'));
  const metrics = createMetrics({ processMetrics: false });
  const backend = new SqliteBackend({ dataDir, fsync, logger: silentLogger(), metrics });
  await backend.open();
  t.after(async () => {
    await backend.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return { backend, metrics, dataDir };
}

/** Runs one batch; `synchronous` tells whether its replies came back before execute returned. */
async function run(backend: SqliteBackend, commands: Command[]): Promise<{ replies: Reply[]; synchronous: boolean }> {
  let returned = false;
  return new Promise((resolve) => {
    backend.execute(commands, (replies) => resolve({ replies, synchronous: !returned }));
    returned = true;
  });
}

test('a turn of writes that change nothing starts no transaction and answers at once', async (t) => {
  const { backend, metrics } = await openedStore(t, 'normal');

  const setup = await run(backend, [
    { kind: 'INDEX', name: 'a', deps: [] },
    { kind: 'INDEX', name: 'b', deps: [] },
    { kind: 'INDEX', name: 'c', deps: ['a', 'b'] },
  ]);
  assert.deepEqual(setup.replies, ['OK', 'OK', 'OK']);
  assert.equal(setup.synchronous, false, 'a turn with changes must wait for its commit');
  const commitsBefore = await commitCount(metrics);
  assert.equal(commitsBefore, 1);

  const noOps = await run(backend, [
    { kind: 'INDEX', name: 'c', deps: ['a', 'b'] },
    { kind: 'INDEX', name: 'd', deps: ['missing'] },
    { kind: 'REMOVE', name: 'missing' },
    { kind: 'REMOVE', name: 'a' },
    { kind: 'QUERY', name: 'c' },
  ]);
  assert.deepEqual(noOps.replies, ['OK', 'FAIL', 'OK', 'FAIL', 'OK']);
  assert.equal(noOps.synchronous, true, 'nothing changed, so nothing had to be committed first');
  assert.equal(await commitCount(metrics), commitsBefore);

  // a no-op next to a real change still waits for that change's commit
  const mixed = await run(backend, [
    { kind: 'INDEX', name: 'c', deps: ['a', 'b'] },
    { kind: 'INDEX', name: 'c', deps: ['b'] },
  ]);
  assert.deepEqual(mixed.replies, ['OK', 'OK']);
  assert.equal(mixed.synchronous, false);
  assert.equal(await commitCount(metrics), commitsBefore + 1);
});

test('a turn that removes a package and indexes it again as it was commits nothing, and one that changes its list commits', async (t) => {
  const { backend, metrics, dataDir } = await openedStore(t, 'normal');
  await run(backend, [
    { kind: 'INDEX', name: 'a', deps: [] },
    { kind: 'INDEX', name: 'b', deps: [] },
    { kind: 'INDEX', name: 'leaf', deps: ['a', 'b'] },
  ]);
  const commitsBefore = await commitCount(metrics);

  const again = await run(backend, [
    { kind: 'REMOVE', name: 'leaf' },
    { kind: 'QUERY', name: 'leaf' },
    { kind: 'INDEX', name: 'leaf', deps: ['a', 'b'] },
  ]);
  assert.deepEqual(again.replies, ['OK', 'FAIL', 'OK']);
  assert.equal(await commitCount(metrics), commitsBefore, 'every row is as it was: nothing to commit');

  const changed = await run(backend, [
    { kind: 'REMOVE', name: 'leaf' },
    { kind: 'INDEX', name: 'leaf', deps: ['b'] },
    { kind: 'REMOVE', name: 'a' },
  ]);
  assert.deepEqual(changed.replies, ['OK', 'OK', 'OK']);
  assert.equal(changed.synchronous, false, 'the rows changed, so they must be committed first');
  assert.equal(await commitCount(metrics), commitsBefore + 1);

  await backend.close();
  const reopened = backendAt(dataDir);
  await reopened.open();
  t.after(() => reopened.close());
  const { packages } = await reopened.exportIndex();
  assert.deepEqual(
    packages.map((pkg) => [pkg.name, pkg.deps]),
    [
      ['b', []],
      ['leaf', ['b']],
    ],
    'the reopened store holds the changed list and not the removed package',
  );
});

test("with fsync 'always', a turn whose changes cancel out still commits, so that it answers in line behind the fsyncs", async (t) => {
  const { backend, metrics } = await openedStore(t, 'always');
  await run(backend, [{ kind: 'INDEX', name: 'leaf', deps: [] }]);
  const commitsBefore = await commitCount(metrics);
  const again = await run(backend, [
    { kind: 'REMOVE', name: 'leaf' },
    { kind: 'INDEX', name: 'leaf', deps: [] },
  ]);
  assert.deepEqual(again.replies, ['OK', 'OK']);
  assert.equal(again.synchronous, false);
  assert.equal(await commitCount(metrics), commitsBefore + 1, 'a commit that writes no package row, in line with the fsyncs');
});
