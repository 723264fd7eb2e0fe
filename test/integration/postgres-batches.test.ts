/**
 * The PostgreSQL backend sends the commands of one turn, from every connection, as one batch
 * transaction, which the batch function may end early and continue in the next. Whatever the cut,
 * the replies, the index and the recorded changes must be those of the commands run one after
 * another in arrival order, as the in-memory store runs them. With the QUERY lane, a connection that
 * sends QUERYs only is answered beside the write batches, from one snapshot per statement: its
 * replies must be those of some state the turn passed through, never an earlier one than its
 * previous QUERY saw.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { EXIT_STATUS } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { Command, Reply } from '../../src/protocol/types.js';
import type { Change } from '../../src/store/change-log.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';
import { PostgresBackend } from '../../src/store/postgres-backend.js';
import { NaiveModel, sorted, stepArbitrary, withoutSelf, type Step } from '../helpers/index-model.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres-harness.js';
import { serveUntilExit } from '../helpers/serve-child.js';
import { metricValue } from '../helpers/server-harness.js';
import { testSeed } from '../helpers/seed.js';

let db: TestPostgres;
before(async () => {
  db = await startTestPostgres();
});
after(() => db?.close());

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const CLIENTS = 4;

const queryArbitrary = fc.record({ kind: fc.constant('QUERY' as const), name: fc.constantFrom(...NAMES) });

/** One turn: some of the clients each send a few lines at once, some of them QUERYs only. */
const turnArbitrary = fc.uniqueArray(
  fc.record({
    client: fc.nat({ max: CLIENTS - 1 }),
    steps: fc.oneof(
      { weight: 3, arbitrary: fc.array<Step>(stepArbitrary(NAMES), { minLength: 1, maxLength: 6 }) },
      { weight: 1, arbitrary: fc.array<Step>(queryArbitrary, { minLength: 1, maxLength: 4 }) },
    ),
  }),
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

function queriesOnly(commands: readonly Command[]): boolean {
  return commands.every((command) => command.kind === 'QUERY');
}

/**
 * The names indexed after each command of the turn's writing connections, run in arrival order
 * from `model`'s state (which it then holds): the states a snapshot taken during the turn can see.
 */
function statesThrough(model: NaiveModel, turn: ReadonlyArray<readonly Command[]>): Array<ReadonlySet<string>> {
  const states: Array<ReadonlySet<string>> = [new Set(model.packages.keys())];
  for (const commands of turn) {
    if (queriesOnly(commands)) continue;
    for (const command of commands) {
      model.apply(command);
      states.push(new Set(model.packages.keys()));
    }
  }
  return states;
}

/** Whether each QUERY's reply is that of a state, in order, none before the previous one's. */
function answeredFromStates(commands: readonly Command[], replies: readonly Reply[], states: ReadonlyArray<ReadonlySet<string>>): boolean {
  let state = 0;
  return commands.every((command, i) => {
    while (state < states.length && (states[state]?.has(command.name) ? 'OK' : 'FAIL') !== replies[i]) state++;
    return state < states.length;
  });
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
    fc.asyncProperty(
      fc.array(turnArbitrary, { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 8 }),
      fc.boolean(),
      async (turns, maxBatchCommands, queryLane) => {
        const url = await db.createDatabase();
        const postgres = new PostgresBackend({
          url,
          poolSize: 2,
          logger: silentLogger(),
          metrics: createMetrics({ processMetrics: false }),
          maxBatchCommands,
          maxBatchesInFlight: 1,
          queryLane,
        });
        await postgres.open();
        const memory = new MemoryBackend();
        const model = new NaiveModel();
        const expectedChanges: Change[] = [];
        const subscription = memory.changes.subscribe(undefined, (events) => expectedChanges.push(...events));
        try {
          for (const [k, turn] of turns.entries()) {
            const commands = turn.map((entry) => entry.steps.map(commandOf));
            const expected = await runTurn(memory, commands);
            const states = statesThrough(model, commands);
            // the model's states stand for the store's: where the turn ends, they must agree
            const indexed = (await memory.exportIndex()).packages.map((pkg) => pkg.name);
            assert.deepEqual(sorted(model.packages.keys()), sorted(indexed), 'the model and the in-memory store disagree');
            const label = `turn ${k}: ${turn.map((entry) => `client ${entry.client}: ${entry.steps.map((step) => `${step.kind} ${step.name}`).join(', ')}`).join(' | ')}`;
            const got = await runTurn(postgres, commands);
            commands.forEach((entry, i) => {
              if (!(queryLane && queriesOnly(entry))) assert.deepEqual(got[i], expected[i], label);
              else
                assert.ok(
                  answeredFromStates(entry, got[i] ?? [], states),
                  `${label}: client ${turn[i]?.client} got ${got[i]?.join(',')}, no state of the turn`,
                );
            });
          }
          assert.deepEqual(await postgres.exportIndex(), await memory.exportIndex());
          const rows = await db.query<Change>(url, 'SELECT command, name, dependencies FROM changes ORDER BY seq');
          assert.deepEqual(rows.map(changeKey), setChanges(expectedChanges));
        } finally {
          subscription.close();
          await postgres.close();
          await memory.close();
        }
      },
    ),
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

test('with the QUERY lane, a connection of QUERYs only is answered while a write batch waits for a lock, also with a pool of two', async (t) => {
  for (const poolSize of [4, 2]) {
    const url = await db.createDatabase();
    const metrics = createMetrics({ processMetrics: false });
    const backend = new PostgresBackend({ url, poolSize, logger: silentLogger(), metrics, queryLane: true });
    await backend.open();
    t.after(() => backend.close());
    const execute = (...commands: Command[]): Promise<Reply[]> => new Promise((resolve) => backend.execute(commands, resolve));
    assert.deepEqual(await execute({ kind: 'INDEX', name: 'a', deps: [] }), ['OK']);
    // a session holds the package's row: removing it waits for that lock, reading it does not
    const gate = new pg.Client({ connectionString: url });
    await gate.connect();
    t.after(() => gate.end());
    await gate.query('BEGIN');
    await gate.query(`SELECT FROM packages WHERE name = 'a' FOR UPDATE`);
    let timer: NodeJS.Timeout | undefined;
    try {
      let removed = false;
      const remove = execute({ kind: 'REMOVE', name: 'a' }).then((replies) => {
        removed = true;
        return replies;
      });
      for (const deadline = Date.now() + 10_000; (await metricValue(metrics, 'package_indexer_postgres_transactions_in_flight')) !== 1; ) {
        if (Date.now() > deadline) throw new Error('the REMOVE never reached the database');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // behind the waiting batch, these would wait for the gate, which commits only after them
      const read = execute({ kind: 'QUERY', name: 'a' }, { kind: 'QUERY', name: 'b' });
      const waited = new Promise<'still waiting'>((resolve) => {
        timer = setTimeout(() => resolve('still waiting'), 10_000);
      });
      assert.deepEqual(await Promise.race([read, waited]), ['OK', 'FAIL'], `pool of ${poolSize}`);
      assert.equal(removed, false);
      await gate.query('COMMIT');
      assert.deepEqual(await remove, ['OK']);
      assert.deepEqual(await execute({ kind: 'QUERY', name: 'a' }), ['FAIL']);
    } finally {
      clearTimeout(timer);
      // a failed assertion must not leave the REMOVE waiting for the lock while the backend closes
      await gate.query('ROLLBACK').catch(() => {});
    }
  }
});

test('--query-lane with a pool of one connection is refused: the lanes need one each', async (t) => {
  const result = await serveUntilExit(t, ['--database-url', 'postgres://127.0.0.1:1/none', '--pool-size', '1', '--query-lane']);
  assert.equal(result.code, EXIT_STATUS.usage, result.stderr);
  assert.match(result.stderr, /--pool-size/);
});

test('--query-lane without a database URL is refused as a setting for PostgreSQL alone', async (t) => {
  const result = await serveUntilExit(t, ['--in-memory', '--query-lane']);
  assert.equal(result.code, EXIT_STATUS.usage, result.stderr);
  assert.match(result.stderr, /--query-lane/);
});
