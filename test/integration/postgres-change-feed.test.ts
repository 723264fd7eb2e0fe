/**
 * The change feed of servers sharing one PostgreSQL: every server sees every server's committed
 * changes with the database's numbers, in an order that replays to the database's index even when
 * writers race (and lose numbers to rolled-back statements); a subscriber resumes on any server;
 * a server that fell behind the table's window says so; and the listening connection comes back
 * after a database restart or a connection that went silent.
 */
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import postgres from 'postgres';
import { startLatencyProxy } from '../../src/dev/latency-proxy.js';
import { QueryTimeoutError } from '../../src/errors.js';
import { PackageGraph } from '../../src/graph/package-graph.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { parseLine } from '../../src/protocol/parse.js';
import type { Command, Reply } from '../../src/protocol/types.js';
import type { ChangeEvent } from '../../src/store/change-log.js';
import { PostgresBackend } from '../../src/store/postgres-backend.js';
import { createPostgresJsPool } from '../../src/store/postgres-pool.js';
import { createTestBackend, startOwnTestPostgres, startPostgresIndexer, startTestPostgres, type TestPostgres } from '../helpers/postgres-harness.js';
import { RawClient, metricValue, waitFor } from '../helpers/server-harness.js';

let db: TestPostgres;
before(async () => {
  db = await startTestPostgres();
});
after(() => db?.close());

async function openBackend(t: TestContext, url: string): Promise<PostgresBackend> {
  const backend = createTestBackend(url);
  await backend.open();
  t.after(() => backend.close());
  return backend;
}

function run(backend: PostgresBackend, ...lines: string[]): Promise<Reply[]> {
  return new Promise((resolve) =>
    backend.execute(
      lines.map((line) => parseLine(line) as Command),
      resolve,
    ),
  );
}

/** Everything the backend's feed delivers from now on. */
function record(t: TestContext, backend: PostgresBackend): ChangeEvent[] {
  const seen: ChangeEvent[] = [];
  const subscription = backend.changes.subscribe(undefined, (events) => seen.push(...events));
  t.after(() => subscription.close());
  return seen;
}

async function newestSeq(url: string): Promise<number> {
  const [row] = await db.query(url, 'SELECT coalesce(max(seq), 0)::int AS seq FROM changes');
  return Number(row?.['seq']);
}

test("a change committed through one server shows in the other server's feed with the same number", async (t) => {
  const url = await db.createDatabase();
  const [one, two] = [await openBackend(t, url), await openBackend(t, url)];
  assert.equal(one.changes.epoch, two.changes.epoch);
  const [seenByOne, seenByTwo] = [record(t, one), record(t, two)];
  assert.deepEqual(await run(one, 'INDEX|a|'), ['OK']);
  assert.deepEqual(await run(two, 'INDEX|b|a', 'INDEX|b|a', 'REMOVE|a|'), ['OK', 'OK', 'FAIL']);
  assert.deepEqual(await run(one, 'REMOVE|b|'), ['OK']);
  await waitFor(() => seenByOne.length >= 3 && seenByTwo.length >= 3, 10_000, 'both feeds to carry three changes');
  assert.deepEqual(seenByTwo, seenByOne);
  assert.deepEqual(
    seenByOne.map(({ command, name, dependencies }) => [command, name, dependencies]),
    [
      ['INDEX', 'a', []],
      ['INDEX', 'b', ['a']],
      ['REMOVE', 'b', []],
    ],
  );
});

