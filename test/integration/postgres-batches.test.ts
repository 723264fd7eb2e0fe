/**
 * The PostgreSQL backend sends the commands of one turn, from every connection, as one batch
 * transaction, which the batch function may end early and continue in the next. Whatever the cut,
 * the replies, the index and the recorded changes must be those of the commands run one after
 * another in arrival order, as the in-memory store runs them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { Command, Reply } from '../../src/protocol/types.js';
import type { Change } from '../../src/store/change-log.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';
import { PostgresBackend } from '../../src/store/postgres-backend.js';
import { sorted, stepArbitrary, withoutSelf, type Step } from '../helpers/index-model.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres-harness.js';
import { metricValue } from '../helpers/server-harness.js';
import { testSeed } from '../helpers/seed.js';

let db: TestPostgres;
before(async () => {
  db = await startTestPostgres();
});
after(() => db?.close());

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const CLIENTS = 4;

/** One turn: some of the clients each send a few lines at once. */
const turnArbitrary = fc.uniqueArray(
  fc.record({ client: fc.nat({ max: CLIENTS - 1 }), steps: fc.array(stepArbitrary(NAMES), { minLength: 1, maxLength: 6 }) }),
  {
    minLength: 1,
    maxLength: CLIENTS,
    selector: (entry) => entry.client,
  },
);

function commandOf(step: Step): Command {
  const sendable = withoutSelf(step);
  return sendable.kind === 'INDEX' ? { kind: 'INDEX', name: sendable.name, deps: [...sendable.deps] } : { kind: sendable.kind, name: sendable.name };
}

/** Submits every client's commands in one tick (so one batch, cut at the cap), and waits for all the replies. */
function runTurn(backend: PostgresBackend | MemoryBackend, turn: ReadonlyArray<readonly Command[]>): Promise<Reply[][]> {
  return Promise.all(turn.map((commands) => new Promise<Reply[]>((resolve) => backend.execute(commands, resolve))));
}

function changeKey(change: Change): string {
  return `${change.command} ${change.name} ${sorted(change.dependencies).join(',')}`;
}

/**
 * The in-memory store records a re-index whose list differs only in order; PostgreSQL holds the
 * list as a set of rows and records none. Returns the memory store's changes less those.
 */
function setChanges(changes: readonly Change[]): string[] {
  const lists = new Map<string, string>();
  const kept: string[] = [];
  for (const change of changes) {
    const list = sorted(change.dependencies).join(',');
    if (change.command === 'INDEX' && lists.get(change.name) === list) continue;
    if (change.command === 'INDEX') lists.set(change.name, list);
    else lists.delete(change.name);
    kept.push(changeKey(change));
  }
  return kept;
}

test('turns from several connections, cut into random batches, answer and record as the in-memory store run in the same order', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(turnArbitrary, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 8 }), async (turns, maxBatchCommands) => {
      const url = await db.createDatabase();
      const postgres = new PostgresBackend({
        url,
        poolSize: 2,
        logger: silentLogger(),
        metrics: createMetrics({ processMetrics: false }),
        maxBatchCommands,
        maxBatchesInFlight: 1,
      });
      await postgres.open();
      const memory = new MemoryBackend();
      const expectedChanges: Change[] = [];
      const subscription = memory.changes.subscribe(undefined, (events) => expectedChanges.push(...events));
      try {
        for (const [k, turn] of turns.entries()) {
          const commands = turn.map((entry) => entry.steps.map(commandOf));
          const expected = await runTurn(memory, commands);
          const label = `turn ${k}: ${turn.map((entry) => `client ${entry.client}: ${entry.steps.map((step) => `${step.kind} ${step.name}`).join(', ')}`).join(' | ')}`;
          assert.deepEqual(await runTurn(postgres, commands), expected, label);
        }
        assert.deepEqual(await postgres.exportIndex(), await memory.exportIndex());
        const rows = await db.query<Change>(url, 'SELECT command, name, dependencies FROM changes ORDER BY seq');
        assert.deepEqual(rows.map(changeKey), setChanges(expectedChanges));
      } finally {
        subscription.close();
        await postgres.close();
        await memory.close();
      }
    }),
    { numRuns: 25, seed: testSeed(t), includeErrorInReport: true },
  );
});

test('a batch beyond the first goes to the database only once the waiting commands fill it', async (t) => {
  const url = await db.createDatabase();
  const metrics = createMetrics({ processMetrics: false });
  const backend = new PostgresBackend({ url, poolSize: 4, logger: silentLogger(), metrics, maxBatchCommands: 3, maxBatchesInFlight: 3 });
  await backend.open();
  t.after(() => backend.close());
  const execute = (...names: string[]): Promise<Reply[]> =>
    new Promise((resolve) =>
      backend.execute(
        names.map((name) => ({ kind: 'QUERY', name })),
        resolve,
      ),
    );
  const inFlight = (): Promise<number> => metricValue(metrics, 'package_indexer_postgres_transactions_in_flight');
  const until = async (wanted: number): Promise<void> => {
    for (const deadline = Date.now() + 10_000; (await inFlight()) !== wanted; ) {
      if (Date.now() > deadline) throw new Error(`expected ${wanted} transactions in flight, found ${await inFlight()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  // every batch reads the packages table, so each one waits at this lock until the gate commits
  const gate = new pg.Client({ connectionString: url });
  await gate.connect();
  t.after(() => gate.end());
  await gate.query('BEGIN');
  await gate.query('LOCK TABLE packages IN ACCESS EXCLUSIVE MODE');

  const replies = [execute('a')];
  await until(1);
  replies.push(execute('b'), execute('c'));
  // two commands wait: sent now they would make a second, two-thirds empty transaction
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(await inFlight(), 1);
  replies.push(execute('d'));
  await until(2);
  await gate.query('COMMIT');
  assert.deepEqual(await Promise.all(replies), [['FAIL'], ['FAIL'], ['FAIL'], ['FAIL']]);
  assert.equal(await inFlight(), 0);
});
