/**
 * The PostgreSQL schema and the one statement per command. The database, not the servers, holds
 * the invariants: foreign keys make "every dependency is indexed" and "a package others depend on
 * stays" true under any interleaving of servers, and the write to a package's own row orders the
 * replacements of its dependency list. docs/postgres.md explains why each statement is safe at
 * REPEATABLE READ and what it needs from a PostgreSQL-compatible database.
 */
import { StoreOpenError } from '../errors.js';
import { CHANGE_TABLES } from './postgres-change-sql.js';
import { GRAPH_FUNCTIONS } from './postgres-graph-sql.js';
import type { SqlPool } from './postgres-pool.js';

/** The schema version this build writes; a database at a newer one is refused. */
export const SCHEMA_VERSION = 2;

/** Any fixed number: every server of every version takes this lock to migrate. */
const MIGRATION_LOCK_KEY = 0x706b6978; // "pkix"

const MIGRATIONS: ReadonlyArray<readonly string[]> = [
  [
    // "C": names sort by code point, as the read API pages them
    `CREATE TABLE IF NOT EXISTS packages (
       name text COLLATE "C" PRIMARY KEY,
       revision bigint NOT NULL DEFAULT 1,
       CONSTRAINT packages_name_valid CHECK (name ~ '^[A-Za-z0-9._+@/:~-]{1,255}$')
     )`,
    `CREATE TABLE IF NOT EXISTS dependencies (
       package text COLLATE "C" NOT NULL REFERENCES packages (name) ON DELETE CASCADE,
       dependency text COLLATE "C" NOT NULL REFERENCES packages (name) ON DELETE NO ACTION,
       PRIMARY KEY (package, dependency),
       CONSTRAINT dependencies_not_self CHECK (package <> dependency)
     )`,
    // the RESTRICT check on REMOVE and the dependents list look rows up by dependency
    'CREATE INDEX IF NOT EXISTS dependencies_dependency_idx ON dependencies (dependency, package)',
  ],
  [...CHANGE_TABLES, ...GRAPH_FUNCTIONS],
];

export interface Statement {
  /** The name `pg` prepares it under; porsager's `postgres` names its own (postgres-pool.ts). */
  readonly name: string;
  readonly text: string;
}

/**
 * [P-INDEX-1] $1 the package, $2 its distinct dependencies (text[]). The upsert always writes the
 * package row, so two concurrent INDEXes of one package conflict and one is retried, never
 * mixed; it writes `revision`, not the key, so it takes the row lock that foreign-key checks of
 * other packages' rows (KEY SHARE) do not wait for. The foreign key refuses a dependency that is
 * not indexed (23503), aborting the whole statement. Rows kept and rows added are disjoint, so
 * the order in which the CTEs run does not matter.
 *
 * The change is recorded (and its provisional number returned) only when the package was created
 * or its list changed; the row is numbered at commit (postgres-change-sql.ts).
 */
export const INDEX_STATEMENT: Statement = {
  name: 'package_indexer_index',
  text: `WITH package AS (
           INSERT INTO packages AS p (name) VALUES ($1)
           ON CONFLICT (name) DO UPDATE SET revision = p.revision + 1
           RETURNING p.name, p.revision = 1 AS created
         ), dropped AS (
           DELETE FROM dependencies WHERE package = $1 AND NOT (dependency = ANY ($2::text[]))
           RETURNING dependency
         ), added AS (
           INSERT INTO dependencies (package, dependency)
           SELECT package.name, wanted.dependency FROM package, unnest($2::text[]) AS wanted (dependency)
           ON CONFLICT (package, dependency) DO NOTHING
           RETURNING dependency
         )
         INSERT INTO changes (command, name, dependencies)
         SELECT 'INDEX', package.name, $2::text[] FROM package
         WHERE package.created OR EXISTS (SELECT FROM dropped) OR EXISTS (SELECT FROM added)
         RETURNING seq`,
};