test('racing writers on two servers: both feeds carry the same changes in an order that replays to the database', async (t) => {
  const url = await db.createDatabase();
  const servers = [await openBackend(t, url), await openBackend(t, url)] as const;
  const feeds = servers.map((server) => record(t, server));
  // every client re-indexes and removes packages the others touch too, so statements conflict,
  // are retried, and leave numbers no committed row holds
  const names = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
  const client = async (k: number): Promise<void> => {
    for (let round = 0; round < 40; round++) {
      const name = names[(k + round) % names.length] as string;
      const dependency = names[(k + round + 1) % names.length] as string;
      await run(
        servers[k % 2] as PostgresBackend,
        `INDEX|${dependency}|`,
        `INDEX|${name}|${round % 3 === 0 ? '' : dependency}`,
        `REMOVE|${round % 2 === 0 ? name : dependency}|`,
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, k) => client(k)));
  const newest = await newestSeq(url);
  await waitFor(() => feeds.every((feed) => feed.at(-1)?.seq === newest), 20_000, `both feeds to reach change ${newest}`);
  assert.deepEqual(feeds[1], feeds[0]);
  const replayed = new PackageGraph();
  const events = feeds[0] ?? [];
  for (let k = 0; k < events.length; k++) {
    const event = events[k] as ChangeEvent;
    if (k > 0) assert.ok(event.seq > (events[k - 1] as ChangeEvent).seq, 'numbers increase');
    const outcome = event.command === 'INDEX' ? replayed.index(event.name, event.dependencies) : replayed.remove(event.name);
    assert.equal(outcome, 'ok', `change ${event.seq} (${event.command} ${event.name}) replays`);
  }
  const rows = await db.query(
    url,
    "SELECT p.name, coalesce(string_agg(d.dependency, ',' ORDER BY d.dependency), '') AS deps FROM packages p LEFT JOIN dependencies d ON d.package = p.name GROUP BY p.name ORDER BY p.name",
  );
  const replayedIndex = names.filter((name) => replayed.has(name)).map((name) => ({ name, deps: [...(replayed.dependenciesOf(name) ?? [])].sort().join(',') }));
  assert.deepEqual(rows, replayedIndex);
});

