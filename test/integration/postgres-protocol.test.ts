import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { PostgresBackend, classifyError } from '../../src/store/postgres-backend.js';
import { withSessionOptions, type Row, type SqlPool } from '../../src/store/postgres-pool.js';
import { isValidPackageName } from '../../src/protocol/parse.js';
import { MAX_NAME_LENGTH } from '../../src/protocol/types.js';
import { SCHEMA_VERSION, checkIsolation } from '../../src/store/postgres-schema.js';
import { createTestBackend, startPostgresIndexer, startPostgresServer, startTestPostgres, type TestPostgres } from '../helpers/postgres-harness.js';
import { RawClient, waitFor } from '../helpers/server-harness.js';

let db: TestPostgres;
before(async () => {
  db = await startTestPostgres();
});
after(() => db?.close());

function newBackend(url: string): PostgresBackend {
  return createTestBackend(url, { poolSize: 2 });
}

/** A new database with this build's schema, as a server that started and stopped leaves it. */
async function migratedDatabase(): Promise<string> {
  const url = await db.createDatabase();
  await reopen(url);
  return url;
}

/** Opens and closes a backend on `url`: it migrates the schema to this build's, if it is older. */
async function reopen(url: string): Promise<void> {
  const backend = newBackend(url);
  await backend.open();
  await backend.close();
}

test('the protocol samples get the documented replies from the PostgreSQL backend', async (t) => {
  const { port } = await startPostgresServer(t, await db.createDatabase());
  const client = await RawClient.connect(t, port);
  assert.deepEqual(
    await client.exchange(
      'INDEX|cloog|gmp,isl,pkg-config',
      'INDEX|gmp|',
      'INDEX|isl|gmp',
      'INDEX|pkg-config|',
      'INDEX|cloog|gmp,isl,pkg-config',
      'QUERY|cloog|',
      'REMOVE|gmp|',
      'REMOVE|cloog|',
      'REMOVE|cloog|',
      'QUERY|cloog|',
      'BLINDEX|x|',
    ),
    ['FAIL', 'OK', 'OK', 'OK', 'OK', 'OK', 'FAIL', 'OK', 'OK', 'FAIL', 'ERROR'],
  );
});

test('re-indexing replaces the dependency list, freeing dependencies that were dropped', async (t) => {
  const { port, backend } = await startPostgresServer(t, await db.createDatabase());
  const client = await RawClient.connect(t, port);
  assert.deepEqual(
    await client.exchange(
      'INDEX|a|',
      'INDEX|b|',
      'INDEX|c|',
      'INDEX|app|a,b',
      'REMOVE|a|',
      'INDEX|app|b,c',
      'REMOVE|a|',
      'REMOVE|b|',
      'INDEX|app|',
      'REMOVE|b|',
      'REMOVE|c|',
    ),
    ['OK', 'OK', 'OK', 'OK', 'FAIL', 'OK', 'OK', 'FAIL', 'OK', 'OK', 'OK'],
  );
  assert.deepEqual(await backend.reader.describe('app', 1_000), { name: 'app', dependencies: [], dependents: [], dependentsTotal: 0 });
  assert.deepEqual(await backend.counts(), { packages: 1, dependencies: 0 });
});

test('a failed INDEX changes nothing, not even the dependencies that exist', async (t) => {
  const { port, backend } = await startPostgresServer(t, await db.createDatabase());
  const client = await RawClient.connect(t, port);
  assert.deepEqual(await client.exchange('INDEX|a|', 'INDEX|app|a', 'INDEX|app|a,missing', 'INDEX|new|a,missing', 'QUERY|new|'), [
    'OK',
    'OK',
    'FAIL',
    'FAIL',
    'FAIL',
  ]);
  assert.deepEqual(await backend.reader.describe('app', 1_000), { name: 'app', dependencies: ['a'], dependents: [], dependentsTotal: 0 });
  assert.deepEqual(await backend.reader.describe('a', 1_000), { name: 'a', dependencies: [], dependents: ['app'], dependentsTotal: 1 });
});

test('the read API lists names in code-point order, by prefix and after a cursor', async (t) => {
  const { port, backend } = await startPostgresServer(t, await db.createDatabase());
  const client = await RawClient.connect(t, port);
  const names = ['b', 'B', 'a_b', 'a-b', 'a.b', 'ab', 'a~', 'a', 'Z', '~'];
  assert.deepEqual(
    await client.exchange(...names.map((name) => `INDEX|${name}|`)),
    names.map(() => 'OK'),
  );
  assert.deepEqual(await backend.reader.list({ prefix: '', after: '', limit: 100 }), [...names].sort());
  assert.deepEqual(await backend.reader.list({ prefix: 'a', after: '', limit: 100 }), ['a', 'a-b', 'a.b', 'a_b', 'ab', 'a~']);
  assert.deepEqual(await backend.reader.list({ prefix: 'a', after: 'a.b', limit: 2 }), ['a_b', 'ab']);
  assert.deepEqual(await backend.reader.list({ prefix: 'zz', after: '', limit: 10 }), []);
  assert.equal(await backend.reader.describe('nope', 1_000), undefined);
});

