/**
 * The SQLite store's undo of a failed commit, through the store itself: random turns of commands,
 * some of whose commits fail inside SQLite (a trigger refuses the package `doomed`, which such a
 * turn also indexes, at a random place among its commands). A turn that commits must answer as the
 * naive model does; a turn whose commit fails must answer ERROR from its first change on and
 * change nothing, in the index or in the file. The file's rows are keyed by the graph's ids, so an
 * undo that put a package back at another id shows up once the file is read again.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { Reply } from '../../src/protocol/types.js';
import { SqliteBackend } from '../../src/store/sqlite-backend.js';
import { STORE_FILE_NAME } from '../../src/store/sqlite-file.js';
import { run } from '../contract/backend-contract.js';
import { NaiveModel, lineOf, sorted, stepArbitrary, withoutSelf, type Step } from '../helpers/index-model.js';
import { testSeed } from '../helpers/seed.js';

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const DOOMED: Step = { kind: 'INDEX', name: 'doomed', deps: [] };

const turnArbitrary = fc.record({
  steps: fc.array(stepArbitrary(NAMES), { maxLength: 8 }),
  /** Where `doomed` goes among the steps, or null for a turn that commits. */
  doomedAt: fc.option(fc.nat({ max: 8 }), { nil: null }),
});

function backendAt(dataDir: string): SqliteBackend {
  return new SqliteBackend({ dataDir, fsync: 'normal', logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
}

/** A new store whose commits fail whenever they write the package `doomed`, as a full disk would. */
async function doomedStore(dataDir: string): Promise<void> {
  const backend = backendAt(dataDir);
  await backend.open();
  await backend.close();
  const db = new Database(path.join(dataDir, STORE_FILE_NAME));
  db.exec(`
    CREATE TRIGGER doomed_insert BEFORE INSERT ON packages WHEN NEW.name = 'doomed' BEGIN SELECT RAISE(ABORT, 'simulated I/O error'); END;
    CREATE TRIGGER doomed_update BEFORE UPDATE ON packages WHEN NEW.name = 'doomed' BEGIN SELECT RAISE(ABORT, 'simulated I/O error'); END;
  `);
  db.close();
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((name, i) => name === b[i]));
}

/**
 * The replies of a turn whose commit fails. A batch that changes nothing while nothing is pending
 * saw only committed state and is answered at once, truly; the first change and every batch after
 * it wait for the commit, and get ERROR.
 */
function failedTurnReplies(model: NaiveModel, steps: readonly Step[]): Reply[] {
  const scratch = new NaiveModel();
  scratch.packages = new Map(model.packages);
  let waiting = false;
  return steps.map((step) => {
    if (waiting) return 'ERROR';
    const before = scratch.packages.get(step.name);
    const outcome = scratch.apply(step);
    waiting = outcome === 'ok' && !sameList(before, scratch.packages.get(step.name));
    return waiting ? 'ERROR' : outcome === 'ok' ? 'OK' : 'FAIL';
  });
}

/** Every line as its own batch, all in one event-loop turn, so that one commit holds them all. */
function runTurn(backend: SqliteBackend, lines: readonly string[]): Promise<Reply[]> {
  return Promise.all(lines.map((line) => run(backend, line))).then((replies) => replies.flat());
}

async function assertSameIndex(backend: SqliteBackend, model: NaiveModel, when: string): Promise<void> {
  assert.deepEqual(sorted(await backend.reader.list({ prefix: '', after: '', limit: 1_000 })), sorted(model.packages.keys()), `packages ${when}`);
  let edges = 0;
  for (const [name, deps] of model.packages) {
    edges += deps.length;
    const dependents = model.dependentsOf(name);
    assert.deepEqual(
      await backend.reader.describe(name, 1_000),
      { name, dependencies: sorted(deps), dependents, dependentsTotal: dependents.length },
      `${name} ${when}`,
    );
  }
  assert.deepEqual(await backend.counts(), { packages: model.packages.size, dependencies: edges }, `counts ${when}`);
}

/**
 * One turn that rewrites or deletes every package's row: drops every dependency list (which also
 * breaks the cycles that re-indexing can make), then removes every package.
 */
function clearAll(model: NaiveModel): Step[] {
  const names = sorted(model.packages.keys());
  const withDeps = names.filter((name) => (model.packages.get(name) ?? []).length > 0);
  return [...withDeps.map((name): Step => ({ kind: 'INDEX', name, deps: [] })), ...names.map((name): Step => ({ kind: 'REMOVE', name }))];
}

test('turns whose commit fails are undone in index and file alike, and the others answer as the model does', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(turnArbitrary, { maxLength: 10 }), async (turns) => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pi-undo-'));
      try {
        await doomedStore(dataDir);
        const model = new NaiveModel();
        let backend = backendAt(dataDir);
        await backend.open();
        for (const [k, { steps, doomedAt }] of turns.entries()) {
          const sent = steps.map(withoutSelf);
          if (doomedAt !== null) sent.splice(doomedAt, 0, DOOMED);
          const expected = doomedAt === null ? sent.map((step) => (model.apply(step) === 'ok' ? 'OK' : 'FAIL')) : failedTurnReplies(model, sent);
          const lines = sent.map(lineOf);
          assert.deepEqual(await runTurn(backend, lines), expected, `turn ${k}: ${lines.join(' ')}`);
          await assertSameIndex(backend, model, `after turn ${k}`);
        }
        await backend.close();
        backend = backendAt(dataDir);
        await backend.open();
        await assertSameIndex(backend, model, 'read back from the file');
        // rows are written by id: a row the undo moved to another id would be left behind here
        const clearing = clearAll(model);
        assert.deepEqual(
          await runTurn(backend, clearing.map(lineOf)),
          clearing.map((step) => (model.apply(step) === 'ok' ? 'OK' : 'FAIL')),
        );
        assert.equal(model.packages.size, 0);
        await backend.close();
        backend = backendAt(dataDir);
        await backend.open();
        await assertSameIndex(backend, model, 'after removing everything, read back from the file');
        await backend.close();
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }),
    { numRuns: 50, seed: testSeed(t), includeErrorInReport: true },
  );
});