test('a number taken but not yet committed holds the feed back until its transaction ends, committed or rolled back', async (t) => {
  const url = await db.createDatabase();
  const metrics = createMetrics({ processMetrics: false });
  const backend = createTestBackend(url, { metrics });
  await backend.open();
  t.after(() => backend.close());
  const seen = record(t, backend);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  t.after(() => sql.end());
  for (const outcome of ['commit', 'rollback'] as const) {
    const waitsBefore = await metricValue(metrics, 'package_indexer_change_feed_gap_waits_total');
    let numbered!: () => void;
    let finish!: () => void;
    const isNumbered = new Promise<void>((resolve) => (numbered = resolve));
    const held = new Promise<void>((resolve) => (finish = resolve));
    const transaction = sql
      .begin(async (tx) => {
        await tx`INSERT INTO changes (command, name, dependencies) VALUES ('INDEX', ${`held-${outcome}`}, '{}')`;
        // numbered now rather than at commit, as a commit that is slow to finish would leave it
        await tx`SET CONSTRAINTS changes_numbered_at_commit IMMEDIATE`;
        numbered();
        await held;
        if (outcome === 'rollback') throw new Error('rolled back on purpose');
      })
      .catch(() => {});
    try {
      await isNumbered;
      assert.deepEqual(await run(backend, `INDEX|after-${outcome}|`), ['OK']);
      const deadline = Date.now() + 10_000;
      while ((await metricValue(metrics, 'package_indexer_change_feed_gap_waits_total')) === waitsBefore) {
        assert.ok(Date.now() < deadline, 'the feed stops at the missing number');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.ok(!seen.some((event) => event.name === `after-${outcome}`), 'nothing after the missing number is delivered');
    } finally {
      finish();
      await transaction;
    }
    await waitFor(() => seen.some((event) => event.name === `after-${outcome}`), 10_000, `the change after the ${outcome}`);
  }
  assert.deepEqual(
    seen.map((event) => event.name),
    ['held-commit', 'after-commit', 'after-rollback'],
  );
});

test("a subscriber resumes on another server from the database's window, and a position of another database is refused", async (t) => {
  const url = await db.createDatabase();
  const writer = await openBackend(t, url);
  await run(writer, 'INDEX|a|', 'INDEX|b|a', 'INDEX|c|b', 'REMOVE|c|');
  const newest = await newestSeq(url);
  const later = await openBackend(t, url);
  const replayed: ChangeEvent[] = [];
  const subscription = later.changes.subscribe({ epoch: writer.changes.epoch, seq: newest - 2 }, (events) => replayed.push(...events));
  t.after(() => subscription.close());
  assert.equal(subscription.resumed, true);
  assert.deepEqual(
    replayed.map(({ command, name }) => [command, name]),
    [
      ['INDEX', 'c'],
      ['REMOVE', 'c'],
    ],
  );
  const elsewhere = later.changes.subscribe({ epoch: 'another-database', seq: 1 }, () => assert.fail('nothing to replay'));
  elsewhere.close();
  assert.equal(elsewhere.resumed, false);
});

test('the change table keeps a bounded window, and a server opened later resumes within it and no further back', async (t) => {
  const url = await db.createDatabase();
  const open = async (): Promise<PostgresBackend> => {
    const backend = new PostgresBackend({ url, poolSize: 2, logger: silentLogger(), metrics: createMetrics({ processMetrics: false }), changeWindow: 10 });
    await backend.open();
    t.after(() => backend.close());
    return backend;
  };
  const writer = await open();
  const seen = record(t, writer);
  for (let round = 0; round < 20; round++) assert.deepEqual(await run(writer, `INDEX|p${round}|`, `REMOVE|p${round}|`), ['OK', 'OK']);
  await waitFor(() => seen.length === 40, 10_000, 'forty changes');
  const table = async (): Promise<{ kept: number; prunedThrough: number }> => {
    const [row] = await db.query(url, 'SELECT (SELECT count(*)::int FROM changes) AS kept, (SELECT pruned_through::int FROM package_indexer_feed) AS pruned');
    return { kept: Number(row?.['kept']), prunedThrough: Number(row?.['pruned']) };
  };
  const deadline = Date.now() + 10_000;
  while ((await table()).prunedThrough < 25) {
    assert.ok(Date.now() < deadline, 'the table is pruned');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const { kept, prunedThrough } = await table();
  assert.ok(kept >= 10 && kept <= 15, `the table keeps between one and one and a half windows (${kept})`);
  const later = await open();
  const { epoch } = later.changes;
  const resumed: ChangeEvent[] = [];
  const within = later.changes.subscribe({ epoch, seq: 35 }, (events) => resumed.push(...events));
  within.close();
  assert.equal(within.resumed, true);
  assert.deepEqual(
    resumed.map((event) => event.seq),
    [36, 37, 38, 39, 40],
  );
  const beyond = later.changes.subscribe({ epoch, seq: prunedThrough - 1 }, () => assert.fail('nothing to replay'));
  beyond.close();
  assert.equal(beyond.resumed, false);
});

test("a server that fell behind the table's window tells its subscribers, then goes on with later changes", async (t) => {
  const url = await db.createDatabase();
  const backend = await openBackend(t, url);
  await run(backend, 'INDEX|a|');
  const newest = await newestSeq(url);
  const seen: ChangeEvent[] = [];
  let losses = 0;
  const subscription = backend.changes.subscribe(
    { epoch: backend.changes.epoch, seq: newest },
    (events) => seen.push(...events),
    () => losses++,
  );
  t.after(() => subscription.close());
  // as if other servers had committed and pruned ten changes this one never read
  await db.query(url, `ALTER SEQUENCE package_indexer_change_numbers RESTART WITH ${newest + 11}`);
  await db.query(url, 'UPDATE package_indexer_feed SET pruned_through = $1', [newest + 10]);
  await run(backend, 'INDEX|b|');
  await waitFor(() => seen.length > 0, 10_000, 'the change after the loss');
  assert.equal(losses, 1);
  assert.deepEqual(
    seen.map(({ seq, name }) => [seq, name]),
    [[newest + 11, 'b']],
  );
  const stale = backend.changes.subscribe({ epoch: backend.changes.epoch, seq: newest }, () => {});
  stale.close();
  assert.equal(stale.resumed, false);
});

test("the listening connection hears other sessions' notifications, listens again after the database restarts, and runs statements", async (t) => {
  // a cluster of its own, since it is restarted
  const own = await startOwnTestPostgres();
  t.after(() => own.close());
  const url = await own.createDatabase();
  const pool = createPostgresJsPool({ url, size: 1, connectTimeoutMs: 5_000, queryTimeoutMs: 15_000 });
  const heard: string[] = [];
  let listening = 0;
  const session = pool.listen(
    'package_indexer_test',
    (payload) => heard.push(payload),
    () => listening++,
  );
  try {
    await waitFor(() => listening === 1, 10_000, 'LISTEN');
    await own.query(url, "SELECT pg_notify('package_indexer_test', 'first')");
    await waitFor(() => heard.length === 1, 10_000, 'the first notification');
    await own.stop();
    await own.start();
    await waitFor(() => listening === 2, 20_000, 'LISTEN again');
    await own.query(url, "SELECT pg_notify('package_indexer_test', 'second')");
    await waitFor(() => heard.length === 2, 10_000, 'the second notification');
    assert.deepEqual(heard, ['first', 'second']);
    assert.deepEqual([...(await session.query('SELECT $1::int AS one', [1]))], [{ one: 1 }]);
  } finally {
    await session.close();
    await pool.end();
  }
});

test('a listening connection whose server stops answering without a reset is replaced when a statement times out on it', async (t) => {
  const url = new URL(await db.createDatabase());
  const proxy = await startLatencyProxy(Number(url.port), 0);
  t.after(() => proxy.close());
  url.port = String(proxy.port);
  const pool = createPostgresJsPool({ url: url.toString(), size: 1, connectTimeoutMs: 5_000, queryTimeoutMs: 1_000 });
  let listening = 0;
  const session = pool.listen(
    'package_indexer_test',
    () => {},
    () => listening++,
  );
  try {
    await waitFor(() => listening === 1, 10_000, 'LISTEN');
    proxy.stall();
    await assert.rejects(session.query('SELECT 1 AS one', []), QueryTimeoutError);
    assert.deepEqual([...(await session.query('SELECT 2 AS two', []))], [{ two: 2 }]);
    await waitFor(() => listening === 2, 10_000, 'LISTEN again on the new connection');
  } finally {
    await session.close();
    await pool.end();
  }
});

test("two servers' admin ports stream the same change, committed through either", async (t) => {
  const url = await db.createDatabase();
  const [one, two] = [await startPostgresIndexer(t, url), await startPostgresIndexer(t, url)];
  const stream = await openStream(`http://127.0.0.1:${two.adminAddress?.port}/v1/changes`);
  t.after(() => stream.close());
  const client = await RawClient.connect(t, one.address.port);
  assert.deepEqual(await client.exchange('INDEX|zlib|', 'INDEX|curl|zlib'), ['OK', 'OK']);
  const events = await stream.read(2);
  assert.deepEqual(
    events.map((event) => [event['command'], event['name'], event['dependencies']]),
    [
      ['INDEX', 'zlib', []],
      ['INDEX', 'curl', ['zlib']],
    ],
  );
  const newest = await newestSeq(url);
  assert.equal(events[1]?.['seq'], newest);
});

/** The `change` events of a server-sent event stream, as parsed JSON. */
async function openStream(url: string): Promise<{ read(count: number): Promise<Record<string, unknown>[]>; close(): void }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const chunks = (response.body as ReadableStream<Uint8Array>)[Symbol.asyncIterator]();
  const decoder = new TextDecoder();
  const events: Record<string, unknown>[] = [];
  let text = '';
  return {
    async read(count) {
      while (events.length < count) {
        const { value, done } = await chunks.next();
        assert.ok(!done, 'the stream ended early');
        text += decoder.decode(value, { stream: true });
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(text.slice(0, end));
          if (/^event: change$/m.test(text.slice(0, end)) && data !== null) events.push(JSON.parse(data[1] as string) as Record<string, unknown>);
          text = text.slice(end + 2);
        }
      }
      return events.slice(0, count);
    },
    close: () => controller.abort(),
  };
}