test('the database itself refuses rows that break the invariants, whoever writes them', async () => {
  const url = await migratedDatabase();
  const refused = async (sql: string): Promise<string | undefined> =>
    db.query(url, sql).then(
      () => undefined,
      (error: { code?: string }) => error.code,
    );
  assert.equal(await refused("INSERT INTO packages (name) VALUES ('bad name')"), '23514');
  assert.equal(await refused("INSERT INTO packages (name) VALUES ('')"), '23514');
  await db.query(url, "INSERT INTO packages (name) VALUES ('a')");
  assert.equal(await refused("INSERT INTO dependencies (package, dependency) VALUES ('a', 'missing')"), '23503');
  assert.equal(await refused("INSERT INTO dependencies (package, dependency) VALUES ('a', 'a')"), '23514');
});

test("the database's name check agrees with the protocol's rule, also after the upgrade that rewrote it", async () => {
  const url = await migratedDatabase();
  // back to version 3: its check, and no record of version 4
  await db.query(url, 'ALTER TABLE packages DROP CONSTRAINT packages_name_valid');
  await db.query(url, "ALTER TABLE packages ADD CONSTRAINT packages_name_valid CHECK (name ~ '^[A-Za-z0-9._+@/:~-]{1,255}$')");
  await db.query(url, 'DELETE FROM package_indexer_schema WHERE version > 3');
  await db.query(url, "INSERT INTO packages (name) VALUES ('kept-1.0')");
  await reopen(url);
  assert.deepEqual(await db.query(url, 'SELECT version FROM package_indexer_schema ORDER BY version'), allVersions());
  const [check] = await db.query(url, "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conname = 'packages_name_valid'");
  assert.doesNotMatch(String(check?.['definition']), /\{1,255\}/, 'the upgrade replaced the check');
  const allowed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+@/:~-';
  const names = [
    allowed,
    'x'.repeat(MAX_NAME_LENGTH),
    'x'.repeat(MAX_NAME_LENGTH + 1),
    '',
    '-',
    ...Array.from(' |,;!#$%&*()[]{}<>?="\'\\^`\u00e9\u00a0\t', (bad) => `a${bad}b`),
    // a character sorting inside a range of the rule, as a collation might place it
    '\u00c0',
  ];
  for (const name of names) {
    const stored = await db.query(url, 'INSERT INTO packages (name) VALUES ($1)', [name]).then(
      () => true,
      (error: { code?: string }) => (error.code === '23514' ? false : Promise.reject(error)),
    );
    assert.equal(stored, isValidPackageName(name), JSON.stringify(name));
  }
});

test('servers starting together on an empty database create the schema once', async () => {
  const url = await db.createDatabase();
  const backends = Array.from({ length: 5 }, () => newBackend(url));
  try {
    await Promise.all(backends.map((backend) => backend.open()));
    assert.deepEqual(await db.query(url, 'SELECT version FROM package_indexer_schema ORDER BY version'), allVersions());
  } finally {
    await Promise.all(backends.map((backend) => backend.close()));
  }
  await reopen(url);
  assert.deepEqual(await db.query(url, 'SELECT version FROM package_indexer_schema ORDER BY version'), allVersions());
});

/** One row per migration applied, as a database this build created holds. */
function allVersions(): { version: number }[] {
  return Array.from({ length: SCHEMA_VERSION }, (_, k) => ({ version: k + 1 }));
}

