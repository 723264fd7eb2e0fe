/**
 * The PostgreSQL schema and the statements beside the commands (which the batch function of
 * postgres-batch-sql.ts runs). The database, not the servers, holds
 * the invariants: foreign keys make "every dependency is indexed" and "a package others depend on
 * stays" true under any interleaving of servers, and the write to a package's own row orders the
 * replacements of its dependency list. docs/postgres.md explains why each statement is safe at
 * REPEATABLE READ and what it needs from a PostgreSQL-compatible database.
 */
import { StoreOpenError } from '../errors.js';
import { BATCH_FUNCTION_UPDATE, BATCH_FUNCTIONS } from './postgres-batch-sql.js';
import { CHANGE_TABLES } from './postgres-change-sql.js';
import { GRAPH_FUNCTIONS } from './postgres-graph-sql.js';
import type { SqlPool } from './postgres-pool.js';

/** The schema version this build writes; a database at a newer one is refused. */
export const SCHEMA_VERSION = 4;

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
  BATCH_FUNCTIONS,
  [
    ...BATCH_FUNCTION_UPDATE,
    // the same rule as version 1's, without the counted repetition {1,255}, for which PostgreSQL's
    // regular expressions build and walk a state machine per row written (docs/postgres.md).
    // NOT VALID: every stored name passed the equivalent old check, and reading the whole table
    // here would hold every server's reads and writes back for that long
    `ALTER TABLE packages DROP CONSTRAINT packages_name_valid,
       ADD CONSTRAINT packages_name_valid CHECK (length(name) BETWEEN 1 AND 255 AND name !~ '[^-A-Za-z0-9._+@/:~]') NOT VALID`,
  ],
];

export interface Statement {
  /** The name `pg` prepares it under; porsager's `postgres` names its own (postgres-pool.ts). */
  readonly name: string;
  readonly text: string;
}

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