/**
 * [P-REMOVE-1] its own dependency rows cascade; a dependent's row refuses it (23503). NO ACTION,
 * not RESTRICT: it is checked at the end of the statement, and PostgreSQL 18 reports RESTRICT as
 * 23001 where older versions said 23503. As with INDEX, a change is recorded only for a package
 * that was there.
 */
export const REMOVE_STATEMENT: Statement = {
  name: 'package_indexer_remove',
  text: `WITH removed AS (DELETE FROM packages WHERE name = $1 RETURNING name)
         INSERT INTO changes (command, name, dependencies)
         SELECT 'REMOVE', removed.name, '{}' FROM removed
         RETURNING seq`,
};

/** [P-QUERY-1] */
export const QUERY_STATEMENT: Statement = {
  name: 'package_indexer_query',
  text: 'SELECT 1 AS indexed FROM packages WHERE name = $1',
};

/** One package with both edge lists, from one snapshot. */
export const DESCRIBE_STATEMENT: Statement = {
  name: 'package_indexer_describe',
  text: `SELECT p.name,
           ARRAY(SELECT d.dependency FROM dependencies d WHERE d.package = p.name ORDER BY d.dependency) AS dependencies,
           ARRAY(SELECT d.package FROM dependencies d WHERE d.dependency = p.name ORDER BY d.package LIMIT $2) AS dependents,
           (SELECT count(*) FROM dependencies d WHERE d.dependency = p.name) AS dependents_total
         FROM packages p WHERE p.name = $1`,
};

/** $1 <= name < $2 bounds the prefix (names use no character above '~'), $3 is the cursor. */
export const LIST_STATEMENT: Statement = {
  name: 'package_indexer_list',
  text: 'SELECT name FROM packages WHERE name >= $1 AND name < $2 AND name > $3 ORDER BY name LIMIT $4',
};

export const COUNTS_STATEMENT: Statement = {
  name: 'package_indexer_counts',
  text: 'SELECT (SELECT count(*) FROM packages) AS packages, (SELECT count(*) FROM dependencies) AS dependencies',
};

/** The cheapest round trip, for telling whether the database is back. */
export const PROBE_STATEMENT: Statement = { name: 'package_indexer_probe', text: "SELECT current_setting('transaction_read_only') AS read_only" };

/**
 * Creates or upgrades the schema in one transaction under an advisory lock, so that servers
 * starting together migrate one after another and the later ones find nothing to do.
 */
export async function migrate(pool: SqlPool, location: string): Promise<void> {
  await pool.transaction(async (query) => {
    // each statement must see what a server that held the lock before us committed
    await query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await query(`CREATE TABLE IF NOT EXISTS package_indexer_schema (
                   version integer PRIMARY KEY,
                   applied_at timestamptz NOT NULL DEFAULT now()
                 )`);
    const rows = await query('SELECT coalesce(max(version), 0) AS version FROM package_indexer_schema');
    const current = Number(rows[0]?.['version'] ?? 0);
    if (current > SCHEMA_VERSION) {
      throw new StoreOpenError(
        'PI_ERR_STORE_OPEN_NEWER_SCHEMA',
        location,
        `${location} has schema version ${current}; this build knows up to ${SCHEMA_VERSION}`,
      );
    }
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      for (const statement of MIGRATIONS[version - 1] ?? []) await query(statement);
      await query('INSERT INTO package_indexer_schema (version) VALUES ($1)', [version]);
    }
  });
}

/**
 * Refuses a pool whose statements would not run at REPEATABLE READ or stronger (a connection
 * pooler that drops the session options would otherwise quietly break the INDEX statement).
 */
export async function checkIsolation(pool: SqlPool, location: string): Promise<void> {
  const [row] = await pool.query('package_indexer_isolation', 'SHOW transaction_isolation', []);
  const level = String(row?.['transaction_isolation'] ?? 'unknown');
  if (level !== 'repeatable read' && level !== 'serializable') {
    throw new StoreOpenError(
      'PI_ERR_STORE_OPEN_ISOLATION',
      location,
      `statements at ${location} run at ${level}, not repeatable read; is something between us and the database dropping the session options?`,
    );
  }
}