test('a database at schema version 1 is upgraded in place: its index stays, and questions and the change feed work', async (t) => {
  const url = await migratedDatabase();
  // back to what a version-1 server left: no change table, no feed row, no functions
  await db.query(url, 'DROP TABLE changes, package_indexer_feed');
  await db.query(url, 'DROP SEQUENCE package_indexer_change_numbers, package_indexer_provisional_numbers');
  for (const fn of [
    'package_indexer_number_change()',
    'package_indexer_closure(text, boolean, integer)',
    'package_indexer_path(text, text)',
    'package_indexer_install_order(text, integer)',
    'package_indexer_cycles(integer)',
  ]) {
    await db.query(url, `DROP FUNCTION ${fn}`);
  }
  await db.query(url, 'DELETE FROM package_indexer_schema WHERE version > 1');
  await db.query(url, "INSERT INTO packages (name) VALUES ('a'), ('b')");
  await db.query(url, "INSERT INTO dependencies (package, dependency) VALUES ('b', 'a')");
  const upgraded = newBackend(url);
  await upgraded.open();
  t.after(() => upgraded.close());
  assert.deepEqual(await db.query(url, 'SELECT version FROM package_indexer_schema ORDER BY version'), allVersions());
  assert.deepEqual(await upgraded.reader.installOrder('b', 10), { name: 'b', total: 2, truncated: false, order: ['a', 'b'] });
  const seen: string[] = [];
  const subscription = upgraded.changes.subscribe(undefined, (events) => seen.push(...events.map((event) => event.name)));
  t.after(() => subscription.close());
  await new Promise((resolve) => upgraded.execute([{ kind: 'INDEX', name: 'c', deps: ['b'] }], resolve));
  await waitFor(() => seen.length === 1, 10_000, 'the change feed');
  assert.deepEqual(seen, ['c']);
});

test('a database with a newer schema is refused at startup', async () => {
  const url = await migratedDatabase();
  await db.query(url, 'INSERT INTO package_indexer_schema (version) VALUES ($1)', [SCHEMA_VERSION + 1]);
  await assert.rejects(newBackend(url).open(), { code: 'PI_ERR_STORE_OPEN_NEWER_SCHEMA' });
});

test('an unreachable database fails startup with a store-unavailable error', async () => {
  const url = 'postgres://postgres:x@127.0.0.1:1/postgres';
  await assert.rejects(newBackend(url).open(), { code: 'PI_ERR_STORE_UNAVAILABLE' });
});

test('serve with a database URL runs on PostgreSQL and reports ready', async (t) => {
  const url = await db.createDatabase();
  const indexer = await startPostgresIndexer(t, url, { poolSize: 3 });
  assert.ok(indexer.backend instanceof PostgresBackend);
  assert.match(indexer.backend.description, /^postgres postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test_\w+ \(pool 3\)$/);
  const client = await RawClient.connect(t, indexer.address.port);
  assert.deepEqual(await client.exchange('INDEX|a|', 'QUERY|a|'), ['OK', 'OK']);
  assert.deepEqual(await db.query(url, 'SELECT name FROM packages'), [{ name: 'a' }]);
  assert.equal((await fetch(`http://127.0.0.1:${indexer.adminAddress?.port}/readyz`)).status, 200);
});

test("the URL's own session options are kept, and ours come after them so that ours win", () => {
  const { url, options } = withSessionOptions('postgres://u:p@db.example:5433/index?options=-c%20statement_timeout%3D5s&sslmode=disable');
  assert.equal(url, 'postgres://u:p@db.example:5433/index?sslmode=disable');
  assert.equal(options, '-c statement_timeout=5s -c default_transaction_isolation=repeatable\\ read');
});

test('the backend runs its statements at repeatable read and refuses connections that would not', async () => {
  const url = await db.createDatabase();
  const backend = newBackend(url);
  await backend.open();
  const sessions = await db.query(url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'package-indexer'");
  assert.ok((sessions[0]?.['n'] as number) >= 1);
  await backend.close();
  // a pool that dropped the session options, as a misconfigured connection pooler would
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const plain: SqlPool = {
    query: async (_name, text) => (await sql.unsafe(text)) as unknown as Row[],
    transaction: () => Promise.reject(new Error('not used')),
    listen: () => ({ query: () => Promise.reject(new Error('not used')), close: () => Promise.resolve() }),
    end: () => sql.end(),
  };
  try {
    await assert.rejects(checkIsolation(plain, 'test'), { code: 'PI_ERR_STORE_OPEN_ISOLATION' });
  } finally {
    await plain.end();
  }
});

test('database errors map to FAIL, a retry, or ERROR, and never a connection failure to FAIL', () => {
  const fromServer = (code: string): object => ({ severity: 'ERROR', code });
  assert.equal(classifyError(fromServer('23503')), 'fail');
  assert.equal(classifyError(fromServer('23001')), 'fail');
  assert.equal(classifyError(fromServer('40001')), 'retry');
  assert.equal(classifyError(fromServer('40P01')), 'retry');
  for (const code of ['57P01', '57P03', '08006', '53300', '25006']) assert.equal(classifyError(fromServer(code)), 'unavailable', code);
  for (const code of ['ECONNREFUSED', 'CONNECTION_CLOSED', 'PI_QUERY_TIMEOUT'])
    assert.equal(classifyError(Object.assign(new Error('x'), { code })), 'unavailable', code);
  assert.equal(classifyError(fromServer('42P01')), 'fault');
});
